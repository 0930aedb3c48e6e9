"""Space reservations (services/reservations.py): who may ask and decide, and no double booking of a room."""

import datetime
import pickle
import threading

import pytest
from django.db import connection
from django.utils import timezone

from services import reservations
from services.models import Event, Space, SpaceOccupancy, SpaceReservation
from services.reservations import ReservationError
from tests.concurrency import held_elsewhere
from tests.members.factories import (
    PartyMemberFactory,
    PartyOrganizationFactory,
    SocialWorkerFactory,
    StaffUserFactory,
    UserFactory,
)
from tests.services.factories import EventFactory, SpaceFactory, SpaceReservationFactory

H = datetime.timedelta(hours=1)
US = datetime.timedelta(microseconds=1)


def at(hours: float) -> datetime.datetime:
    base = (timezone.now() + datetime.timedelta(days=4)).replace(minute=0, second=0, microsecond=0)
    return base + datetime.timedelta(hours=hours)


def event_at(space, start_h, end_h, **kwargs) -> Event:
    starts, ends = at(start_h), at(end_h)
    return EventFactory(
        space=space,
        starts_at=starts,
        ends_at=ends,
        booking_opens_at=starts - datetime.timedelta(days=7),
        booking_closes_at=starts,
        cancel_deadline=starts - H,
        **kwargs,
    )


def state():
    return (
        list(SpaceReservation.objects.order_by("pk").values()),
        list(SpaceOccupancy.objects.order_by("pk").values()),
    )


def assert_refused(code, message, action):
    before = state()
    with pytest.raises(ReservationError) as info:
        action()
    assert info.value.code == code
    assert str(info.value.message) == message
    assert state() == before


@pytest.fixture
def space(street_a):
    return SpaceFactory(station__building__street=street_a, capacity=30, name="多功能活动室")


@pytest.fixture
def organization(street_a):
    org = PartyOrganizationFactory(street=street_a, name="静安嘉里中心联合党支部")
    org.secretary = PartyMemberFactory(organization=org)
    org.save()
    return org


@pytest.fixture
def secretary(organization):
    return UserFactory(party_member=organization.secretary)


def ask(user, organization, space, start_h=0, end_h=2, **overrides):
    kwargs = {
        "user": user,
        "organization": organization,
        "space": space,
        "starts_at": at(start_h),
        "ends_at": at(end_h),
        "purpose": "支部主题党日",
        "attendees": 20,
    }
    kwargs.update(overrides)
    return reservations.request_reservation(**kwargs)


# --- request ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_secretary_requests_a_space(secretary, organization, space):
    reservation = ask(secretary, organization, space, purpose="  支部主题党日  ")
    reservation.refresh_from_db()
    assert reservation.status == SpaceReservation.Status.REQUESTED
    assert (reservation.requested_by, reservation.organization, reservation.space) == (
        secretary,
        organization,
        space,
    )
    assert reservation.purpose == "支部主题党日"
    assert not SpaceOccupancy.objects.exists()  # a request holds nothing yet


@pytest.mark.django_db
def test_staff_in_scope_may_request_on_behalf_of_the_organization(social_worker, organization, space):
    assert ask(social_worker, organization, space).status == SpaceReservation.Status.REQUESTED


