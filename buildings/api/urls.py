"""API routes for districts, streets, buildings and enterprises (included by config/api_urls.py)."""

from rest_framework.routers import SimpleRouter

from .views import BuildingViewSet, DistrictViewSet, EnterpriseViewSet, PartnerViewSet, StreetViewSet

router = SimpleRouter()
router.register("districts", DistrictViewSet, basename="district")
router.register("streets", StreetViewSet, basename="street")
router.register("buildings", BuildingViewSet, basename="building")
router.register("enterprises", EnterpriseViewSet, basename="enterprise")
router.register("partners", PartnerViewSet, basename="partner")

urlpatterns = router.urls
