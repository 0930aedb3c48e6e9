"""``manage.py seed_demo``: idempotent, realistic, valid; and the city generator at a small scale."""

import datetime
import io

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from buildings.models import Building, District, Enterprise, Street
from buildings.validators import validate_credit_code
from committees.models import BuildingCommittee, CommitteeSeat
from core.scoping import scope_queryset
from demo import city, identifiers, small
from demo.data import DISTRICTS
from members.groups import DISTRICT_STAFF, SOCIAL_WORKER
from members.models import PartyMember, PartyOrganization, User
from members.validators import id_number_birth_date, validate_id_number
from services.models import Booking, Event, ServiceStation, Space

pytestmark = pytest.mark.django_db

KEY_TABLES = [
    District,
    Street,
    Building,
    Enterprise,
    PartyOrganization,
    PartyMember,
    BuildingCommittee,
    CommitteeSeat,
    ServiceStation,
    Space,
    Event,
    Booking,
    User,
]
HISTORY_TABLES = [
    "members_partyorganizationevent",
    "members_partymemberevent",
    "members_membertransferevent",
    "committees_buildingcommitteeevent",
    "committees_committeeseatevent",
    "services_eventevent",
    "services_bookingevent",
]


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def checksums() -> dict[str, tuple[int, str]]:
    """Row count and an md5 over every column of every row, per table."""
    result = {}
    with connection.cursor() as cur:
        for model in KEY_TABLES:
            table = model._meta.db_table
            cur.execute(f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t.id)) FROM {table} t")
            result[table] = cur.fetchone()
        for table in HISTORY_TABLES + [
            "members_partyorganization_buildings",
            "members_user_streets",
            "members_user_groups",
        ]:
            cur.execute(f"SELECT count(*) FROM {table}")
            result[table] = cur.fetchone()
    return result


def counters_match_bookings() -> list[int]:
    """Ids of events whose counters differ from their bookings (or exceed the capacity)."""
    seats = Count("bookings", filter=Q(bookings__status__in=["confirmed", "attended", "no_show"]))
    waiting = Count("bookings", filter=Q(bookings__status="waitlisted"))
    rows = Event.objects.annotate(seats=seats, waiting=waiting).values_list(
        "pk", "confirmed_count", "waitlist_count", "seats", "waiting", "capacity"
    )
    return [pk for pk, confirmed, waitlist, s, w, cap in rows if (confirmed, waitlist) != (s, w) or s > cap]


@pytest.fixture(scope="class")
def seeded(django_db_setup, django_db_blocker):
    """The demo data once for a class of read-only tests, rolled back after the class."""
    with django_db_blocker.unblock(), transaction.atomic():
        small.seed_demo(out=lambda line: None)
        yield
        transaction.set_rollback(True)


# --- idempotent -------------------------------------------------------------------


@pytest.mark.slow
def test_seeding_twice_leaves_exactly_the_same_data():
    output = seed()
    first = checksums()
    assert first["buildings_building"][0] > 0
    again = seed()
    assert checksums() == first
    assert "新建 0 条，更新 0 条" in again
    assert "admin" in output and "demo12345" in output


@pytest.mark.slow
def test_a_later_day_moves_the_calendar_and_nothing_else():
    today = timezone.localdate()
    small.seed_demo(today=today, out=lambda line: None)
    before = {(e.space_id, e.title): e.starts_at for e in Event.objects.all()}
    counts = small.demo_counts()
    later = today + datetime.timedelta(days=3)
    small.seed_demo(today=later, out=lambda line: None)
    assert small.demo_counts() == counts
    moved = {(e.space_id, e.title): e.starts_at for e in Event.objects.all()}
    assert moved.keys() == before.keys()
    assert all(moved[key] > before[key] for key in before)
    first_upcoming = min(s for s in moved.values() if timezone.localtime(s).date() > later)
    assert timezone.localtime(first_upcoming).date() == identifiers.workday(later, 1)
    assert counters_match_bookings() == []


