from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CommitteesConfig(AppConfig):
    name = "committees"
    verbose_name = _("楼委会")

    def ready(self) -> None:
        from buildings import figures

        from .selectors import building_has_committee

        figures.register_condition(figures.BUILDING_HAS_COMMITTEE, building_has_committee)

        # The effective risk colour (override or computed) in the enterprise admin's list.
        from .risk import labelled_colours, risk_details

        figures.register_loader(figures.ENTERPRISE_RISK_COLOUR, labelled_colours)
        # ... and on the enterprise page, with why and the override.
        figures.register_loader(figures.ENTERPRISE_RISK_DETAIL, risk_details)

        # End-of-term reminders in the shared outbox (core.notifications).
        from .notifications import register

        register()
        from . import demand_notifications

        demand_notifications.register()

        # Spreadsheet import/export of committee seats (core.spreadsheets.registry).
        from . import resources  # noqa: F401
