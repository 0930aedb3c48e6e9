"""URLs of the portal's notification list, mounted at /notifications/ by config/urls.py."""

from django.urls import path

from . import notification_views as views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read-all/", views.notification_mark_all_read, name="read_all"),
]
