"""Organizational-relationship transfers: the rules, the locks and the history."""

import datetime
import pickle
import threading

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from members.models import MemberTransfer, PartyMember, PartyOrganization
from members.transfers import (
    TransferError,
    cancel_transfer,
    complete_transfer,
    is_transferred_out,
    request_transfer,
    transferred_out_q,
)
from tests.buildings.factories import StreetFactory
from tests.members.factories import PartyMemberFactory, PartyOrganizationFactory, StaffUserFactory

pytestmark = pytest.mark.django_db

US = datetime.timedelta(microseconds=1)

IN, OUT, INTERNAL = (
    MemberTransfer.Direction.IN,
    MemberTransfer.Direction.OUT,
    MemberTransfer.Direction.INTERNAL,
)


@pytest.fixture
def org(street_a):
    return PartyOrganizationFactory(street=street_a, name="南京西路国际大厦联合党支部")


@pytest.fixture
def other_org(street_a):
    return PartyOrganizationFactory(street=street_a, name="静安某科技公司党支部")


@pytest.fixture
def member(org):
    return PartyMemberFactory(organization=org)


# What the person in front of the screen reads, per code (and per function where it differs).
MESSAGES = {
    "invalid_direction": "转接方向无效。",
    "requested_in_future": "申请日期不能晚于今天。",
    "to_organization_required": "请选择转入党组织。",
    "out_has_to_organization": "转往系统内党组织请办理系统内转接，转出只填写系统外党组织。",
    "external_not_allowed": "系统内转接不填写系统外党组织。",
    "already_pending": "该党员已有一条办理中的组织关系转接。",
    "transferred_out": "该党员的组织关系已转出，只能办理转入。",
    "same_organization": "转入党组织与当前所在党组织相同。",
    "completed_in_future": "完成日期不能晚于今天。",
    "completed_before_request": "完成日期不能早于申请日期。",
    "organization_changed": "该党员的所在党组织已变更，请撤销本次转接后重新申请。",
    "not_found": "该转接记录已不存在。",
    "member_not_found": "该党员档案已不存在。",
    "source_in_city": "该党员的组织关系仍在本市的党组织，须由其所在街道办理系统内转接。",
    ("request_transfer", "out_of_scope"): "该党员不在您负责的范围内，不能办理转接。",
    ("complete_transfer", "out_of_scope"): "接收党组织不在您负责的范围内，不能办理接收。",
    ("cancel_transfer", "out_of_scope"): "该转接不在您负责的范围内，不能撤销。",
}


def expected_message(code: str, fn, kwargs) -> str:
    if code == "external_organization_required":
        return "请填写转入来源党组织。" if kwargs["direction"] == IN else "请填写转出去向党组织。"
    if code == "not_pending":
        status = MemberTransfer.objects.get(pk=kwargs["transfer"].pk).get_status_display()
        return f"该转接的状态为“{status}”，不能再办理。"
    return MESSAGES.get((fn.__name__, code)) or MESSAGES[code]


def snapshot():
    return [
        list(model.objects.order_by("pk").values())
        for model in (MemberTransfer, PartyMember, PartyOrganization)
    ]


def refused(code: str, fn, **kwargs) -> TransferError:
    """``fn(**kwargs)`` raises TransferError(code) with its exact message and changes nothing."""
    before = snapshot()
    with pytest.raises(TransferError) as info:
        fn(**kwargs)
    assert info.value.code == code, info.value.message
    assert info.value.message == expected_message(code, fn, kwargs)
    assert snapshot() == before
    return info.value


# --- the three directions -----------------------------------------------------


def test_internal_transfer_moves_the_member(member, org, other_org, social_worker):
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    assert transfer.status == MemberTransfer.Status.PENDING
    assert transfer.from_organization == org
    assert transfer.requested_on == timezone.localdate()
    assert transfer.created_by == social_worker
    member.refresh_from_db()
    assert member.organization == org  # nothing moves until the receiving side confirms

    done = complete_transfer(transfer=transfer, by=social_worker)
    assert done.status == MemberTransfer.Status.COMPLETED
    assert done.completed_on == timezone.localdate()
    member.refresh_from_db()
    assert member.organization == other_org
    assert not is_transferred_out(member)


