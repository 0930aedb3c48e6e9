"""API routes for building committees (included by config/api_urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    AgreementViewSet,
    BuildingCommitteeViewSet,
    CommitteeMeetingViewSet,
    DemandStatsView,
    DemandViewSet,
    EnterpriseRiskViewSet,
    VisitViewSet,
)

router = SimpleRouter()
router.register("committees", BuildingCommitteeViewSet, basename="committee")
router.register("demands", DemandViewSet, basename="demand")
router.register("visits", VisitViewSet, basename="visit")
router.register("committee-meetings", CommitteeMeetingViewSet, basename="committee-meeting")
router.register("agreements", AgreementViewSet, basename="agreement")
router.register("enterprise-risk", EnterpriseRiskViewSet, basename="enterprise-risk")

urlpatterns = [*router.urls, path("stats/demands/", DemandStatsView.as_view(), name="stats-demands")]