@pytest.mark.usefixtures("seeded")
class TestDemoData:
    """Read-only checks on one seeded data set."""

    # --- logins and scope -------------------------------------------------------------

    def test_demo_logins_exist_with_the_right_scope(self):
        users = {
            u.username: u
            for u in User.objects.filter(username__in=["admin", "shegong", "jingan", "zhangwei"])
        }
        assert set(users) == {"admin", "shegong", "jingan", "zhangwei"}
        for user in users.values():
            assert user.check_password("demo12345")

        assert users["admin"].is_superuser and users["admin"].is_staff

        shegong = users["shegong"]
        assert shegong.is_staff and not shegong.is_superuser
        assert list(shegong.streets.values_list("name", flat=True)) == ["南京西路街道"]
        assert list(shegong.groups.values_list("name", flat=True)) == [SOCIAL_WORKER]
        visible = scope_queryset(Building.objects.all(), shegong)
        assert visible.exists()
        assert set(visible.values_list("street__name", flat=True)) == {"南京西路街道"}

        jingan = users["jingan"]
        assert jingan.is_staff and jingan.district.name == "静安区" and jingan.district.code == "310106"
        assert list(jingan.groups.values_list("name", flat=True)) == [DISTRICT_STAFF]
        assert set(
            scope_queryset(Building.objects.all(), jingan).values_list("street__district__name", flat=True)
        ) == {"静安区"}

        zhangwei = users["zhangwei"]
        assert not zhangwei.is_staff
        assert zhangwei.building.name == "南京西路国际大厦"
        assert zhangwei.enterprise.building_id == zhangwei.building_id
        assert zhangwei.party_member.name == "张伟"
        assert zhangwei.party_member.enterprise_id == zhangwei.enterprise_id
        assert zhangwei.phone == zhangwei.party_member.phone
        assert set(zhangwei.bookings.values_list("status", flat=True)) >= {
            "confirmed",
            "waitlisted",
            "cancelled",
            "attended",
        }
        assert Group.objects.filter(name__in=[SOCIAL_WORKER, DISTRICT_STAFF]).count() == 2

    # --- places, organizations, committees ----------------------------------------------

    def test_districts_and_real_streets(self):
        assert dict(District.objects.values_list("code", "name")) == {
            "310106": "静安区",
            "310115": "浦东新区",
            "310107": "普陀区",
        }
        streets = set(Street.objects.values_list("district__name", "name"))
        for district, name in [
            ("静安区", "南京西路街道"),
            ("静安区", "静安寺街道"),
            ("静安区", "江宁路街道"),
            ("静安区", "石门二路街道"),
            ("静安区", "曹家渡街道"),
            ("浦东新区", "陆家嘴街道"),
            ("浦东新区", "潍坊新村街道"),
            ("浦东新区", "塘桥街道"),
            ("浦东新区", "花木街道"),
            ("普陀区", "长寿路街道"),
            ("普陀区", "曹杨新村街道"),
            ("普陀区", "真如镇街道"),
            ("普陀区", "长风新村街道"),
        ]:
            assert (district, name) in streets

    def test_the_nanjing_west_road_tower_and_its_station(self):
        tower = Building.objects.get(name="南京西路国际大厦", street__name="南京西路街道")
        assert tower.is_key_building
        station = ServiceStation.objects.get(building=tower)
        assert station.floor == 6 and station.area_m2 == 300
        functions = set(station.spaces.values_list("function", flat=True))
        assert functions == {"reception", "affairs", "office", "activity_room"}
        assert Building.objects.filter(street__name="陆家嘴街道", is_key_building=True).exists()
        assert Building.objects.filter(street__district__name="普陀区", name__contains="广场").exists()

    def test_party_organizations_joint_and_standalone_with_coverage(self):
        assert PartyOrganization.objects.filter(enterprise__isnull=False).exists()  # standalone
        assert PartyOrganization.objects.filter(
            enterprise__isnull=True, buildings__isnull=False
        ).exists()  # joint
        key = Building.objects.filter(is_key_building=True)
        covered = key.filter(party_organizations__isnull=False).distinct().count()
        assert 0 < covered < key.count()  # realistic: not every key building has one yet
        for org in PartyOrganization.objects.all():
            org.full_clean()
        # the enterprises' member counts are the member records
        for ent in Enterprise.objects.all():
            assert ent.party_member_count == ent.party_members.count()

    def test_every_committee_seat_role_is_filled(self):
        committees = BuildingCommittee.objects.all()
        assert committees.exists()
        every_role = set(CommitteeSeat.Role.values)
        for committee in committees:
            current = committee.seats.filter(ends_on__isnull=True)
            assert set(current.values_list("role", flat=True)) == every_role, committee
            assert current.filter(role="building_chief").count() == 1
            assert current.filter(role="first_secretary").count() == 1
            reps = current.filter(role="floor_representative")
            assert reps.count() >= 2 and all(1 <= r.floor <= committee.building.floors for r in reps)
            assert committee.seats.filter(
                role="first_secretary", ends_on__isnull=False
            ).exists()  # the predecessor
            for seat in committee.seats.all():
                seat.full_clean()

    def test_seeded_identifiers_pass_the_validators(self):
        members = list(PartyMember.objects.all())
        assert len(members) > 50
        for member in members:
            validate_id_number(member.id_number)
            assert id_number_birth_date(member.id_number) == member.birth_date
            assert (int(member.id_number[16]) % 2 == 1) == (member.gender == "M")
            member.full_clean()
        for enterprise in Enterprise.objects.all():
            validate_credit_code(enterprise.credit_code)
            enterprise.full_clean()
        for user in User.objects.all():
            user.full_clean()

    # --- the calendar ---------------------------------------------------------------------

    def test_events_of_every_kind_over_the_next_two_weeks(self):
        now = timezone.now()
        upcoming = Event.objects.filter(starts_at__gt=now)
        published = upcoming.filter(status="published")
        assert set(published.values_list("kind", flat=True)) == set(Event.Kind.values)
        assert upcoming.filter(status="draft").count() >= 2
        assert all(e.starts_at < now + datetime.timedelta(days=16) for e in upcoming)
        assert all(timezone.localtime(e.starts_at).weekday() < 5 for e in Event.objects.all())
        full = published.filter(confirmed_count=F("capacity"), waitlist_count__gt=0)
        assert full.count() >= 2
        assert full.filter(kind="counselling").exists()
        members_only = published.filter(audience="party_members")
        assert members_only.count() == 1
        assert all(b.user.party_member_id for b in members_only.get().bookings.select_related("user"))
        assert all(e.capacity == 1 for e in Event.objects.filter(kind="counselling"))
        past = Event.objects.filter(ends_at__lt=now)
        assert Booking.objects.filter(event__in=past, status="attended").exists()
        assert Booking.objects.filter(event__in=past, status="no_show").exists()
        assert not Booking.objects.filter(event__in=past, status__in=["confirmed", "waitlisted"]).exists()
        assert not Booking.objects.filter(event__in=upcoming, status__in=["attended", "no_show"]).exists()
        assert not Booking.objects.filter(event__status="draft").exists()
        for event in Event.objects.all():
            event.full_clean()

    def test_counters_equal_the_bookings(self):
        assert counters_match_bookings() == []
        assert Booking.objects.count() > 100

    def test_waitlist_is_behind_the_confirmed_seats(self):
        for event in Event.objects.filter(waitlist_count__gt=0):
            assert event.confirmed_count == event.capacity
            last_seat = event.bookings.filter(status="confirmed").order_by("-created_at", "-id").first()
            first_waiting = event.bookings.filter(status="waitlisted").order_by("created_at", "id").first()
            assert (last_seat.created_at, last_seat.pk) < (first_waiting.created_at, first_waiting.pk)

    def test_demands_in_every_state_some_overdue_with_real_timelines(self):
        from committees.models import Demand, DemandStep

        states = set(Demand.objects.values_list("state", flat=True))
        assert states == set(Demand.State.values)
        assert (
            Demand.objects.filter(state__in=Demand.OPEN_STATES, deadline__lt=timezone.localdate()).count()
            >= 2
        )
        closed = Demand.objects.get(state=Demand.State.CLOSED)
        assert closed.rating == 5
        assert list(
            DemandStep.objects.filter(demand=closed)
            .exclude(to_state=F("from_state"))
            .values_list("to_state", flat=True)
        ) == ["submitted", "accepted", "assigned", "in_progress", "resolved", "closed"]

    def test_seeding_records_history_with_its_context(self):
        MemberEvent = apps.get_model("members", "PartyMemberEvent")
        event = MemberEvent.objects.filter(pgh_label="insert").first()
        assert event is not None and event.pgh_context.metadata["action"] == "seed_demo"