def test_transfer_in_from_outside(member, org, other_org, social_worker):
    transfer = request_transfer(
        member=member,
        direction=IN,
        to_organization=other_org,
        external_organization="  江苏省南京市某公司党支部 ",
        requested_on=timezone.localdate() - datetime.timedelta(days=10),
        by=social_worker,
    )
    assert transfer.from_organization is None
    assert transfer.external_organization == "江苏省南京市某公司党支部"
    complete_transfer(
        transfer=transfer, by=social_worker, completed_on=timezone.localdate() - datetime.timedelta(days=3)
    )
    member.refresh_from_db()
    assert member.organization == other_org


def test_transfer_out_keeps_the_record_and_marks_it(member, org, social_worker):
    transfer = request_transfer(
        member=member, direction=OUT, external_organization="浙江省杭州市某党支部", by=social_worker
    )
    complete_transfer(transfer=transfer, by=social_worker)
    member.refresh_from_db()
    assert member.organization == org  # organization cannot be empty; the record stays as history
    assert is_transferred_out(member)
    stay = PartyMemberFactory(organization=org)
    assert list(PartyMember.objects.filter(transferred_out_q())) == [member]
    assert list(PartyMember.objects.exclude(transferred_out_q())) == [stay]

    # gone members can only come back in
    refused(
        "transferred_out",
        request_transfer,
        member=member,
        direction=INTERNAL,
        to_organization=PartyOrganizationFactory(street=org.street),
        by=social_worker,
    )
    refused(
        "transferred_out",
        request_transfer,
        member=member,
        direction=OUT,
        external_organization="别处",
        by=social_worker,
    )
    back = request_transfer(
        member=member,
        direction=IN,
        to_organization=org,
        external_organization="浙江省杭州市某党支部",
        by=social_worker,
    )
    complete_transfer(transfer=back, by=social_worker)
    assert not is_transferred_out(member)
    assert PartyMember.objects.filter(transferred_out_q()).count() == 0


def test_the_latest_completed_transfer_is_the_one_completed_last():
    """Out, then back in with a completion dated before the departure: by completion date the
    member is still out (the record's order of entry does not decide)."""
    org = PartyOrganizationFactory()
    member = PartyMemberFactory(organization=org)
    root = StaffUserFactory(is_superuser=True)
    today = timezone.localdate()
    out = request_transfer(
        member=member, direction=OUT, external_organization="外省某党支部", requested_on=today, by=root
    )
    complete_transfer(transfer=out, by=root)
    back = request_transfer(
        member=member,
        direction=IN,
        to_organization=org,
        external_organization="外省某党支部",
        requested_on=today - datetime.timedelta(days=20),
        by=root,
    )
    # pending: the member is still out, whatever a pending transfer says
    assert is_transferred_out(member)
    assert list(PartyMember.objects.filter(transferred_out_q())) == [member]
    complete_transfer(transfer=back, by=root, completed_on=today - datetime.timedelta(days=10))
    assert back.pk > out.pk
    assert is_transferred_out(member)
    assert list(PartyMember.objects.filter(transferred_out_q())) == [member]


# --- one at a time, once ------------------------------------------------------


def test_two_pending_transfers_are_refused(member, other_org, social_worker):
    first = request_transfer(member=member, direction=INTERNAL, to_organization=other_org, by=social_worker)
    err = refused(
        "already_pending",
        request_transfer,
        member=member,
        direction=OUT,
        external_organization="外省某党支部",
        by=social_worker,
    )
    assert err.message == "该党员已有一条办理中的组织关系转接。"
    assert list(MemberTransfer.objects.filter(member=member)) == [first]
    # the database says the same to code that skips the service
    with pytest.raises(IntegrityError), transaction.atomic():
        MemberTransfer.objects.create(
            member=member,
            direction=OUT,
            from_organization=member.organization,
            external_organization="x",
            requested_on=timezone.localdate(),
        )


def test_completing_twice_is_refused(member, org, other_org, social_worker):
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    complete_transfer(transfer=transfer, by=social_worker)
    err = refused("not_pending", complete_transfer, transfer=transfer, by=social_worker)
    assert "已完成" in err.message
    refused("not_pending", cancel_transfer, transfer=transfer, by=social_worker)
    transfer.refresh_from_db()
    assert transfer.status == MemberTransfer.Status.COMPLETED


def test_cancel_leaves_member_in_place_and_frees_the_slot(member, org, other_org, social_worker):
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    cancelled = cancel_transfer(transfer=transfer, by=social_worker)
    assert cancelled.status == MemberTransfer.Status.CANCELLED
    assert cancelled.completed_on is None
    member.refresh_from_db()
    assert member.organization == org
    refused("not_pending", complete_transfer, transfer=transfer, by=social_worker)
    refused("not_pending", cancel_transfer, transfer=transfer, by=social_worker)
    again = request_transfer(member=member, direction=INTERNAL, to_organization=other_org, by=social_worker)
    assert again.pk != transfer.pk


