"""Every filter of the admin lists and of the API can use an index, or says why it needs none.

The test applies each admin list filter (every choice it offers, as the admin's own
ChangeList applies it) and each field of every FilterSet in ``*/filtersets.py``, then
reads the columns the filter added to the query: those it compares in WHERE (also inside
subqueries) and those of the joins it added. A column is covered when

* it leads an index of its table (a plain, non-partial index: a foreign key, a unique
  constraint, a ``Meta.indexes`` entry), as read from PostgreSQL's catalog of the test
  database, which the migrations built; or
* ``WITHIN_INDEX`` names the composite or partial index that serves it (the test checks
  that the index exists and holds the column as a key column or in its condition); or
* ``NO_INDEX_NEEDED`` says why a scan is right (a small table, a filter applied to the
  few rows an index found first, a value too common for an index to pay).

A filter the planner cannot answer from a B-tree (``icontains``, a function of the
column, a comparison of two columns) must be in ``NO_INDEX_NEEDED`` even if the column
is indexed. So a new unindexed filter fails here until it gets an index or a reason.
Figures quoted are from ``seed_demo --scale city`` (200,000 accounts, 66,000 members,
50,000 events, 19,000 enterprises).
"""

from __future__ import annotations

import datetime
import importlib
import inspect

import django_filters
import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth.models import Group
from django.db import connection
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.datastructures import Join
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode
from django.test import RequestFactory

from tests.admin_helpers import make_territory
from tests.project import project_app_labels

pytestmark = pytest.mark.django_db

APPS = project_app_labels()

# Lookups a B-tree answers when the left side is the bare column and the right side a value.
BTREE_LOOKUPS = {"exact", "in", "gt", "gte", "lt", "lte", "range", "isnull"}

#: Filter columns served by a composite or partial index they do not lead: the index's name.
WITHIN_INDEX: dict[tuple[str, str], str] = {
    # A street's members by organization, with gender and education inside the index.
    ("members_partymember", "education"): "member_org_education_idx",
    ("members_partymember", "gender"): "member_org_education_idx",
    # Staff, superusers and deactivated accounts are the rare rows: a partial index on them.
    # (A street's employee accounts, is_active inside: user_employee_building_idx.)
    ("members_user", "is_staff"): "user_staff_or_inactive_idx",
    ("members_user", "is_superuser"): "user_staff_or_inactive_idx",
    ("members_user", "is_active"): "user_staff_or_inactive_idx",
    # Members-only events are the rare audience: a partial index on them, in list order.
    ("services_event", "audience"): "event_members_only_starts_idx",
    # An applicant's recent failed link requests (the "repeated failures" filter's subquery).
    ("members_memberlinkrequest", "created_at"): "linkrequest_user_idx",
}