# --- the generators -------------------------------------------------------------------


def test_generated_identifiers_are_valid_and_unique():
    codes = {identifiers.make_credit_code(n, "310106") for n in range(0, 31**2 * 3, 7)}
    assert len(codes) == len(range(0, 31**2 * 3, 7))
    for code in list(codes)[:500]:
        validate_credit_code(code)
    phones = {identifiers.make_phone(n) for n in range(20_000)}
    assert len(phones) == 20_000
    number = identifiers.make_id_number("310106", datetime.date(1991, 3, 15), 7, male=True)
    validate_id_number(number)
    assert int(number[16]) % 2 == 1
    assert identifiers.workday(datetime.date(2026, 11, 27), 1) == datetime.date(
        2026, 11, 30
    )  # Friday -> Monday
    assert identifiers.workday(datetime.date(2026, 11, 30), -1) == datetime.date(2026, 11, 27)


# --- city scale, small --------------------------------------------------------------------


@pytest.mark.slow
def test_city_generator_at_small_scale_is_consistent():
    output = seed("--scale", "city", "--factor", "0.02")
    assert "用时" in output and "活动计数与预约记录一致" in output
    targets = {name: max(1, round(n * 0.02)) for name, n in city.CITY_TARGETS.items()}
    assert District.objects.count() == 16
    assert Street.objects.count() == sum(len(d[2]) for d in DISTRICTS) == 216
    assert Building.objects.count() == targets["buildings"]
    assert PartyMember.objects.count() == targets["party_members"]
    assert User.objects.filter(is_staff=False).count() == targets["employees"]
    assert Event.objects.count() == targets["events"]
    assert Booking.objects.count() == targets["bookings"]
    assert PartyOrganization.objects.count() >= round(2700 * 0.02)

    assert counters_match_bookings() == []
    now = timezone.now()
    assert not Booking.objects.filter(
        event__ends_at__lte=now, status__in=["confirmed", "waitlisted"]
    ).exists()
    assert not Booking.objects.filter(event__starts_at__gt=now, status__in=["attended", "no_show"]).exists()
    assert not Booking.objects.filter(event__status="draft").exists()
    assert not Booking.objects.filter(event__booking_opens_at__gt=now).exists()
    members_only = Booking.objects.filter(event__audience="party_members")
    assert not members_only.filter(user__party_member__isnull=True).exists()
    # at most one active booking per (event, user): the partial unique index held during COPY;
    # and no two events overlap in a space: the occupancy table mirrors every live event
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM services_spaceoccupancy WHERE event_id IS NOT NULL")
        assert cur.fetchone()[0] == Event.objects.exclude(status="cancelled").count()
    # the bulk load wrote no history
    # (the small demo's bookings: at its buildings' stations and at the partners' places)
    demo_bookings = Booking.objects.filter(
        Q(event__space__station__building__name__in=[b.name for b in small.DEMO_BUILDINGS])
        | Q(event__space__station__partner__isnull=False)
    )
    assert apps.get_model("services", "BookingEvent").objects.count() == demo_bookings.count() > 0
    # a sample of the bulk rows passes the models' own validation
    for model in (PartyMember, Enterprise, User, Event, CommitteeSeat, PartyOrganization):
        for row in model.objects.order_by("-id")[:40]:
            row.full_clean()
    # employees and members add up
    for ent in Enterprise.objects.annotate(n=Count("party_members")):
        assert ent.party_member_count == ent.n <= ent.employee_count

    before = checksums()
    again = seed("--scale", "city", "--factor", "0.02")
    assert "已存在" in again
    assert checksums() == before