@pytest.mark.django_db
def test_others_may_not_request(organization, space, street_b):
    plain_member = UserFactory(party_member=PartyMemberFactory(organization=organization))
    other_secretary = UserFactory(party_member=PartyMemberFactory())
    PartyOrganizationFactory(secretary=other_secretary.party_member)
    # staff of the space's street without the permission to add reservations
    no_permission = StaffUserFactory(username="no_add_permission", streets=[space.station.street])
    others = (
        UserFactory(),
        plain_member,
        other_secretary,
        StaffUserFactory(streets=[street_b]),
        no_permission,
    )
    for user in others:
        assert_refused(
            "not_secretary",
            "只有该党组织的书记或负责该服务站的社工可以申请使用场地。",
            lambda u=user: ask(u, organization, space),
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"purpose": "   "}, "purpose_required", "请填写用途。"),
        ({"purpose": None}, "purpose_required", "请填写用途。"),
        ({"purpose": ""}, "purpose_required", "请填写用途。"),
        ({"purpose": "长" * 201}, "purpose_too_long", "用途不能超过200个字。"),
        ({"start_h": 2, "end_h": 2}, "invalid_period", "结束时间必须晚于开始时间。"),
        ({"start_h": 3, "end_h": 1}, "invalid_period", "结束时间必须晚于开始时间。"),
        ({"start_h": -200, "end_h": -199}, "in_past", "不能预约已经开始或过去的时段。"),
        ({"attendees": 0}, "attendees_invalid", "预计人数必须大于0。"),
        ({"attendees": 31}, "too_many_attendees", "预计人数超过空间容纳人数（30人）。"),
    ],
)
def test_bad_requests_are_refused_with_a_clear_message(
    secretary, organization, space, overrides, code, message
):
    assert_refused(code, message, lambda: ask(secretary, organization, space, **overrides))


@pytest.mark.django_db
def test_the_limits_themselves_are_allowed(secretary, organization, space):
    """One attendee, exactly the room's capacity, a purpose of exactly 200 characters."""
    for start_h, overrides in ((0, {"attendees": 1}), (3, {"attendees": 30}), (6, {"purpose": "长" * 200})):
        reservation = ask(secretary, organization, space, start_h, start_h + 2, **overrides)
        reservation.refresh_from_db()
        assert (reservation.attendees, reservation.purpose) == (
            overrides.get("attendees", 20),
            overrides.get("purpose", "支部主题党日"),
        )


@pytest.mark.django_db
def test_a_period_without_a_start_or_an_end_is_refused(secretary, organization, space):
    for overrides in ({"starts_at": None}, {"ends_at": None}):
        assert_refused(
            "invalid_period",
            "结束时间必须晚于开始时间。",
            lambda o=overrides: ask(secretary, organization, space, **o),
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-US, "ok"), (datetime.timedelta(0), "in_past"), (US, "in_past")],
    ids=["one microsecond before the start", "at the start", "one microsecond after"],
)
def test_a_slot_may_be_requested_until_it_starts(secretary, organization, space, offset, expected):
    starts_at = at(0)
    action = lambda: ask(secretary, organization, space, now=starts_at + offset)  # noqa: E731
    if expected == "ok":
        assert action().starts_at == starts_at
    else:
        assert_refused(expected, "不能预约已经开始或过去的时段。", action)


@pytest.mark.django_db
def test_a_reservation_error_reads_as_its_message_and_survives_pickling(secretary, organization, space):
    with pytest.raises(ReservationError) as info:
        ask(secretary, organization, space, attendees=0)
    assert str(info.value) == "预计人数必须大于0。"
    assert info.value.args == ("attendees_invalid", info.value.message)
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.code, str(copy.message), str(copy)) == (
        "attendees_invalid",
        "预计人数必须大于0。",
        "预计人数必须大于0。",
    )


@pytest.mark.django_db
def test_a_closed_station_takes_no_requests(secretary, organization, space):
    space.station.is_active = False
    space.station.save()
    assert_refused(
        "station_closed", "该服务站暂停开放，不能预约。", lambda: ask(secretary, organization, space)
    )


@pytest.mark.django_db
def test_a_taken_slot_is_refused_at_request_time(secretary, organization, space, social_worker):
    event_at(space, 0, 2, title="安全生产讲座")
    assert_refused(
        "space_conflict",
        "该时段与活动《安全生产讲座》冲突。",
        lambda: ask(secretary, organization, space, 1, 3),
    )
    other = PartyOrganizationFactory(name="南京西路第二党支部", street=organization.street)
    approved = ask(social_worker, other, space, 4, 6, purpose="党课")
    reservations.approve_reservation(reservation=approved, by=social_worker)
    assert_refused(
        "space_conflict",
        "该时段与党组织“南京西路第二党支部”已批准的场地预约（党课）冲突。",
        lambda: ask(secretary, organization, space, 5, 7),
    )
    assert ask(secretary, organization, space, 2, 4).pk  # the gap between them is free


