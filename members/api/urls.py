"""API routes for party organizations and party members (included by config/api_urls.py)."""

from rest_framework.routers import SimpleRouter

from .views import PartyMemberViewSet, PartyOrganizationViewSet

router = SimpleRouter()
router.register("party-organizations", PartyOrganizationViewSet, basename="party-organization")
router.register("party-members", PartyMemberViewSet, basename="party-member")

urlpatterns = router.urls