@pytest.mark.slow
def test_city_generator_never_reads_a_whole_table_per_row():
    """The foreign-key checks of the bulk load use the primary keys, never a sequential scan per row.

    PostgreSQL keeps a foreign-key check's plan for the whole session. Planned while the events
    were few (the small demo, seeded just before), every booking's check and every event's
    occupancy row read the events table from the start: the city seed took over 20 minutes.
    """

    def sequential_scans() -> dict[str, int]:
        # this transaction's own statistics: rows read by sequential scans, per table
        with connection.cursor() as cur:
            cur.execute(
                "SELECT relname, seq_tup_read FROM pg_stat_xact_user_tables"
                " WHERE relname IN ('services_event', 'members_user')"
            )
            return dict(cur.fetchall())

    small.seed_demo(out=lambda line: None)
    before = sequential_scans()
    report = city.seed_city(factor=0.03, out=lambda line: None)
    assert not report.skipped and Event.objects.count() > 1000 and Booking.objects.count() > 20000
    read = {name: n - before.get(name, 0) for name, n in sequential_scans().items()}
    # a few whole passes (the counters' check, ANALYZE's sample) are fine; one per row is not
    assert read["services_event"] < 20 * Event.objects.count(), read
    assert read["members_user"] < 20 * User.objects.count(), read


