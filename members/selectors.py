"""Read side of members: organizations and members of a territory, and coverage conditions.

The API, the admin and the portal read through these; the joins live here, once.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from buildings.models import Building
from core.scoping import scope_queryset

from .models import PartyMember, PartyOrganization, User

#: what ``secrets.token_urlsafe`` makes; anything else is not a key (and never reaches the database)
CALENDAR_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{20,100}")


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


def calendar_token_digest(token: str) -> str:
    """What is stored of a calendar-feed key: its SHA-256 (a random 256-bit key needs no slow hash)."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_calendar_token(token: str) -> User | None:
    """The active user whose private calendar feed ``token`` opens, or None.

    The row is found by the key's digest, so the database's comparison tells nothing about
    the key, and the digest is compared once more in constant time. A value that cannot be a
    key (a NUL byte, a slash, too short) is no key, without a query.
    """
    if not isinstance(token, str) or not CALENDAR_TOKEN_RE.fullmatch(token):
        return None
    digest = calendar_token_digest(token)
    user = User.objects.filter(calendar_token_hash=digest, is_active=True).first()
    if user is None or not hmac.compare_digest(user.calendar_token_hash or "", digest):
        return None
    return user


def organization_registrations(*, organization):
    """双报到 as the member's organization sees it: that its members registered, and where."""
    from .models import HomeRegistration

    return (
        HomeRegistration.objects.filter(member__organization=organization)
        .select_related("member", "partner")
        .order_by("member__name", "-registered_on")
    )
