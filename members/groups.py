"""The two staff groups and their model permissions.

* 街道社工 (street social worker): keeps the street's records — buildings,
  enterprises, party organizations, members, transfers, committees and seats,
  stations, spaces, events, space reservations; decides link requests; sees
  and cancels bookings (bookings themselves are made by people in the portal);
  watches the street's notification outbox and sends failed ones again.
* 区级工作人员 (district staff): reads everything of the district (the
  notification outbox included) and keeps its building and enterprise records.
* 共建单位工作人员 (a community partner's staff, ``User.partner``): sees its own unit,
  places, their events and bookings (and checks people in), its pairings and the party
  members registered with it (双报到); ``partner_path`` in core.scoping keeps them to it.

What a member of either group sees is further limited to their territory
(``buildings.selectors.scope_queryset``). Neither group may delete members or
bookings, see full phones and ID numbers (``members.view_personal_data``) or
counselling bookers (``services.view_confidential``): a superuser grants those
to named people.

``ensure_groups`` runs after every ``migrate`` (members/apps.py) and from
``manage.py setup_groups``. It only adds permissions, so a superuser's additions
survive; ``reset=True`` sets each group to exactly this list.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import Group, Permission
from django.db.models import Q

logger = logging.getLogger(__name__)

SOCIAL_WORKER = "街道社工"
DISTRICT_STAFF = "区级工作人员"
PARTNER_STAFF = "共建单位工作人员"

VIEW = ("view",)
KEEP = ("add", "change", "view")

SOCIAL_WORKER_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "buildings.district": VIEW,
    "buildings.street": VIEW,
    "buildings.building": KEEP,
    "buildings.enterprise": KEEP,
    "buildings.partner": KEEP,
    "members.partyorganization": KEEP,
    "members.partymember": KEEP,
    "members.membertransfer": KEEP,
    "members.memberlinkrequest": ("change", "view"),
    "members.user": ("change", "view"),
    "members.homeregistration": VIEW,
    "committees.buildingcommittee": KEEP,
    # A seat entered by mistake is removed from the committee's page.
    "committees.committeeseat": (*KEEP, "delete"),
    # The committee's work (committees/demands.py): categories are the city's data (superusers keep
    # them); visits and demands raised during them; a demand's transitions go through the write
    # functions, its timeline and attachments are written by them.
    "committees.demandcategory": VIEW,
    "committees.enterprisecontact": (*KEEP, "delete"),
    "committees.visit": KEEP,
    "committees.demand": KEEP,
    # The risk colour override is written by committees/risk.py (with change_demand), never by the admin form.
    "committees.enterpriseriskoverride": VIEW,
    "committees.demandstep": VIEW,
    "committees.demandattachment": ("add", "view"),
    "committees.committeemeeting": KEEP,
    "committees.meetingresolution": KEEP,
    "committees.agreement": KEEP,
    "committees.agreementcommitment": (*KEEP, "delete"),
    "services.servicestation": KEEP,
    "services.space": KEEP,
    "services.event": KEEP,
    "services.booking": ("change", "view"),
    "services.spacereservation": KEEP,
    "services.volunteerproject": KEEP,
    "services.pairing": VIEW,
    "services.volunteerhours": ("change", "view"),
    "services.hourscorrection": VIEW,
    # The street's notification outbox: watch deliveries and "send again" (core/notifications/admin.py);
    # rows are written by the apps' write functions only, so no add or delete.
    "notifications.outbox": ("change", "view"),
}

DISTRICT_STAFF_PERMISSIONS: dict[str, tuple[str, ...]] = {
    **{model: VIEW for model in SOCIAL_WORKER_PERMISSIONS},
    "buildings.building": KEEP,
    "buildings.enterprise": KEEP,
}

PARTNER_STAFF_PERMISSIONS: dict[str, tuple[str, ...]] = {
    "buildings.partner": VIEW,
    "committees.agreement": VIEW,
    "committees.agreementcommitment": VIEW,
    "members.homeregistration": VIEW,
    "services.servicestation": VIEW,
    "services.space": VIEW,
    "services.event": KEEP,
    "services.booking": ("change", "view"),
    "services.volunteerproject": KEEP,
    "services.pairing": KEEP,
    "services.volunteerhours": ("change", "view"),
    "services.hourscorrection": VIEW,
}

GROUPS: dict[str, dict[str, tuple[str, ...]]] = {
    SOCIAL_WORKER: SOCIAL_WORKER_PERMISSIONS,
    DISTRICT_STAFF: DISTRICT_STAFF_PERMISSIONS,
    PARTNER_STAFF: PARTNER_STAFF_PERMISSIONS,
}


def _permission_q(spec: dict[str, tuple[str, ...]]) -> Q:
    q = Q(pk__in=[])
    for label, actions in spec.items():
        app_label, model = label.split(".")
        q |= Q(
            content_type__app_label=app_label,
            content_type__model=model,
            codename__in=[f"{action}_{model}" for action in actions],
        )
    return q


def expected_codenames(name: str) -> set[str]:
    """``app_label.codename`` of every permission the group ``name`` is meant to have."""
    return {
        f"{label.split('.')[0]}.{action}_{label.split('.')[1]}"
        for label, actions in GROUPS[name].items()
        for action in actions
    }


def ensure_groups(*, reset: bool = False) -> None:
    """Create the staff groups and give them their permissions (idempotent)."""
    for name, spec in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        permissions = list(Permission.objects.filter(_permission_q(spec)).select_related("content_type"))
        missing = expected_codenames(name) - {f"{p.content_type.app_label}.{p.codename}" for p in permissions}
        if missing:
            # Before all apps have migrated some permissions do not exist yet; the
            # post_migrate of the last app fills them in.
            logger.debug("Group %s: permissions not created yet: %s", name, sorted(missing))
        if reset:
            group.permissions.set(permissions)
        else:
            group.permissions.add(*permissions)