@pytest.mark.usefixtures("seeded")
class TestDemoRealism:
    """Issue 15, item 8: the small demo world looks like the city it stands for."""

    def test_party_members_are_about_six_percent_of_employees(self):
        from services.stats import coverage

        figures = coverage(user=User.objects.get(username="admin"))
        rows = [row for row in figures["districts"] if row["employees"]]
        assert len(rows) >= 3
        for row in rows:
            assert 4.5 <= row["party_member_share_percent"] <= 7.5, (row["name"], row)

    def test_every_seat_holder_has_their_own_phone(self):
        seats = list(CommitteeSeat.objects.select_related("member"))
        by_phone: dict[str, set[str]] = {}
        for seat in seats:
            by_phone.setdefault(seat.phone, set()).add(seat.person_name)
            if seat.member_id:
                assert seat.phone == seat.member.phone, seat
        assert all(len(names) == 1 for names in by_phone.values())
        tails = {seat.phone[-4:] for seat in seats}
        assert len(tails) >= 0.9 * len(by_phone)  # not "many end in the same four digits"

    def test_event_names_match_their_weekday(self):
        names = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
        events = list(Event.objects.all())
        assert len(events) > 20
        for event in events:
            for weekday, name in enumerate(names):
                if name in event.title:
                    assert timezone.localtime(event.starts_at).weekday() == weekday, event.title

    def test_bookings_are_made_before_their_events(self):
        late = Booking.objects.filter(
            Q(created_at__gte=F("event__starts_at"))
            | Q(confirmed_at__gte=F("event__starts_at"))
            | Q(cancelled_at__gte=F("event__starts_at"))
        )
        assert Booking.objects.exists() and list(late) == []
