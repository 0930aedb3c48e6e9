"""Helpers for the admin tests: a small city with records in three streets, and form posting."""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.contrib.admin.widgets import RelatedFieldWidgetWrapper
from django.contrib.auth.models import Permission
from django.urls import reverse

from services.models import Event
from tests.buildings.factories import BuildingFactory, EnterpriseFactory
from tests.committees.factories import (
    BuildingCommitteeFactory,
    CommitteeMeetingFactory,
    CommitteeSeatFactory,
    DemandAttachmentFactory,
    DemandFactory,
    DemandStepFactory,
    EnterpriseContactFactory,
    MeetingResolutionFactory,
    VisitFactory,
)
from tests.members.factories import (
    MemberLinkRequestFactory,
    MemberTransferFactory,
    PartyMemberFactory,
    PartyOrganizationFactory,
    UserFactory,
)
from tests.services.factories import (
    BookingFactory,
    EventFactory,
    ServiceStationFactory,
    SpaceFactory,
    SpaceReservationFactory,
)


def make_territory(street, tag: str) -> SimpleNamespace:
    """One of everything in ``street``; names carry ``tag`` so pages can be searched for them."""
    building = BuildingFactory(street=street, name=f"{tag}大厦")
    enterprise = EnterpriseFactory(building=building, name=f"{tag}科技有限公司")
    organization = PartyOrganizationFactory(street=street, name=f"{tag}联合党支部")
    organization.buildings.add(building)
    member = PartyMemberFactory(organization=organization, enterprise=enterprise, name=f"{tag}党员")
    transfer = MemberTransferFactory(
        member=member,
        to_organization=PartyOrganizationFactory(street=street, name=f"{tag}第二党支部"),
    )
    committee = BuildingCommitteeFactory(building=building)
    seat = CommitteeSeatFactory(committee=committee, person_name=f"{tag}楼长", role="building_chief")
    station = ServiceStationFactory(building=building, name=f"{tag}党群服务站")
    space = SpaceFactory(station=station, name=f"{tag}活动室")
    event = EventFactory(space=space, title=f"{tag}党课")
    employee = UserFactory(
        username=f"{tag}_employee",
        email=f"employee{street.pk}@example.com",
        building=building,
        enterprise=enterprise,
    )
    booking = BookingFactory(event=event, user=employee)
    counselling = EventFactory(
        space=space,
        title=f"{tag}心理咨询",
        kind=Event.Kind.COUNSELLING,
        capacity=1,
        starts_at=event.starts_at + datetime.timedelta(days=1),
    )
    counselling_user = UserFactory(
        username=f"{tag}_counselled", email=f"counselled{street.pk}@example.com", building=building
    )
    counselling_booking = BookingFactory(event=counselling, user=counselling_user)
    reservation = SpaceReservationFactory(
        space=space,
        organization=organization,
        requested_by=employee,
        purpose=f"{tag}主题党日",
        starts_at=event.starts_at + datetime.timedelta(days=3),
        ends_at=event.starts_at + datetime.timedelta(days=3, hours=2),
    )
    link_request = MemberLinkRequestFactory(user=employee, member=member)
    contact = EnterpriseContactFactory(
        enterprise=enterprise,
        user=UserFactory(
            username=f"{tag}_contact",
            email=f"contact{street.pk}@example.com",
            building=building,
            enterprise=enterprise,
        ),
    )
    visit = VisitFactory(enterprise=enterprise, topics=f"{tag}走访")
    demand = DemandFactory(enterprise=enterprise, submitter=employee, title=f"{tag}诉求")
    demand_step = DemandStepFactory(demand=demand)
    attachment = DemandAttachmentFactory(demand=demand)
    meeting = CommitteeMeetingFactory(committee=committee, topic=f"{tag}楼事会")
    # (its own owner: the tests delete ``seat``, which a resolution would protect)
    owner = CommitteeSeatFactory(committee=committee, person_name=f"{tag}物业", role="property_manager")
    resolution = MeetingResolutionFactory(meeting=meeting, owner=owner, demand=demand)
    return SimpleNamespace(
        meeting=meeting,
        resolution=resolution,
        contact=contact,
        visit=visit,
        demand=demand,
        demand_step=demand_step,
        attachment=attachment,
        street=street,
        building=building,
        enterprise=enterprise,
        organization=organization,
        member=member,
        transfer=transfer,
        committee=committee,
        seat=seat,
        station=station,
        space=space,
        event=event,
        employee=employee,
        booking=booking,
        counselling=counselling,
        counselling_user=counselling_user,
        counselling_booking=counselling_booking,
        reservation=reservation,
        link_request=link_request,
    )


