"""The employee portal: events, bookings, calendar files, check-in, stations and reservations."""

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("events/<int:pk>/", views.event_detail, name="event_detail"),
    path("events/<int:pk>/book/", views.event_book, name="event_book"),
    path("bookings/", views.my_bookings, name="my_bookings"),
    path("bookings/<int:pk>/", views.booking_detail, name="booking_detail"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="booking_cancel"),
    path("bookings/<int:pk>/calendar.ics", views.booking_calendar, name="booking_calendar"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar_feed"),
    path("checkin/", views.checkin, name="checkin"),
    path("stations/", views.station_list, name="station_list"),
    path("stations/<int:pk>/", views.station_detail, name="station_detail"),
    path("stations/<int:pk>/reserve/", views.reservation_request, name="reservation_request"),
    path("reservations/", views.my_reservations, name="my_reservations"),
    path("reservations/<int:pk>/cancel/", views.reservation_cancel, name="reservation_cancel"),
    path("volunteering/", views.volunteer_record, name="volunteer_record"),
    path("partner/members/", views.partner_members, name="partner_members"),
]