# --- approve / reject ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_stations_social_worker_approves(secretary, organization, space, social_worker):
    reservation = ask(secretary, organization, space)
    approved = reservations.approve_reservation(reservation=reservation, by=social_worker, note="同意")
    assert reservation.status == approved.status == SpaceReservation.Status.APPROVED
    approved.refresh_from_db()
    assert (approved.decided_by, approved.decision_note) == (social_worker, "同意")
    assert approved.decided_at is not None
    assert SpaceOccupancy.objects.get(reservation=approved).starts_at == approved.starts_at
    # Now the room is held: an event cannot be put there, by any write path.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        event_at(space, 1, 3)


@pytest.mark.django_db
def test_only_staff_in_scope_decide(secretary, organization, space, street_b, district_staff):
    reservation = ask(secretary, organization, space)
    # district staff see the space's district but only read its records
    for by in (secretary, SocialWorkerFactory(streets=[street_b]), district_staff, UserFactory()):
        assert_refused(
            "forbidden",
            "只有负责该服务站的社工可以审批。",
            lambda by=by: reservations.approve_reservation(reservation=reservation, by=by),
        )
        assert_refused(
            "forbidden",
            "只有负责该服务站的社工可以审批。",
            lambda by=by: reservations.reject_reservation(reservation=reservation, by=by),
        )


@pytest.mark.django_db
def test_a_decided_request_cannot_be_decided_again(secretary, organization, space, social_worker):
    reservation = ask(secretary, organization, space)
    reservations.reject_reservation(reservation=reservation, by=social_worker, note="  该时段另有安排  ")
    reservation.refresh_from_db()
    assert reservation.status == SpaceReservation.Status.REJECTED
    assert reservation.decision_note == "该时段另有安排"
    for decide in (reservations.approve_reservation, reservations.reject_reservation):
        assert_refused(
            "not_pending",
            "该申请已处理（当前状态：已驳回）。",
            lambda decide=decide: decide(reservation=reservation, by=social_worker),
        )


@pytest.mark.django_db
def test_a_note_that_is_too_long_is_refused(secretary, organization, space, social_worker):
    reservation = ask(secretary, organization, space)
    for decide in (reservations.approve_reservation, reservations.reject_reservation):
        assert_refused(
            "note_too_long",
            "审批意见不能超过200个字。",
            lambda decide=decide: decide(reservation=reservation, by=social_worker, note="长" * 201),
        )


@pytest.mark.django_db
def test_a_decision_records_who_when_and_a_note_of_up_to_200_characters(
    secretary, organization, space, social_worker
):
    now = timezone.now() - H  # not the real time: the given one is recorded
    approved = reservations.approve_reservation(
        reservation=ask(secretary, organization, space, 0, 1), by=social_worker, note="准" * 200, now=now
    )
    rejected = reservations.reject_reservation(
        reservation=ask(secretary, organization, space, 2, 3), by=social_worker, note="驳" * 200, now=now
    )
    for decided, note in ((approved, "准" * 200), (rejected, "驳" * 200)):
        decided.refresh_from_db()
        assert (decided.decided_by, decided.decided_at, decided.decision_note) == (social_worker, now, note)
    # Without a note (or with None), the note is empty; without now, the time is the real one.
    before = timezone.now()
    quiet = reservations.reject_reservation(
        reservation=ask(secretary, organization, space, 4, 5), by=social_worker
    )
    silent = reservations.reject_reservation(
        reservation=ask(secretary, organization, space, 6, 7), by=social_worker, note=None
    )
    plain = reservations.approve_reservation(
        reservation=ask(secretary, organization, space, 8, 9), by=social_worker
    )
    bare = reservations.approve_reservation(
        reservation=ask(secretary, organization, space, 10, 11), by=social_worker, note=None
    )
    for decided in (quiet, silent, plain, bare):
        decided.refresh_from_db()
        assert decided.decision_note == ""
        assert before <= decided.decided_at <= timezone.now()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-US, "ok"), (datetime.timedelta(0), "reservation_past"), (US, "reservation_past")],
    ids=["one microsecond before the start", "at the start", "one microsecond after"],
)
def test_a_request_may_be_approved_until_its_slot_starts(
    secretary, organization, space, social_worker, offset, expected
):
    reservation = ask(secretary, organization, space)
    action = lambda: reservations.approve_reservation(  # noqa: E731
        reservation=reservation, by=social_worker, now=reservation.starts_at + offset
    )
    if expected == "ok":
        assert action().status == SpaceReservation.Status.APPROVED
    else:
        assert_refused(expected, "申请的时段已开始或已过去，不能批准。", action)


