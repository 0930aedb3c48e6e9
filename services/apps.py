from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServicesConfig(AppConfig):
    name = "services"
    verbose_name = _("党群服务")

    def ready(self) -> None:
        # The booking engine's kinds of notification, in the shared outbox (core.notifications).
        from .notifications import register_kinds

        register_kinds()

        # Spreadsheet import/export of events (core.spreadsheets.registry).
        from . import resources  # noqa: F401

        # The cached shared parts of the event list and page follow every change (services.pagecache).
        from .pagecache import connect_signals

        connect_signals()
