"""No admin list is an oracle for a masked or secret value (core.adminkit.lookups, core.masking).

Generated over the admin site's registry, so a new admin or a new protected field is swept
without a line here:

* every registered admin has the lookup guard, and its declarations pass the guard's checks
  (no filter, sort, column, export or partial search on a protected field);
* every admin × every protected field reachable from its model (directly, or through up to
  two relations, forward or reverse: ``member__id_number``, ``user__phone``,
  ``recipient__calendar_token_hash``) × the 15 lookups an attacker would try, as a street
  social worker and as view-only district staff (and, for the secrets, a superuser): the
  list is refused (400, 403, or Django's ``?e=1`` redirect for an unknown filter) or shows
  exactly the rows it shows without the parameter;
* every link the lists offer themselves (each filter choice, the date drill-down, search,
  sorting, paging) still works, and a parameter they do not offer is refused.
"""

from __future__ import annotations

import datetime
import re

import pytest
from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import QueryDict
from django.test import Client, RequestFactory
from django.urls import resolve, reverse
from django.utils import timezone

from core.adminkit import LookupGuardMixin, protected_field_errors
from core.masking import SECRET, field_protection
from core.notifications import outbox
from members.accounts import reset_calendar_token
from members.models import PartyMember
from members.tokens import issue_token
from services.notifications import Kind
from tests.admin_helpers import make_territory

pytestmark = pytest.mark.django_db

LOOKUPS = (
    "exact",
    "iexact",
    "startswith",
    "istartswith",
    "contains",
    "icontains",
    "regex",
    "iregex",
    "gt",
    "gte",
    "lt",
    "lte",
    "range",
    "in",
    "isnull",
)
#: relations followed from an admin's model to reach a protected field
MAX_HOPS = 2

REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
ADMIN_IDS = [model._meta.label for model, _admin in REGISTRY]


def protected_paths(model, prefix: str = "", hops: int = 0, seen: tuple = ()) -> list[tuple[str, str]]:
    """(lookup path, PERSONAL/SECRET) of every protected field reachable from ``model``."""
    found = []
    for field in model._meta.get_fields():
        path = prefix + field.name
        if not field.is_relation:
            kind = field_protection(model, field.name)
            if kind and getattr(field, "concrete", False):
                found.append((path, kind))
            continue
        related = field.related_model
        if related is None or hops >= MAX_HOPS or related in seen:
            continue
        found += protected_paths(related, f"{path}__", hops + 1, (*seen, model))
    return found


