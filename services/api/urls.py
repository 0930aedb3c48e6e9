"""API routes for stations, spaces, events, bookings, reservations and statistics."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import (
    ActivityView,
    BookingViewSet,
    CommunityView,
    CoverageView,
    EventViewSet,
    ServiceStationViewSet,
    SpaceReservationViewSet,
    SpaceViewSet,
    VolunteerHoursView,
)

router = SimpleRouter()
router.register("stations", ServiceStationViewSet, basename="station")
router.register("spaces", SpaceViewSet, basename="space")
router.register("events", EventViewSet, basename="event")
router.register("bookings", BookingViewSet, basename="booking")
router.register("space-reservations", SpaceReservationViewSet, basename="space-reservation")

urlpatterns = [
    *router.urls,
    path("stats/coverage/", CoverageView.as_view(), name="stats-coverage"),
    path("stats/activity/", ActivityView.as_view(), name="stats-activity"),
    path("stats/community/", CommunityView.as_view(), name="stats-community"),
    path("volunteer-hours/", VolunteerHoursView.as_view(), name="volunteer-hours"),
]
