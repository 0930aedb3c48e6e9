"""API routes for building committees (included by config/api_urls.py)."""

from rest_framework.routers import SimpleRouter

from .views import AgreementViewSet, BuildingCommitteeViewSet

router = SimpleRouter()
router.register("committees", BuildingCommitteeViewSet, basename="committee")
router.register("agreements", AgreementViewSet, basename="agreement")

urlpatterns = router.urls
