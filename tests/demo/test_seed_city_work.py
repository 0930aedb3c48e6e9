"""``seed_demo --scale city`` at a small scale: the committees' year of work (demo/city_work.py).

The demands and visits are written by COPY, past the write functions: these tests check that
the result is what the write functions (committees/demands.py) would have left — every state,
the fields each state has, a timeline whose steps chain from the submission to the state,
deadlines in working days, nothing in the future — and that the visits are the street's.
"""

import datetime
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from committees.models import Demand, DemandStep, Visit
from core.workdays import add_workdays
from demo import city, city_work
from members.groups import SOCIAL_WORKER

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

FACTOR = 0.02
SHANGHAI = ZoneInfo("Asia/Shanghai")
S = Demand.State


@pytest.fixture(scope="module")
def city_world(django_db_setup, django_db_blocker):
    """One small city for the module (rolled back at its end)."""
    from django.db import transaction

    with django_db_blocker.unblock():
        atomic = transaction.atomic()
        atomic.__enter__()
        call_command("seed_demo", stdout=io.StringIO())  # the small demo first: its demands are not ours
        demo_demands = list(Demand.objects.values_list("pk", flat=True))
        demo_visits = list(Visit.objects.values_list("pk", flat=True))
        out = io.StringIO()
        call_command("seed_demo", "--scale", "city", "--factor", str(FACTOR), stdout=out)
        yield {
            "output": out.getvalue(),
            "now": timezone.now(),
            "demo_demands": demo_demands,
            "demo_visits": demo_visits,
        }
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


@pytest.fixture
def world(city_world, db):
    return city_world


def city_demands(world):
    return Demand.objects.exclude(pk__in=world["demo_demands"])


def target(name: str) -> int:
    return max(1, round(city.CITY_TARGETS[name] * FACTOR))


def test_counts_and_the_report(world):
    assert "企业诉求和办理记录" in world["output"] and "走访" in world["output"]
    assert Demand.objects.count() == target("demands")
    assert Visit.objects.count() == target("visits")
    # about four steps a demand: a real timeline, not one row each
    assert DemandStep.objects.count() > 3 * Demand.objects.count()


def test_every_state_occurs_in_plausible_shares(world):
    states = Counter(city_demands(world).values_list("state", flat=True))
    assert set(states) == set(S.values), states
    total = sum(states.values())
    # a year of work: most demands are closed, a few percent declined, a minority open
    assert states[S.CLOSED] > 0.6 * total
    assert 0.02 * total < states[S.DECLINED] < 0.15 * total
    assert sum(states[s] for s in Demand.OPEN_STATES) < 0.25 * total


def test_fields_follow_the_state(world):
    now = world["now"]
    demands = city_demands(world)
    for state in (S.RESOLVED, S.CLOSED):
        assert not demands.filter(state=state, resolution="").exists()
        assert not demands.filter(state=state, resolved_at__isnull=True).exists()
    assert not demands.filter(state=S.DECLINED, decline_reason="").exists()
    assert not demands.exclude(state=S.DECLINED).exclude(decline_reason="").exists()
    assert not demands.exclude(state=S.CLOSED).filter(rating__isnull=False).exists()
    rated = demands.filter(rating__isnull=False)
    assert rated.exists() and set(rated.values_list("rating", flat=True)) <= {1, 2, 3, 4, 5}
    # a resolution waits for its answer within the window; a closed demand has its time
    assert not demands.filter(state=S.RESOLVED, confirm_by__lte=now).exists()
    assert not demands.exclude(state=S.RESOLVED).filter(confirm_by__isnull=False).exists()
    assert not demands.filter(state=S.CLOSED, closed_at__isnull=True).exists()
    assert not demands.filter(state__in=[S.ASSIGNED, S.IN_PROGRESS], handler_kind="").exists()
    # nothing in the future, everything within the year
    assert not demands.filter(resolved_at__gt=now).exists()
    assert not demands.filter(closed_at__gt=now).exists()
    assert not demands.filter(submitted_at__gt=now).exists()
    assert not demands.filter(submitted_at__lt=now - datetime.timedelta(days=city_work.DAYS + 1)).exists()
    assert not DemandStep.objects.filter(at__gt=now).exists()
    # a seat that handles a demand sits on that building's committee
    seated = demands.filter(handler_kind="seat").select_related("handler_seat__committee")
    assert seated.exists()
    assert all(d.handler_seat.committee.building_id == d.building_id for d in seated)
    # the models' own validation passes on a sample
    for demand in demands.order_by("?")[:60]:
        demand.full_clean()


