"""Portal URLs for enterprise demands (included from config/urls.py under /demands/)."""

from django.urls import path

from . import views

app_name = "demands"
urlpatterns = [
    path("", views.my_demands, name="mine"),
    path("new/", views.demand_new, name="new"),
    path("<int:pk>/", views.demand_detail, name="detail"),
    path("<int:pk>/<str:action>/", views.demand_action, name="action"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
]
