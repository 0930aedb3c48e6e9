"""The employee portal: events, bookings, check-in, reservations."""

app_name = "portal"
urlpatterns: list = []
