"""committees/risk.py: the five colours from an enterprise's open, overdue and risk-signal demands."""

from __future__ import annotations

import datetime

import pytest

from committees import risk
from tests.buildings.factories import EnterpriseFactory
from tests.committees.factories import DemandCategoryFactory, DemandFactory

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 16)
PAST, FUTURE = datetime.date(2026, 11, 10), datetime.date(2026, 11, 30)


def test_each_colour_from_hand_made_enterprises():
    plain = DemandCategoryFactory(name="物业")
    arrears = DemandCategoryFactory(name="欠薪", is_risk_signal=True)
    green, blue, yellow, orange, red, red2 = (EnterpriseFactory() for _ in range(6))
    DemandFactory(enterprise=green, category=plain, deadline=PAST, state="declined", decline_reason="x")
    DemandFactory(enterprise=blue, category=plain, deadline=FUTURE)
    DemandFactory(enterprise=yellow, category=plain, deadline=PAST)
    DemandFactory(enterprise=yellow, category=plain, deadline=FUTURE)
    DemandFactory(enterprise=orange, category=arrears, deadline=FUTURE)
    DemandFactory(enterprise=red, category=arrears, deadline=PAST)
    for _ in range(3):
        DemandFactory(enterprise=red2, category=plain, deadline=PAST)
    ids = [e.pk for e in (green, blue, yellow, orange, red, red2)]
    assert [risk.enterprise_colours(ids, today=TODAY)[i] for i in ids] == [
        "green",
        "blue",
        "yellow",
        "orange",
        "red",
        "red",
    ]


def test_two_overdue_is_orange_and_the_rule_is_ordered():
    assert risk.colour_for(open_count=2, overdue=2, risk_open=0, risk_overdue=0) == "orange"
    assert risk.colour_for(open_count=0, overdue=0, risk_open=0, risk_overdue=0) == "green"