# --- bad input ----------------------------------------------------------------


def test_bad_requests_are_refused_and_save_nothing(member, org, other_org, social_worker):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    cases = [
        ("invalid_direction", {"direction": "sideways", "to_organization": other_org}),
        ("to_organization_required", {"direction": INTERNAL}),
        ("to_organization_required", {"direction": IN, "external_organization": "外省某党支部"}),
        ("external_organization_required", {"direction": IN, "to_organization": other_org}),
        ("external_organization_required", {"direction": OUT, "external_organization": "   "}),
        (
            "out_has_to_organization",
            {"direction": OUT, "to_organization": other_org, "external_organization": "x"},
        ),
        (
            "external_not_allowed",
            {"direction": INTERNAL, "to_organization": other_org, "external_organization": "x"},
        ),
        ("same_organization", {"direction": INTERNAL, "to_organization": org}),
        (
            "requested_in_future",
            {"direction": INTERNAL, "to_organization": other_org, "requested_on": tomorrow},
        ),
    ]
    for code, kwargs in cases:
        refused(code, request_transfer, member=member, by=social_worker, **kwargs)
    assert not MemberTransfer.objects.exists()


def test_a_missing_member_or_transfer_is_refused(member, other_org, social_worker):
    refused(
        "member_not_found",
        request_transfer,
        member=PartyMember(pk=987654),
        direction=INTERNAL,
        to_organization=other_org,
        by=social_worker,
    )
    ghost = MemberTransfer(pk=987654)
    refused("not_found", complete_transfer, transfer=ghost, by=social_worker)
    refused("not_found", cancel_transfer, transfer=ghost, by=social_worker)


def test_a_transfer_error_reads_as_its_message_and_survives_pickling(member, org, social_worker):
    err = refused(
        "same_organization",
        request_transfer,
        member=member,
        direction=INTERNAL,
        to_organization=org,
        by=social_worker,
    )
    assert str(err) == "转入党组织与当前所在党组织相同。"
    assert err.args == ("same_organization", "转入党组织与当前所在党组织相同。")
    copy = pickle.loads(pickle.dumps(err))
    assert (copy.code, copy.message, copy.args) == (err.code, err.message, err.args)


