from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BuildingsConfig(AppConfig):
    name = "buildings"
    verbose_name = _("楼宇与企业")

    def ready(self) -> None:
        # Spreadsheet import/export of buildings and enterprises (core.spreadsheets.registry).
        from . import resources  # noqa: F401