#: Filter columns that are right without an index of their own, and why.
NO_INDEX_NEEDED: dict[tuple[str, str], str] = {
    # --- small tables: a scan is one or two milliseconds, an index would not be chosen
    (
        "buildings_building",
        "employee_count",
    ): "1,600 buildings: a 1 ms scan; scoped lists filter after the street index",
    (
        "buildings_building",
        "updated_at",
    ): "1,600 buildings; the API's date filter compares the local date (a function of the column)",
    (
        "members_partyorganization",
        "founded_on",
    ): "3,000 organizations; scoped lists filter after the street index",
    ("committees_buildingcommittee", "founded_on"): "one committee per building (1,600)",
    (
        "committees_committeeseat",
        "starts_on",
    ): "about 12 seats per committee, found by the committee index first",
    ("committees_committeeseat", "ends_on"): (
        "about 12 seats per committee (8,000 in the city, a 1 ms scan); nearly all are current, so "
        "'current' matches almost every row and 'ended' is filtered after the committee/street indexes"
    ),
    (
        "services_servicestation",
        "is_active",
    ): "one station per building at most (900 in the city); nearly all open",
    ("services_space", "function"): "about 5 spaces per station (4,400 in the city), four functions",
    ("services_space", "capacity"): "about 5 spaces per station (4,400 in the city)",
    (
        "committees_agreementcommitment",
        "side",
    ): "a few commitments per agreement, a few agreements per street",
    ("services_volunteerproject", "is_active"): "a few volunteer projects per partner or station",
    ("members_apitoken", "revoked_at"): "a few keys per district office",
    ("members_apitoken", "expires_at"): "a few keys per district office",
    # --- values too common, or filters applied to the rows an index found first
    ("buildings_enterprise", "industry"): (
        "7 industries over 19,000 enterprises (12 per building): the street's list reaches its "
        "enterprises through the building index and filters ≤ a few hundred rows; city-wide it is a "
        "3 ms scan, and the API's 'contains' cannot use a B-tree"
    ),
    ("buildings_enterprise", "employee_count"): "19,000 enterprises, reached by building; a range on a count",
    ("buildings_enterprise", "party_member_count"): "'has party members' matches most enterprises",
    ("members_partymember", "joined_on"): (
        "filtered per organization inside member_org_name_idx, which INCLUDEs joined_on (index-only)"
    ),
    (
        "members_partymember",
        "birth_date",
    ): "an age range matches a large share of members; filtered after the scope",
    ("members_membertransfer", "direction"): (
        "three directions, each common: a street's transfers (a few hundred a year) are found "
        "through the member and organization foreign-key indexes and filtered"
    ),
    ("services_event", "ends_at"): (
        "'ongoing'/'past' (admin time filter): past events are most rows; 'ongoing' also bounds "
        "starts_at, which leads event_starts_idx"
    ),
    ("services_event", "title"): (
        "keyword search (LIKE '%…%'): no B-tree can; extended statistics on UPPER(title) keep the "
        "plan right (services 0009); narrowed by time and place first"
    ),
    ("services_event", "speaker"): "keyword search, with title: see title",
    (
        "services_event",
        "confirmed_count",
    ): "'has seats' compares two columns of a row: applied to the events found",
    ("services_event", "capacity"): "'has seats' compares two columns of a row: applied to the events found",
    ("services_spacereservation", "starts_at"): (
        "reservations per space are few (reservation_space_starts_idx leads with the space); "
        "city-wide requests are a small table"
    ),
    ("services_spacereservation", "ends_at"): "with starts_at: see starts_at",
    ("notifications_outbox", "kind"): (
        "the outbox keeps few indexes on purpose (each is a write per sent notification): kind is "
        "filtered after the status index or the street"
    ),
    (
        "notifications_outbox",
        "last_error",
    ): "'has an error': filtered after the status index (failed rows)",
    ("members_memberlinkrequest", "user_id"): (
        "'record linked to another account' compares the record's account with the applicant (two "
        "columns): applied to the street's requests, found by linkrequest_street_idx"
    ),
    ("members_user", "id"): "the same two-column comparison, on the joined account",
}


# --- What a filter adds to a query ----------------------------------------------------------------


def _direct_cols(expression) -> list[Col]:
    """Columns an expression reads itself (not those of subqueries inside it)."""
    if isinstance(expression, Col):
        return [expression]
    if isinstance(expression, Query) or hasattr(expression, "query"):
        return []
    found = []
    for source in getattr(expression, "get_source_expressions", lambda: [])():
        if source is not None:
            found += _direct_cols(source)
    return found


def _subqueries(expression) -> list[Query]:
    if isinstance(expression, Query):
        return [expression]
    if isinstance(getattr(expression, "query", None), Query):
        return [expression.query]
    found = []
    if isinstance(expression, list | tuple):
        for item in expression:
            found += _subqueries(item)
        return found
    for source in getattr(expression, "get_source_expressions", lambda: [])():
        if source is not None:
            found += _subqueries(source)
    return found


def _column(col: Col) -> tuple[str, str]:
    return col.target.model._meta.db_table, col.target.column