def midnight(day: datetime.date) -> datetime.datetime:
    """The first instant of ``day`` in Shanghai."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-US, "requested_in_future"), (datetime.timedelta(0), "ok"), (US, "ok")],
    ids=["one microsecond before midnight", "at midnight", "one microsecond after"],
)
def test_a_request_may_be_dated_today_from_local_midnight(member, other_org, social_worker, offset, expected):
    day = timezone.localdate() - datetime.timedelta(days=30)
    kwargs = {"member": member, "direction": INTERNAL, "to_organization": other_org, "by": social_worker}
    if expected != "ok":
        refused(expected, request_transfer, requested_on=day, now=midnight(day) + offset, **kwargs)
        return
    assert request_transfer(requested_on=day, now=midnight(day) + offset, **kwargs).requested_on == day


def test_request_and_completion_dates_default_to_the_local_date_of_now(member, other_org, social_worker):
    day = timezone.localdate() - datetime.timedelta(days=30)
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker, now=midnight(day) - US
    )
    assert transfer.requested_on == day - datetime.timedelta(days=1)
    done = complete_transfer(transfer=transfer, by=social_worker, now=midnight(day))
    assert done.completed_on == day


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-US, "completed_in_future"), (datetime.timedelta(0), "ok"), (US, "ok")],
    ids=["one microsecond before midnight", "at midnight", "one microsecond after"],
)
def test_a_completion_may_be_dated_today_from_local_midnight(
    member, other_org, social_worker, offset, expected
):
    day = timezone.localdate() - datetime.timedelta(days=30)
    transfer = request_transfer(
        member=member,
        direction=INTERNAL,
        to_organization=other_org,
        requested_on=day - datetime.timedelta(days=5),
        by=social_worker,
    )
    kwargs = {"transfer": transfer, "by": social_worker, "completed_on": day, "now": midnight(day) + offset}
    if expected != "ok":
        refused(expected, complete_transfer, **kwargs)
        return
    assert complete_transfer(**kwargs).completed_on == day


def test_bad_completion_dates_are_refused(member, other_org, social_worker):
    today = timezone.localdate()
    transfer = request_transfer(
        member=member,
        direction=INTERNAL,
        to_organization=other_org,
        requested_on=today - datetime.timedelta(days=2),
        by=social_worker,
    )
    refused(
        "completed_before_request",
        complete_transfer,
        transfer=transfer,
        by=social_worker,
        completed_on=today - datetime.timedelta(days=3),
    )
    refused(
        "completed_in_future",
        complete_transfer,
        transfer=transfer,
        by=social_worker,
        completed_on=today + datetime.timedelta(days=1),
    )
    transfer.refresh_from_db()
    assert transfer.status == MemberTransfer.Status.PENDING


def test_member_moved_meanwhile_is_refused(member, org, other_org, social_worker):
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    third = PartyOrganizationFactory(street=org.street)
    PartyMember.objects.filter(pk=member.pk).update(organization=third)  # e.g. corrected in the admin
    refused("organization_changed", complete_transfer, transfer=transfer, by=social_worker)
    member.refresh_from_db()
    assert member.organization == third


def test_leaving_secretary_leaves_the_seat_empty(member, org, other_org, social_worker):
    PartyOrganization.objects.filter(pk=org.pk).update(secretary=member)
    stayer_org = PartyOrganizationFactory(street=org.street, secretary=PartyMemberFactory())
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    complete_transfer(transfer=transfer, by=social_worker)
    org.refresh_from_db()
    stayer_org.refresh_from_db()
    assert org.secretary is None
    assert stayer_org.secretary is not None


def test_leaving_clears_only_the_seat_in_the_organization_left(member, org, other_org, social_worker):
    """A member who is also secretary elsewhere keeps that seat; an organization whose secretary
    is someone else keeps its secretary when an ordinary member leaves."""
    parent = PartyOrganizationFactory(street=org.street, secretary=member)
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    complete_transfer(transfer=transfer, by=social_worker)
    parent.refresh_from_db()
    assert parent.secretary == member

    secretary = PartyMemberFactory(organization=other_org)
    PartyOrganization.objects.filter(pk=other_org.pk).update(secretary=secretary)
    leaver = PartyMemberFactory(organization=other_org)
    transfer = request_transfer(member=leaver, direction=INTERNAL, to_organization=org, by=social_worker)
    complete_transfer(transfer=transfer, by=social_worker)
    other_org.refresh_from_db()
    assert other_org.secretary == secretary


# --- scope ----------------------------------------------------------------------


def test_only_the_members_territory_may_request(member, other_org, street_a2):
    stranger = StaffUserFactory(streets=[street_a2])
    refused(
        "out_of_scope",
        request_transfer,
        member=member,
        direction=INTERNAL,
        to_organization=other_org,
        by=stranger,
    )
    refused(
        "out_of_scope",
        request_transfer,
        member=member,
        direction=OUT,
        external_organization="x",
        by=StaffUserFactory(),
    )
    assert not MemberTransfer.objects.exists()


def test_receiving_side_completes_a_cross_street_transfer(member, social_worker, street_b, district_staff):
    receiving_org = PartyOrganizationFactory(street=street_b, name="陆家嘴某金融公司党支部")
    receiver = StaffUserFactory(streets=[street_b])
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=receiving_org, by=social_worker
    )
    # the sending social worker and the sending district cannot confirm receipt elsewhere
    refused("out_of_scope", complete_transfer, transfer=transfer, by=social_worker)
    refused("out_of_scope", complete_transfer, transfer=transfer, by=district_staff)
    complete_transfer(transfer=transfer, by=receiver)
    member.refresh_from_db()
    assert member.organization == receiving_org


def test_receiving_side_may_register_a_transfer_in(street_b):
    """A member who left the city (their last transfer took them out) comes back "in" to a
    street that did not hold them."""
    receiving_org = PartyOrganizationFactory(street=street_b)
    receiver = StaffUserFactory(streets=[street_b])
    old_street = StreetFactory()
    newcomer = PartyMemberFactory(organization=PartyOrganizationFactory(street=old_street))
    sender = StaffUserFactory(streets=[old_street])
    left = request_transfer(
        member=newcomer, direction=OUT, external_organization="四川省成都市某党支部", by=sender
    )
    complete_transfer(transfer=left, by=sender)
    transfer = request_transfer(
        member=newcomer,
        direction=IN,
        to_organization=receiving_org,
        external_organization="四川省成都市某党支部",
        by=receiver,
    )
    complete_transfer(transfer=transfer, by=receiver)
    newcomer.refresh_from_db()
    assert newcomer.organization == receiving_org


def test_transfer_in_does_not_take_a_member_held_elsewhere_in_the_city(street_b):
    """Issue 14: with only the destination in scope, "in" took a member of any street of the city.
    The member's own street moves them (internal), the destination street then completes."""
    receiving_org = PartyOrganizationFactory(street=street_b)
    receiver = StaffUserFactory(streets=[street_b])
    held = StreetFactory()
    member = PartyMemberFactory(organization=PartyOrganizationFactory(street=held))
    refused(
        "source_in_city",
        request_transfer,
        member=member,
        direction=IN,
        to_organization=receiving_org,
        external_organization="随便填的来源",
        by=receiver,
    )
    assert not MemberTransfer.objects.exists()
    member.refresh_from_db()
    assert member.organization.street == held
    # The way it is done: the holding street sends, the receiving street completes.
    sent = request_transfer(
        member=member, direction=INTERNAL, to_organization=receiving_org, by=StaffUserFactory(streets=[held])
    )
    complete_transfer(transfer=sent, by=receiver)
    member.refresh_from_db()
    assert member.organization == receiving_org


