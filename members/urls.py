"""Accounts: sign up, log in/out, password change/reset, profile.

Not namespaced: Django's auth views reverse ``login``, ``password_reset_done``,
``password_reset_confirm`` and ``password_reset_complete`` by these plain names.

Every page names its template in templates/accounts/: Django's default names
(registration/...) are also the admin's, and a portal page under such a name
would replace the admin's own (its "change password" page, for one).
"""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("login/", views.PortalLoginView.as_view(), name="login"),
    path("logout/", views.PortalLogoutView.as_view(), name="logout"),
    path("password_change/", views.PortalPasswordChangeView.as_view(), name="password_change"),
    path("password_reset/", views.PortalPasswordResetView.as_view(), name="password_reset"),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        views.PortalPasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("profile/", views.profile, name="profile"),
    path("profile/contact/", views.contact_change, name="contact_change"),
    path("profile/home-registration/", views.home_registration, name="home_registration"),
    path("email/confirm/<str:token>/", views.email_change_confirm, name="email_change_confirm"),
    path("member-link/", views.member_link_request, name="member_link_request"),
    path("calendar-token/", views.calendar_token, name="calendar_token"),
    path("autocomplete/buildings/", views.autocomplete_buildings, name="autocomplete_buildings"),
    path("autocomplete/enterprises/", views.autocomplete_enterprises, name="autocomplete_enterprises"),
]