def query_columns(query: Query) -> set[tuple[str, str, str]]:
    """(table, column, "index" | "scan") for every column the query's filters and joins read."""
    found: set[tuple[str, str, str]] = set()

    def walk(node, current: Query) -> None:
        if isinstance(node, WhereNode):
            for child in node.children:
                walk(child, current)
            return
        if isinstance(node, Lookup):
            same_query_rhs = [c for c in _direct_cols(node.rhs) if c.alias in current.alias_map]
            btree = isinstance(node.lhs, Col) and node.lookup_name in BTREE_LOOKUPS and not same_query_rhs
            for col in _direct_cols(node.lhs) + same_query_rhs:
                found.add((*_column(col), "index" if btree else "scan"))
            for sub in _subqueries(node.lhs) + _subqueries(node.rhs):
                walk_query(sub)
            return
        for col in _direct_cols(node):  # a bare boolean expression
            found.add((*_column(col), "scan"))
        for sub in _subqueries(node):
            walk_query(sub)

    def walk_query(q: Query) -> None:
        for alias, join in q.alias_map.items():
            if isinstance(join, Join) and q.alias_refcount.get(alias, 1):
                parent = q.alias_map[join.parent_alias].table_name
                for lhs, rhs in join.join_fields:
                    found.add((parent, lhs.column, "index"))
                    found.add((join.table_name, rhs.column, "index"))
        walk(q.where, q)

    walk_query(query)
    return found


# --- What the database has ------------------------------------------------------------------------


def database_indexes() -> dict[str, list[dict]]:
    """Per table: each index's name, key columns (None for an expression) and partial condition."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.relname, i.relname, ix.indnkeyatts,
                   ARRAY(SELECT a.attname FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, n)
                         LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
                         ORDER BY k.n),
                   pg_get_expr(ix.indpred, ix.indrelid)
            FROM pg_index ix
            JOIN pg_class i ON i.oid = ix.indexrelid
            JOIN pg_class t ON t.oid = ix.indrelid
            JOIN pg_namespace ns ON ns.oid = t.relnamespace
            WHERE ns.nspname = current_schema() AND ix.indisvalid
            """
        )
        indexes: dict[str, list[dict]] = {}
        for table, name, key_count, columns, condition in cursor.fetchall():
            indexes.setdefault(table, []).append(
                {"name": name, "keys": list(columns[:key_count]), "condition": condition}
            )
    return indexes


def uncovered(columns: set[tuple[str, str, str]], indexes: dict[str, list[dict]]) -> list[str]:
    problems = []
    for table, column, kind in sorted(columns):
        if (table, column) in NO_INDEX_NEEDED:
            continue
        if kind == "scan":
            problems.append(
                f"{table}.{column}: not answerable from a B-tree, and no reason in NO_INDEX_NEEDED"
            )
            continue
        leading = [i for i in indexes.get(table, []) if i["condition"] is None and i["keys"][:1] == [column]]
        if leading or (table, column) in WITHIN_INDEX:
            continue
        problems.append(f"{table}.{column}: no index leads with it, and it is in neither allowlist")
    return problems


# --- The filters ------------------------------------------------------------------------------------


@pytest.fixture
def world(street_a, street_b):
    Group.objects.get_or_create(name="测试组")  # the user admin's group filter offers a choice
    return [make_territory(street_a, "甲"), make_territory(street_b, "丙")]


@pytest.fixture
def superuser_request(superuser):
    def build(query_string: str = ""):
        request = RequestFactory().get(f"/admin/?{query_string}")
        request.user = superuser
        return request

    return build


def project_admins():
    return sorted(
        (
            (model, model_admin)
            for model, model_admin in admin.site._registry.items()
            if model._meta.app_label in APPS
        ),
        key=lambda pair: pair[0]._meta.label,
    )


def admin_filter_columns(model_admin, build_request) -> dict[str, set]:
    """Per list filter: the columns its choices add to the admin's (superuser's) list query."""
    base_request = build_request()
    changelist: ChangeList = model_admin.get_changelist_instance(base_request)
    base = query_columns(changelist.queryset.query)
    added: dict[str, set] = {}
    for spec in changelist.filter_specs:
        title = str(spec.title)
        added[title] = set()
        for choice in spec.choices(changelist):
            query_string = choice["query_string"].lstrip("?")
            if not query_string:
                continue
            filtered = model_admin.get_changelist_instance(build_request(query_string))
            added[title] |= query_columns(filtered.queryset.query) - base
    return added