def test_either_side_may_cancel_but_strangers_may_not(member, social_worker, street_b, street_a2):
    receiving_org = PartyOrganizationFactory(street=street_b)
    receiver = StaffUserFactory(streets=[street_b])
    first = request_transfer(
        member=member, direction=INTERNAL, to_organization=receiving_org, by=social_worker
    )
    refused("out_of_scope", cancel_transfer, transfer=first, by=StaffUserFactory(streets=[street_a2]))
    cancel_transfer(transfer=first, by=receiver)
    second = request_transfer(
        member=member, direction=INTERNAL, to_organization=receiving_org, by=social_worker
    )
    cancel_transfer(transfer=second, by=social_worker)
    assert set(MemberTransfer.objects.values_list("status", flat=True)) == {"cancelled"}


def test_superuser_may_do_everything(member, other_org, superuser):
    transfer = request_transfer(member=member, direction=INTERNAL, to_organization=other_org, by=superuser)
    complete_transfer(transfer=transfer, by=superuser)


# --- history --------------------------------------------------------------------


def test_history_records_who_did_what(member, org, other_org, social_worker):
    TransferEvent = apps.get_model("members", "MemberTransferEvent")
    MemberEvent = apps.get_model("members", "PartyMemberEvent")

    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    complete_transfer(transfer=transfer, by=social_worker)

    events = list(TransferEvent.objects.filter(pgh_obj=transfer).order_by("pgh_id"))
    assert [(e.pgh_label, e.status) for e in events] == [("insert", "pending"), ("update", "completed")]
    assert [e.pgh_context.metadata["action"] for e in events] == [
        "members.request_transfer",
        "members.complete_transfer",
    ]
    assert {e.pgh_context.metadata["user"] for e in events} == {social_worker.pk}

    moved = MemberEvent.objects.filter(pgh_obj=member, pgh_label="update").order_by("-pgh_id").first()
    assert moved.organization_id == other_org.pk
    assert moved.pgh_context.metadata == {"user": social_worker.pk, "action": "members.complete_transfer"}


def test_history_records_who_cancelled(member, other_org, social_worker):
    TransferEvent = apps.get_model("members", "MemberTransferEvent")
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    cancel_transfer(transfer=transfer, by=social_worker)
    last = TransferEvent.objects.filter(pgh_obj=transfer).order_by("-pgh_id").first()
    assert (last.pgh_label, last.status) == ("update", "cancelled")
    assert last.pgh_context.metadata == {"user": social_worker.pk, "action": "members.cancel_transfer"}


def test_refused_action_leaves_no_history(member, other_org, social_worker):
    TransferEvent = apps.get_model("members", "MemberTransferEvent")
    request_transfer(member=member, direction=INTERNAL, to_organization=other_org, by=social_worker)
    before = TransferEvent.objects.count()
    refused(
        "already_pending",
        request_transfer,
        member=member,
        direction=INTERNAL,
        to_organization=other_org,
        by=social_worker,
    )
    assert TransferEvent.objects.count() == before