@pytest.mark.django_db
def test_a_request_whose_time_has_come_cannot_be_approved(organization, space, social_worker, secretary):
    now = timezone.now()
    reservation = SpaceReservationFactory(
        space=space, organization=organization, requested_by=secretary, starts_at=now - H, ends_at=now + H
    )
    assert_refused(
        "reservation_past",
        "申请的时段已开始或已过去，不能批准。",
        lambda: reservations.approve_reservation(reservation=reservation, by=social_worker),
    )


@pytest.mark.django_db
def test_approval_is_refused_when_an_event_took_the_slot_meanwhile(
    secretary, organization, space, social_worker
):
    reservation = ask(secretary, organization, space, 0, 2)
    event_at(space, 1, 3, title="青年联谊会")  # scheduled in the admin after the request
    assert_refused(
        "space_conflict",
        "该时段与活动《青年联谊会》冲突。",
        lambda: reservations.approve_reservation(reservation=reservation, by=social_worker),
    )


@pytest.mark.django_db
def test_of_two_overlapping_requests_only_one_is_approved(organization, space, social_worker):
    first = ask(social_worker, organization, space, 0, 2)
    second = ask(social_worker, organization, space, 1, 3, purpose="组织生活会")
    reservations.approve_reservation(reservation=first, by=social_worker)
    assert_refused(
        "space_conflict",
        "该时段与党组织“静安嘉里中心联合党支部”已批准的场地预约（支部主题党日）冲突。",
        lambda: reservations.approve_reservation(reservation=second, by=social_worker),
    )


@pytest.mark.django_db
def test_a_constraint_violation_after_the_check_becomes_the_same_clear_message(
    secretary, organization, space, social_worker, monkeypatch
):
    """The database has the last word: if the check misses a clash (a race), the constraint's
    violation is turned into the domain message, not a 500."""
    reservation = ask(secretary, organization, space, 0, 2)
    event_at(space, 1, 3, title="消防演练")
    real = reservations.space_conflict
    calls = []

    def blind_first_time(**kwargs):
        calls.append(kwargs)
        return None if len(calls) == 1 else real(**kwargs)

    monkeypatch.setattr(reservations, "space_conflict", blind_first_time)
    assert_refused(
        "space_conflict",
        "该时段与活动《消防演练》冲突。",
        lambda: reservations.approve_reservation(reservation=reservation, by=social_worker),
    )
    assert len(calls) == 2


@pytest.mark.django_db
def test_a_constraint_violation_whose_clash_has_gone_again_still_refuses_with_a_message(
    secretary, organization, space, social_worker, monkeypatch
):
    """The constraint fired but the second look finds nothing (the clashing row went away
    meanwhile): the refusal still says why, in the general words."""
    reservation = ask(secretary, organization, space, 0, 2)
    event_at(space, 1, 3, title="消防演练")
    monkeypatch.setattr(reservations, "space_conflict", lambda **kwargs: None)
    assert_refused(
        "space_conflict",
        "该空间在这段时间已被活动或批准的场地预约占用。",
        lambda: reservations.approve_reservation(reservation=reservation, by=social_worker),
    )