def test_every_admin_list_filter_can_use_an_index(world, superuser_request):
    indexes = database_indexes()
    problems, walked = [], 0
    for model, model_admin in project_admins():
        if not model_admin.list_filter:
            continue
        for title, columns in admin_filter_columns(model_admin, superuser_request).items():
            assert columns, f"{model._meta.label} filter {title}: no choice added a condition (no data?)"
            walked += 1
            problems += [
                f"{model._meta.label} admin filter {title}: {p}" for p in uncovered(columns, indexes)
            ]
    assert walked > 40  # the walk itself works
    assert not problems, "\n".join(problems)


def filtersets() -> list[type[django_filters.FilterSet]]:
    found = []
    for app in APPS:
        try:
            module = importlib.import_module(f"{app}.filtersets")
        except ModuleNotFoundError:
            continue
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, django_filters.FilterSet)
                and cls.__module__ == module.__name__
                and getattr(cls._meta, "model", None) is not None
            ):
                found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__name__}")


def sample_values(field: forms.Field) -> list:
    """Raw parameter values (what a request carries) that ``field`` accepts."""
    if isinstance(field, forms.ModelChoiceField):
        first = field.queryset.order_by("pk").first()
        assert first is not None, f"no {field.queryset.model.__name__} to filter by"
        return [str(first.pk)]
    if isinstance(field, forms.MultipleChoiceField):
        return [[value for value, _label in field.choices if value][:1]]
    if isinstance(field, forms.ChoiceField):
        return [next(value for value, _label in field.choices if value)]
    if isinstance(field, forms.NullBooleanField | forms.BooleanField):
        return ["true", "false"]
    if isinstance(field, forms.DateField):
        return [datetime.date.today().isoformat()]
    if isinstance(field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return ["1"]
    if isinstance(field, forms.CharField):
        return ["党课"]
    raise AssertionError(f"no sample value for a {type(field).__name__}: add one to sample_values()")


@pytest.mark.parametrize("filterset_class", filtersets(), ids=lambda cls: cls.__name__)
def test_every_filterset_field_can_use_an_index(world, superuser_request, filterset_class):
    model = filterset_class._meta.model
    indexes = database_indexes()
    request = superuser_request()
    base = query_columns(model._default_manager.all().query)
    form = filterset_class(data={}, queryset=model._default_manager.all(), request=request).form
    problems = []
    assert filterset_class.base_filters
    for name in filterset_class.base_filters:
        columns: set = set()
        for value in sample_values(form.fields[name]):
            filterset = filterset_class(
                data={name: value}, queryset=model._default_manager.all(), request=request
            )
            assert filterset.is_valid(), (name, value, filterset.errors)
            columns |= query_columns(filterset.qs.query) - base
        assert columns, f"{filterset_class.__name__}.{name}: the sample value added no condition"
        problems += [f"{filterset_class.__name__}.{name}: {p}" for p in uncovered(columns, indexes)]
    assert not problems, "\n".join(problems)


def test_allowlists_name_only_columns_that_are_filtered(world, superuser_request):
    """An entry for a filter that went away would excuse a future filter unseen: remove it."""
    request = superuser_request()
    seen: set[tuple[str, str]] = set()
    for _model, model_admin in project_admins():
        if model_admin.list_filter:
            for columns in admin_filter_columns(model_admin, superuser_request).values():
                seen |= {(table, column) for table, column, _kind in columns}
    for filterset_class in filtersets():
        queryset = filterset_class._meta.model._default_manager.all()
        form = filterset_class(data={}, queryset=queryset, request=request).form
        for name in filterset_class.base_filters:
            for value in sample_values(form.fields[name]):
                filterset = filterset_class(data={name: value}, queryset=queryset, request=request)
                seen |= {(table, column) for table, column, _kind in query_columns(filterset.qs.query)}
    assert sorted(set(WITHIN_INDEX) - seen) == []
    assert sorted(set(NO_INDEX_NEEDED) - seen) == []


def test_allowlisted_indexes_exist_and_hold_their_column():
    indexes = database_indexes()
    for (table, column), name in WITHIN_INDEX.items():
        [index] = [i for i in indexes.get(table, []) if i["name"] == name] or [None]
        assert index is not None, f"{table}: no index {name}"
        assert column in index["keys"] or column in (index["condition"] or ""), (name, column)
        assert (table, column) not in NO_INDEX_NEEDED, f"{table}.{column} in both lists"
