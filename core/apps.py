from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "核心"

    def ready(self) -> None:
        # The lookup guard on the admins Django and third-party apps registered before this
        # app is ready (core.adminkit.lookups); the portal's own admins have it already.
        from django.contrib import admin

        from core.adminkit.lookups import guard_registered_admins

        guard_registered_admins(admin.site)