class _Cause(Exception):
    def __init__(self, pgcode):
        super().__init__(pgcode)
        self.pgcode = pgcode


@pytest.mark.django_db
def test_a_deadlock_with_a_concurrent_writer_is_retried(
    secretary, organization, space, social_worker, monkeypatch
):
    """Two overlapping writes can wait for each other inside the exclusion check; PostgreSQL fails
    one with "deadlock detected" (40P01). The approval retries its write instead of failing."""
    from django.db import OperationalError

    reservation = ask(secretary, organization, space)
    real_save = SpaceReservation.save
    failures = {"left": 1, "code": "40P01"}

    def save(self, *args, **kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise OperationalError("simulated") from _Cause(failures["code"])
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(SpaceReservation, "save", save)
    approved = reservations.approve_reservation(reservation=reservation, by=social_worker)
    assert approved.status == SpaceReservation.Status.APPROVED
    assert SpaceOccupancy.objects.filter(reservation=reservation).exists()

    # Other operational errors, and a deadlock that keeps coming back, are not swallowed.
    second = ask(secretary, organization, space, 5, 6)
    for code, times in (("08006", 1), ("40P01", 3)):
        failures.update(left=times, code=code)
        before = state()
        with pytest.raises(OperationalError):
            reservations.approve_reservation(reservation=second, by=social_worker)
        assert state() == before
        assert failures["left"] == 0


@pytest.mark.django_db
def test_database_errors_other_than_an_overlap_or_a_deadlock_are_not_swallowed(
    secretary, organization, space, social_worker, monkeypatch
):
    """An IntegrityError or OperationalError that does not come from PostgreSQL's overlap
    constraint or deadlock detector (no cause, or a cause without diagnostics) goes up as it is."""
    from django.db import IntegrityError, OperationalError

    reservation = ask(secretary, organization, space)
    for error in (IntegrityError("no cause"), OperationalError("no cause")):

        def save(self, *args, error=error, **kwargs):
            raise error

        monkeypatch.setattr(SpaceReservation, "save", save)
        with pytest.raises(type(error)):
            reservations.approve_reservation(reservation=reservation, by=social_worker)
        assert SpaceReservation.objects.get(pk=reservation.pk).status == SpaceReservation.Status.REQUESTED


# --- cancel -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_cancelling_an_approved_reservation_frees_the_room(secretary, organization, space, social_worker):
    reservation = ask(secretary, organization, space, 0, 2)
    reservations.approve_reservation(reservation=reservation, by=social_worker)
    reservations.cancel_reservation(reservation=reservation, by=secretary)
    assert reservation.status == SpaceReservation.Status.CANCELLED
    assert not SpaceOccupancy.objects.filter(reservation=reservation).exists()
    assert event_at(space, 0, 2).pk
    assert_refused(
        "not_cancellable",
        "该预约当前状态为“已撤销”，不能撤销。",
        lambda: reservations.cancel_reservation(reservation=reservation, by=secretary),
    )


@pytest.mark.django_db
def test_who_may_cancel(secretary, organization, space, social_worker, street_b, district_staff):
    by_requester = ask(social_worker, organization, space, 0, 1)
    by_secretary = ask(social_worker, organization, space, 2, 3)
    by_staff = ask(secretary, organization, space, 4, 5)
    # staff whose territory includes the space but who may not change reservations: the
    # district's (read only) and a street's staff without the permission
    no_permission = StaffUserFactory(username="no_permission", streets=[space.station.street])
    for stranger in (UserFactory(), StaffUserFactory(streets=[street_b]), district_staff, no_permission):
        assert_refused(
            "forbidden",
            "只有申请人、该党组织书记或负责该服务站的社工可以撤销。",
            lambda s=stranger: reservations.cancel_reservation(reservation=by_staff, by=s),
        )
    reservations.cancel_reservation(reservation=by_requester, by=social_worker)
    reservations.cancel_reservation(reservation=by_secretary, by=secretary)
    reservations.cancel_reservation(reservation=by_staff, by=social_worker)
    assert set(SpaceReservation.objects.values_list("status", flat=True)) == {
        SpaceReservation.Status.CANCELLED
    }


@pytest.mark.django_db
def test_the_person_who_asked_may_cancel_after_leaving_the_secretaryship(secretary, organization, space):
    reservation = ask(secretary, organization, space)
    organization.secretary = PartyMemberFactory(organization=organization)  # a new secretary
    organization.save()
    cancelled = reservations.cancel_reservation(reservation=reservation, by=secretary)
    assert cancelled.status == SpaceReservation.Status.CANCELLED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("offset", "expected"),
    [(-US, "ok"), (datetime.timedelta(0), "reservation_past"), (US, "reservation_past")],
    ids=["one microsecond before the end", "at the end", "one microsecond after"],
)
def test_a_reservation_may_be_cancelled_until_its_slot_ends(
    secretary, organization, space, social_worker, offset, expected
):
    reservation = ask(secretary, organization, space)
    reservations.approve_reservation(reservation=reservation, by=social_worker)
    action = lambda: reservations.cancel_reservation(  # noqa: E731
        reservation=reservation, by=secretary, now=reservation.ends_at + offset
    )
    if expected == "ok":
        assert action().status == SpaceReservation.Status.CANCELLED
        assert not SpaceOccupancy.objects.exists()
    else:
        assert_refused(expected, "该预约的时段已结束，不能撤销。", action)


