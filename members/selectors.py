"""Read side of members: organizations and members of a territory, and coverage conditions.

The API, the admin and the portal read through these; the joins live here, once.
"""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from buildings.models import Building
from core.scoping import scope_queryset

from .models import PartyMember, PartyOrganization


def building_has_party_organization() -> Q:
    """ "This building has a party organization": one covers it (joint), or an enterprise in it has
    its own. For filters and aggregates on buildings (registered in buildings/figures.py)."""
    building = OuterRef("pk")
    covering = PartyOrganization.buildings.through.objects.filter(building_id=building)
    standalone = PartyOrganization.objects.filter(enterprise__building_id=building)
    return Q(Exists(covering)) | Q(Exists(standalone))


def enterprise_has_party_organization() -> Q:
    """ "This enterprise has its own party organization", for filters on enterprises."""
    return Q(Exists(PartyOrganization.objects.filter(enterprise=OuterRef("pk"))))


def organization_list(*, user) -> QuerySet[PartyOrganization]:
    """The territory's organizations with what a list shows: street, parent, enterprise, secretary,
    the covered buildings inside the territory (``visible_buildings``) and the member count."""
    qs = (
        PartyOrganization.objects.select_related(
            "street__district",
            "parent__street",
            "enterprise__building__street",
            "secretary__organization__street",
        )
        .prefetch_related(
            Prefetch(
                "buildings",
                queryset=scope_queryset(Building.objects.only("id", "name", "street_id"), user),
                to_attr="visible_buildings",
            )
        )
        .annotate(member_count=Count("members", distinct=True))
    )
    return scope_queryset(qs, user)


def member_list(*, user) -> QuerySet[PartyMember]:
    """The territory's party members with their organization and employer."""
    qs = PartyMember.objects.select_related("organization__street__district", "enterprise__building__street")
    return scope_queryset(qs, user)
