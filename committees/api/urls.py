"""API routes for building committees (included by config/api_urls.py)."""

from rest_framework.routers import SimpleRouter

from .views import BuildingCommitteeViewSet

router = SimpleRouter()
router.register("committees", BuildingCommitteeViewSet, basename="committee")

urlpatterns = router.urls