@pytest.mark.django_db
def test_an_ended_reservation_cannot_be_cancelled(secretary, organization, space):
    now = timezone.now()
    reservation = SpaceReservationFactory(
        space=space,
        organization=organization,
        requested_by=secretary,
        starts_at=now - 3 * H,
        ends_at=now - H,
        status=SpaceReservation.Status.APPROVED,
    )
    assert_refused(
        "reservation_past",
        "该预约的时段已结束，不能撤销。",
        lambda: reservations.cancel_reservation(reservation=reservation, by=secretary),
    )


@pytest.mark.django_db
def test_rebuild_space_occupancy_holds_live_events_and_approved_reservations_only(
    secretary, organization, space, social_worker
):
    live = event_at(space, 0, 1)
    cancelled = event_at(space, 2, 3)
    cancelled.status = Event.Status.CANCELLED
    cancelled.save()
    approved = ask(secretary, organization, space, 4, 5)
    reservations.approve_reservation(reservation=approved, by=social_worker)
    ask(secretary, organization, space, 6, 7)  # requested: holds nothing
    rejected = ask(secretary, organization, space, 8, 9)
    reservations.reject_reservation(reservation=rejected, by=social_worker)
    before = set(
        SpaceOccupancy.objects.values_list("space_id", "starts_at", "ends_at", "event_id", "reservation_id")
    )
    assert before == {
        (space.pk, live.starts_at, live.ends_at, live.pk, None),
        (space.pk, approved.starts_at, approved.ends_at, None, approved.pk),
    }
    SpaceOccupancy.objects.all().delete()
    assert reservations.rebuild_space_occupancy() == 2
    after = set(
        SpaceOccupancy.objects.values_list("space_id", "starts_at", "ends_at", "event_id", "reservation_id")
    )
    assert after == before


# --- real races ---------------------------------------------------------------------------------


def _race(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=30)
            results[i] = ("ok", call())
        except BaseException as exc:
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_parallel_approvals_of_overlapping_requests_approve_exactly_one(organization, space, social_worker):
    requests = [ask(social_worker, organization, space, 0, 2, purpose=f"活动{i}") for i in range(6)]
    results = _race(
        *[
            lambda r=r: reservations.approve_reservation(
                reservation=SpaceReservation.objects.get(pk=r.pk), by=social_worker
            )
            for r in requests
        ]
    )
    ok = [v for kind, v in results if kind == "ok"]
    errors = [v for kind, v in results if kind == "error"]
    assert len(ok) == 1
    assert len(errors) == 5
    assert all(isinstance(e, ReservationError) and e.code == "space_conflict" for e in errors), errors
    winner = ok[0]
    assert {str(e.message) for e in errors} == {
        f"该时段与党组织“{organization.name}”已批准的场地预约（{winner.purpose}）冲突。"
    }
    assert list(SpaceReservation.objects.filter(status=SpaceReservation.Status.APPROVED)) == [winner]
    assert SpaceOccupancy.objects.get().reservation_id == winner.pk