def admin_url(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def refused(response) -> bool:
    if response.status_code in (400, 403):
        return True
    return response.status_code == 302 and response["Location"].endswith("?e=1")


def listed(response) -> list:
    return sorted(response.context["cl"].result_list.values_list("pk", flat=True))


@pytest.fixture
def world(street_a, street_a2, street_b, social_worker, district_staff, superuser):
    """Two of everything in street A (so a lookup that narrows a list shows), one in A2 and B."""
    territories = [
        make_territory(street_a, "甲"),
        make_territory(street_a, "丁"),
        make_territory(street_a2, "乙"),
        make_territory(street_b, "丙"),
    ]
    now = timezone.now()
    for territory in territories:
        for user in (territory.employee, territory.counselling_user):
            reset_calendar_token(user=user)
        territory.employee.party_member = territory.member
        territory.employee.save(update_fields=["party_member"])
        outbox.write(
            [
                outbox.row(
                    recipient_id=territory.booking.user_id,
                    kind=Kind.BOOKING_CONFIRMED,
                    cause=f"booking:{territory.booking.pk}",
                    due_at=now + datetime.timedelta(days=1),
                    subject=territory.booking,
                    street_id=territory.street.pk,
                    topic=f"event:{territory.booking.event_id}",
                )
            ]
        )
    for user in (social_worker, district_staff, superuser):
        reset_calendar_token(user=user)
    issue_token(user=district_staff, name="甲")
    issue_token(user=superuser, name="乙")
    return territories


def probe_value(model, path: str) -> str:
    """A real stored value at ``path`` (so that a lookup that works narrows the list)."""
    value = (
        model._default_manager.filter(**{f"{path}__isnull": False})
        .exclude(**{path: ""})
        .values_list(path, flat=True)
        .first()
    )
    return str(value) if value is not None else "1"


def probes(path: str, value: str) -> list[dict]:
    part = value[:4]
    values = {
        "exact": value,
        "iexact": value,
        "startswith": part,
        "istartswith": part,
        "contains": part,
        "icontains": part,
        "regex": "^" + re.escape(part),
        "iregex": "^" + re.escape(part),
        "gt": part,
        "gte": value,
        "lt": part,
        "lte": value,
        "range": f"{value},{value}",
        "in": value,
        "isnull": "True",
    }
    return [{f"{path}__{lookup}": values[lookup]} for lookup in LOOKUPS]


def test_every_admin_has_the_guard():
    unguarded = [
        label
        for label, (_m, a) in zip(ADMIN_IDS, REGISTRY, strict=True)
        if not isinstance(a, LookupGuardMixin)
    ]
    assert unguarded == []


@pytest.mark.parametrize(("model", "model_admin"), REGISTRY, ids=ADMIN_IDS)
def test_admin_declares_nothing_on_protected_fields(model, model_admin):
    assert [error.msg for error in protected_field_errors(model_admin)] == []


def test_every_admin_reaches_protected_fields_to_sweep():
    """The sweep below is not empty where it matters (an empty walk would prove nothing)."""
    reach = {model._meta.label: {p for p, _k in protected_paths(model)} for model, _a in REGISTRY}
    assert {"phone", "id_number", "events__id_number"} <= reach["members.PartyMember"]
    assert {"phone", "password", "calendar_token_hash", "api_tokens__key_hash"} <= reach["members.User"]
    assert {"member__id_number", "member__phone"} <= reach["members.MemberTransfer"]
    assert {"user__phone", "user__calendar_token_hash", "user__party_member__id_number"} <= reach[
        "services.Booking"
    ]
    assert {"phone", "member__id_number"} <= reach["committees.CommitteeSeat"]
    assert {"recipient__phone", "recipient__calendar_token_hash"} <= reach["notifications.Outbox"]
    assert {"prefix", "key_hash", "user__phone"} <= reach["members.ApiToken"]


def list_rows(model_admin, user, params: dict | None = None):
    """The admin's list for ``user`` with ``params``: "refused", or the ids of the rows it shows.

    The admin's own view, called directly (the sweep makes thousands of requests; the
    middleware plays no part in which lookups a list applies): a refusal is Django's
    400 (``DisallowedModelAdminLookup``), a 403, or the ``?e=1`` redirect.
    """
    request = admin_request(model_admin, user, params)
    try:
        response = model_admin.changelist_view(request)
    except (SuspiciousOperation, PermissionDenied):
        return "refused"
    except Exception as exc:  # a 500: neither a refusal nor the same list
        return f"error: {exc!r}"
    if response.status_code in (400, 403) or (
        response.status_code == 302 and response["Location"].endswith("?e=1")
    ):
        return "refused"
    assert response.status_code == 200, (model_admin, params, response.status_code)
    return sorted(response.context_data["cl"].result_list.values_list("pk", flat=True))


@pytest.mark.parametrize("who", ["social_worker", "district_staff", "superuser"])
def test_no_lookup_on_a_protected_field_changes_a_list(world, request, who):
    """Every admin × every protected field it reaches × the 15 lookups, as ``who``."""
    user = request.getfixturevalue(who)
    swept = leaks = 0
    found = []
    for model, model_admin in REGISTRY:
        rows = list_rows(model_admin, user)
        if rows == "refused":
            continue  # no list for this user at all
        for path, kind in protected_paths(model):
            if who == "superuser" and kind != SECRET:
                continue  # a superuser sees full phones and ID numbers anyway; never a secret
            for params in probes(path, probe_value(model, path)):
                swept += 1
                answer = list_rows(model_admin, user, params)
                if answer != "refused" and answer != rows:
                    leaks += 1
                    found.append((model._meta.label, params))
    assert swept > 300, "the sweep reached protected fields"
    assert found == [], f"{leaks} lookups changed a list"


def test_the_issue_attack_is_refused(world, social_worker, district_staff):
    """/admin/members/partymember/?id__exact=1&id_number__startswith=3101061991 (and the others)."""
    member = world[0].member
    for user in (social_worker, district_staff):
        client = Client()
        client.force_login(user)
        attacks = [
            ("members_partymember", {"id__exact": member.pk, "id_number__startswith": member.id_number[:10]}),
            ("members_partymember", {"phone__startswith": member.phone[:3]}),
            ("members_user", {"calendar_token_hash__startswith": "a"}),
            ("members_user", {"phone__startswith": "139"}),
            ("members_user", {"party_member__id_number__startswith": "3101"}),
            ("committees_committeeseat", {"phone__startswith": "1"}),
            ("committees_committeeseat", {"member__id_number__startswith": "3"}),
            ("members_membertransfer", {"member__id_number__startswith": "3"}),
            ("services_booking", {"user__phone__startswith": "1"}),
            ("members_partymember", {"pgh_data__phone__startswith": "1"}),
        ]
        for prefix, params in attacks:
            response = client.get(reverse(f"admin:{prefix}_changelist"), params)
            assert refused(response), (user, prefix, params, response.status_code)


def test_a_lookup_the_list_does_not_offer_is_refused(world, social_worker):
    client = Client()
    client.force_login(social_worker)
    url = reverse("admin:members_partymember_changelist")
    # Not protected, but no filter of this list produces it: refused like an unknown filter.
    response = client.get(url, {"name__startswith": "甲"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
    response = client.get(url, {"joined_on__gte": "2000-01-01"})  # what the drill-down makes, typed
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def admin_request(model_admin, user, params=None):
    url = admin_url(model_admin.model)
    request = RequestFactory().get(url, params or {})
    request.resolver_match = resolve(url)
    request.user = user
    return request


@pytest.mark.parametrize("who", ["social_worker", "superuser"])
def test_the_lists_own_links_still_work(world, request, who):
    """Every filter choice, the date drill-down, search, sorting and paging each list offers."""
    user = request.getfixturevalue(who)
    broken = []
    for model, model_admin in REGISTRY:
        if list_rows(model_admin, user) == "refused":
            continue
        changelist = model_admin.changelist_view(admin_request(model_admin, user)).context_data["cl"]
        links = [
            choice["query_string"] for spec in changelist.filter_specs for choice in spec.choices(changelist)
        ]
        if changelist.date_hierarchy:
            today = timezone.localdate()
            field = changelist.date_hierarchy
            links += [
                f"?{field}__year={today.year}",
                f"?{field}__year={today.year}&{field}__month={today.month}",
                f"?{field}__year={today.year}&{field}__month={today.month}&{field}__day={today.day}",
            ]
        links += ["?q=甲", "?o=1", "?p=1"]
        assert len(links) > 3 or not model_admin.list_filter, model
        for link in links:
            params = QueryDict(link.lstrip("?"))
            if list_rows(model_admin, user, params) == "refused":
                broken.append((model._meta.label, link))
    assert broken == []


def test_the_outbox_link_on_the_admin_index_works(world, social_worker):
    client = Client()
    client.force_login(social_worker)
    response = client.get(reverse("admin:notifications_outbox_changelist") + "?status__exact=failed")
    assert response.status_code == 200


class _CarelessMemberAdmin(LookupGuardMixin, ModelAdmin):
    """What a new admin must not declare (never registered)."""

    list_display = ("name", "phone", "id_number")
    list_filter = ("phone", ("id_number", admin.AllValuesFieldListFilter))
    search_fields = ("name", "phone", "^id_number", "user__calendar_token_hash", "=organization__name")
    date_hierarchy = "joined_on"
    ordering = ("-phone",)


def test_the_checks_refuse_a_careless_admin():
    errors = protected_field_errors(_CarelessMemberAdmin(PartyMember, admin.site))
    assert sorted({error.id for error in errors}) == [
        "adminkit.E001",
        "adminkit.E003",
        "adminkit.E004",
        "adminkit.E005",
        "adminkit.E006",
        "adminkit.E007",
    ]
    messages = " ".join(error.msg for error in errors)
    assert "members.PartyMember.phone" in messages and "members.User.calendar_token_hash" in messages
    assert "organization__name" not in messages


def test_the_checks_run_with_django_checks():
    """``manage.py check`` runs them: a careless admin fails it."""
    errors = _CarelessMemberAdmin(PartyMember, admin.site).check()
    assert any(error.id.startswith("adminkit.") for error in errors)
