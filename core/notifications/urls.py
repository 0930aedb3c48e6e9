"""URLs of the portal's notification list, mounted at /notifications/ by config/urls.py (the bell)."""

from django.urls import path

from . import views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.notification_mark_all_read, name="read_all"),
]