# (attribute of the territory, admin URL prefix); one row per admin that lists territory records.
SCOPED_RECORDS = [
    ("street", "buildings_street"),
    ("building", "buildings_building"),
    ("enterprise", "buildings_enterprise"),
    ("organization", "members_partyorganization"),
    ("member", "members_partymember"),
    ("transfer", "members_membertransfer"),
    ("link_request", "members_memberlinkrequest"),
    ("employee", "members_user"),
    ("committee", "committees_buildingcommittee"),
    ("seat", "committees_committeeseat"),
    ("station", "services_servicestation"),
    ("space", "services_space"),
    ("event", "services_event"),
    ("booking", "services_booking"),
    ("reservation", "services_spacereservation"),
    ("contact", "committees_enterprisecontact"),
    ("visit", "committees_visit"),
    ("demand", "committees_demand"),
    ("demand_step", "committees_demandstep"),
    ("attachment", "committees_demandattachment"),
    ("meeting", "committees_committeemeeting"),
    ("resolution", "committees_meetingresolution"),
]


def admin_url(prefix: str, view: str, *args) -> str:
    return reverse(f"admin:{prefix}_{view}", args=args)


def changelist_pks(client, prefix: str, params: dict | None = None) -> set[int]:
    response = client.get(admin_url(prefix, "changelist"), params or {})
    assert response.status_code == 200, response.status_code
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def export_csv(client, prefix: str, params: str = "") -> str:
    """Run the CSV export action over the whole (filtered) list; return the decoded text."""
    response = client.post(
        admin_url(prefix, "changelist") + params,
        {"action": "export_csv", "select_across": "1", "index": "0", "_selected_action": ["0"]},
    )
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/csv")
    return b"".join(response.streaming_content).decode("utf-8-sig")


def run_action(client, prefix: str, action: str, pks, **extra):
    data = {"action": action, "index": "0", "_selected_action": [str(pk) for pk in pks], **extra}
    return client.post(admin_url(prefix, "changelist"), data, follow=True)


def autocomplete_ids(client, app_label: str, model_name: str, field_name: str, term: str = "") -> set[int]:
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": app_label, "model_name": model_name, "field_name": field_name, "term": term},
    )
    assert response.status_code == 200, response.status_code
    return {int(row["id"]) for row in response.json()["results"]}


def _widget_values(bound_field) -> dict:
    """What a browser would post for ``bound_field`` as rendered."""
    widget = bound_field.field.widget
    while isinstance(widget, RelatedFieldWidgetWrapper):
        widget = widget.widget
    value = bound_field.value()
    context = widget.get_context(bound_field.html_name, value, {})["widget"]
    if context.get("subwidgets"):
        return {sub["name"]: sub["value"] or "" for sub in context["subwidgets"]}
    if context.get("type") == "checkbox":
        return {bound_field.html_name: "on"} if value else {}
    rendered = context.get("value")
    if isinstance(rendered, list):
        rendered = [v for v in rendered if v not in ("", None)]
        if not getattr(widget, "allow_multiple_selected", False):
            rendered = rendered[0] if rendered else ""
    return {bound_field.html_name: "" if rendered is None else rendered}


def form_post_data(response) -> dict:
    """The POST data of an admin add/change page as rendered: main form and inline formsets."""
    data: dict = {}
    form = response.context["adminform"].form
    for bound_field in form:
        data.update(_widget_values(bound_field))
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound_field in formset.management_form:
            data[bound_field.html_name] = bound_field.value()
        for subform in formset.forms:
            for bound_field in subform:
                data.update(_widget_values(bound_field))
    return data


def grant(user, *perms: str) -> None:
    """Give ``user`` permissions named "app_label.codename" (and drop the cached set)."""
    for perm in perms:
        app_label, codename = perm.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    for cache in ("_perm_cache", "_user_perm_cache", "_group_perm_cache"):
        user.__dict__.pop(cache, None)