@pytest.mark.django_db(transaction=True)
def test_an_approval_takes_its_turn_in_the_space_without_holding_up_what_refers_to_it(
    secretary, organization, space, social_worker
):
    """Approvals in one space queue on the space's row with ``FOR NO KEY UPDATE``, which a
    transaction that is adding an event or a request in that space (its foreign key holds the
    space ``FOR KEY SHARE``) does not block: the approval goes through at once."""
    reservation = ask(secretary, organization, space)
    with held_elsewhere(Space, space.pk, lock="KEY SHARE"):
        approved = reservations.approve_reservation(reservation=reservation, by=social_worker)
    assert approved.status == SpaceReservation.Status.APPROVED


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_an_approval_racing_an_event_for_the_same_slot(organization, space, social_worker, round_):
    """One wins; a losing approval always gets the clear message, never a database error."""
    from django.db import IntegrityError, OperationalError

    reservation = ask(social_worker, organization, space, 0, 2)
    results = _race(
        lambda: reservations.approve_reservation(
            reservation=SpaceReservation.objects.get(pk=reservation.pk), by=social_worker
        ),
        lambda: event_at(space, 1, 3, title="临时加开的党课"),
    )
    (approval_kind, approval), (event_kind, event) = results
    assert [approval_kind, event_kind].count("ok") == 1
    if approval_kind == "error":
        assert isinstance(approval, ReservationError), approval
        assert (approval.code, str(approval.message)) == (
            "space_conflict",
            "该时段与活动《临时加开的党课》冲突。",
        )
        assert SpaceOccupancy.objects.get().event_id == event.pk
    else:
        # The event writer (the admin, an import) gets the database's refusal.
        assert isinstance(event, IntegrityError | OperationalError), event
        assert SpaceOccupancy.objects.get().reservation_id == reservation.pk


@pytest.mark.django_db
def test_a_rule_of_the_model_not_checked_by_the_service_refuses_with_its_messages(
    secretary, organization, space, monkeypatch
):
    """The model's own validation is the last word: its messages, joined by spaces; nothing saved."""
    from django.core.exceptions import ValidationError

    def full_clean(self, *args, **kwargs):
        raise ValidationError({"purpose": ["第一条"], "attendees": ["第二条"]})

    monkeypatch.setattr(SpaceReservation, "full_clean", full_clean)
    assert_refused("invalid", "第一条 第二条", lambda: ask(secretary, organization, space))
    assert not SpaceReservation.objects.exists()


# --- the conflict check for an event being edited (issue 20) -------------------------------------------


@pytest.mark.django_db
def test_an_edited_event_does_not_clash_with_its_own_slot_but_with_everything_else(
    secretary, organization, space, social_worker
):
    own = event_at(space, 0, 2, title="安全生产讲座")
    event_at(space, 3, 4, title="消防演练")
    approved = ask(secretary, organization, space, 5, 6, purpose="党课")
    reservations.approve_reservation(reservation=approved, by=social_worker)

    def conflict(start_h, end_h):
        return reservations.space_conflict(
            space_id=space.pk, starts_at=at(start_h), ends_at=at(end_h), exclude_event_id=own.pk
        )

    assert conflict(0, 2) is None
    assert conflict(1, 3) is None
    assert conflict(1, 4) == "该时段与活动《消防演练》冲突。"
    assert conflict(5, 6) == f"该时段与党组织“{organization.name}”已批准的场地预约（党课）冲突。"
    assert (
        reservations.space_conflict(space_id=space.pk, starts_at=at(0), ends_at=at(2))
        == "该时段与活动《安全生产讲座》冲突。"
    )
