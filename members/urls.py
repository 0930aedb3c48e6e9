"""Accounts: sign up, log in/out, password change/reset, profile."""

urlpatterns: list = []