# --- concurrency ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_completions_complete_once(street_a):
    org = PartyOrganizationFactory(street=street_a)
    target = PartyOrganizationFactory(street=street_a)
    member = PartyMemberFactory(organization=org)
    worker = StaffUserFactory(streets=[street_a])
    transfer = request_transfer(member=member, direction=INTERNAL, to_organization=target, by=worker)

    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run():
        try:
            barrier.wait()
            complete_transfer(transfer=MemberTransfer.objects.get(pk=transfer.pk), by=worker)
            result = "ok"
        except TransferError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["not_pending", "not_pending", "not_pending", "ok"]
    TransferEvent = apps.get_model("members", "MemberTransferEvent")
    assert TransferEvent.objects.filter(pgh_obj_id=transfer.pk, status="completed").count() == 1


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_leave_one_pending(street_a):
    org = PartyOrganizationFactory(street=street_a)
    targets = [PartyOrganizationFactory(street=street_a) for _ in range(4)]
    member = PartyMemberFactory(organization=org)
    worker = StaffUserFactory(streets=[street_a])
    barrier = threading.Barrier(4)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(target):
        try:
            barrier.wait()
            request_transfer(member=member, direction=INTERNAL, to_organization=target, by=worker)
            result = "ok"
        except TransferError as exc:
            result = exc.code
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["already_pending"] * 3 + ["ok"]
    assert MemberTransfer.objects.filter(member=member, status="pending").count() == 1


# --- the fallback paths (mutation testing, issue 20) --------------------------


def test_a_request_without_a_note_has_an_empty_note(member, other_org, social_worker):
    transfer = request_transfer(
        member=member, direction=INTERNAL, to_organization=other_org, by=social_worker
    )
    assert MemberTransfer.objects.get(pk=transfer.pk).note == ""
    noted = request_transfer(
        member=PartyMemberFactory(organization=member.organization),
        direction=INTERNAL,
        to_organization=other_org,
        note="  因工作调动 ",
        by=social_worker,
    )
    assert MemberTransfer.objects.get(pk=noted.pk).note == "  因工作调动 "


def test_a_request_the_model_finds_invalid_is_refused_with_the_models_messages(member, social_worker):
    """What the service does not check itself (here the external organization's length: 150
    characters) the model's validation refuses, with the model's messages, and nothing is saved."""
    with pytest.raises(TransferError) as info:
        request_transfer(member=member, direction=OUT, external_organization="外" * 151, by=social_worker)
    assert info.value.code == "invalid"
    assert info.value.message == "确保该变量包含不超过 150 字符 (目前字符数 151)。"
    assert not MemberTransfer.objects.exists()
    ok = request_transfer(member=member, direction=OUT, external_organization="外" * 150, by=social_worker)
    assert ok.external_organization == "外" * 150


def test_several_invalid_fields_are_named_in_one_refusal(member, social_worker, monkeypatch):
    """Each of the model's messages, joined by a Chinese semicolon."""
    from django.core.exceptions import ValidationError

    def full_clean(self, exclude=None):
        assert sorted(exclude) == ["created_by", "member"]
        raise ValidationError({"note": ["第一条"], "external_organization": ["第二条"]})

    monkeypatch.setattr(MemberTransfer, "full_clean", full_clean)
    with pytest.raises(TransferError) as info:
        request_transfer(member=member, direction=OUT, external_organization="外省", by=social_worker)
    assert (info.value.code, info.value.message) == ("invalid", "第一条；第二条")
    assert not MemberTransfer.objects.exists()


def test_a_pending_transfer_that_slips_past_the_check_is_refused_by_the_index(
    member, other_org, social_worker, monkeypatch
):
    """Another writer inserting between the check and the insert: the partial unique index
    refuses, and the refusal is the same as the check's."""
    from django.db.models import QuerySet

    first = request_transfer(member=member, direction=INTERNAL, to_organization=other_org, by=social_worker)
    exists = QuerySet.exists
    monkeypatch.setattr(QuerySet, "exists", lambda qs: False if qs.model is MemberTransfer else exists(qs))
    err = refused(
        "already_pending",
        request_transfer,
        member=member,
        direction=OUT,
        external_organization="外省某党支部",
        by=social_worker,
    )
    assert isinstance(err.__cause__, IntegrityError)
    assert list(MemberTransfer.objects.filter(member=member)) == [first]


def test_a_member_is_transferred_out_only_by_their_own_transfers(member, org, social_worker):
    stay = PartyMemberFactory(organization=org)
    gone = request_transfer(
        member=member, direction=OUT, external_organization="外省某党支部", by=social_worker
    )
    complete_transfer(transfer=gone, by=social_worker)
    assert is_transferred_out(member)
    assert not is_transferred_out(stay)
