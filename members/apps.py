from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

# The apps whose permissions the staff groups hold (see members/groups.py).
_GROUP_APPS = {"notifications", "buildings", "members", "committees", "services"}


def _ensure_groups(sender, using="default", **kwargs) -> None:
    """After migrate, the staff groups exist with their permissions."""
    if getattr(sender, "label", None) not in _GROUP_APPS:
        return
    from .groups import ensure_groups

    ensure_groups()


class MembersConfig(AppConfig):
    name = "members"
    verbose_name = _("党组织与党员")

    def ready(self) -> None:
        post_migrate.connect(_ensure_groups, dispatch_uid="members.ensure_groups")
        from buildings import figures

        from .selectors import building_has_party_organization, enterprise_has_party_organization

        figures.register_condition(figures.BUILDING_HAS_PARTY_ORGANIZATION, building_has_party_organization)
        figures.register_condition(
            figures.ENTERPRISE_HAS_PARTY_ORGANIZATION, enterprise_has_party_organization
        )

        # Spreadsheet import/export of organizations and members (core.spreadsheets.registry).
        from . import resources  # noqa: F401