def test_overdue_demands_exist_and_are_a_minority(world):
    today = timezone.localdate()
    demands = city_demands(world)
    overdue = demands.filter(state__in=Demand.OPEN_STATES, deadline__lt=today).count()
    assert 0 < overdue < 0.1 * demands.count()


def test_each_timeline_chains_from_the_submission_to_the_state(world):
    now = world["now"]
    steps: dict[int, list[DemandStep]] = {}
    for step in DemandStep.objects.order_by("demand_id", "at", "id"):
        steps.setdefault(step.demand_id, []).append(step)
    for demand in city_demands(world).select_related("category"):
        line = steps[demand.pk]
        first = line[0]
        assert (first.from_state, first.to_state) == ("", S.SUBMITTED)
        assert first.actor_id == demand.submitter_id and first.at == demand.submitted_at
        state = S.SUBMITTED
        reopened_at = None
        for step in line[1:]:
            assert step.from_state == state, (demand.pk, [(s.from_state, s.to_state) for s in line])
            if step.to_state != step.from_state:  # a transition (else a note or the rating)
                assert (step.from_state, step.to_state) in {
                    (S.SUBMITTED, S.ACCEPTED),
                    (S.SUBMITTED, S.DECLINED),
                    (S.ACCEPTED, S.ASSIGNED),
                    (S.REOPENED, S.ASSIGNED),
                    (S.ASSIGNED, S.IN_PROGRESS),
                    (S.IN_PROGRESS, S.RESOLVED),
                    (S.RESOLVED, S.CLOSED),
                    (S.RESOLVED, S.REOPENED),
                }
            if step.to_state == S.REOPENED:
                reopened_at = step.at
                assert step.actor_id == demand.submitter_id
            if step.to_state == S.CLOSED and step.from_state == S.RESOLVED:
                assert step.at == demand.closed_at
                # the raiser confirms within the window, or silence closes it at its end
                if step.actor_id is None:
                    assert step.at - demand.resolved_at == datetime.timedelta(days=7)
                else:
                    assert step.actor_id == demand.submitter_id
            state = step.to_state
        assert state == demand.state
        assert line[-1].at <= now
        resolves = [s for s in line if s.to_state == S.RESOLVED]
        if resolves:
            assert resolves[-1].at == demand.resolved_at and resolves[-1].note == demand.resolution
        if demand.rating is not None:
            assert line[-1].from_state == line[-1].to_state == S.CLOSED
            assert line[-1].note.startswith("★" * demand.rating)
        # the deadline: the category's working days from the submission (or the reopening)
        start = timezone.localtime(reopened_at or demand.submitted_at, SHANGHAI).date()
        assert demand.deadline == add_workdays(start, demand.category.deadline_days)


def test_visits_are_by_the_streets_social_workers(world):
    today = timezone.localdate()
    visits = Visit.objects.exclude(pk__in=world["demo_visits"]).select_related(
        "enterprise__building", "visited_by"
    )
    for visit in visits.order_by("?")[:200]:
        worker = visit.visited_by
        assert worker.is_staff and worker.groups.filter(name=SOCIAL_WORKER).exists()
        assert worker.streets.filter(pk=visit.enterprise.building.street_id).exists()
        assert today - datetime.timedelta(days=city_work.DAYS) <= visit.visited_on <= today
    # spread over the year: every quarter has visits
    quarters = {(today - v).days // 92 for v in Visit.objects.values_list("visited_on", flat=True)}
    assert {0, 1, 2, 3} <= quarters


def test_some_demands_are_raised_during_a_visit(world):
    from_visits = Demand.objects.filter(visit__isnull=False).select_related("visit")
    assert 0.15 * Demand.objects.count() < from_visits.count() < 0.35 * Demand.objects.count()
    for demand in from_visits:
        assert demand.visit.enterprise_id == demand.enterprise_id
        assert demand.submitter_id == demand.visit.visited_by_id
        assert timezone.localtime(demand.submitted_at, SHANGHAI).date() == demand.visit.visited_on
    # the rest are raised by employees of the enterprise
    others = city_demands(world).filter(visit__isnull=True)
    assert others.exists()
    assert not others.exclude(submitter__enterprise_id=F("enterprise_id")).exists()
