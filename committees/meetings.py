"""Committee meetings (楼事会): a resolution about a demand goes onto that demand's timeline, and so
does its follow-up (the day it is marked done)."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Demand, DemandStep, MeetingResolution


def put_resolution_on_timeline(
    *, resolution: MeetingResolution, user, now: datetime.datetime | None = None
) -> DemandStep | None:
    """One timeline line for a resolution that names a demand (once per resolution)."""
    if resolution.demand_id is None:
        return None
    now = now or timezone.now()
    note = _("楼事会（%(date)s）决议：%(text)s（责任人：%(owner)s，期限：%(due)s）") % {
        "date": resolution.meeting.held_on,
        "text": resolution.text,
        "owner": resolution.owner.person_name,
        "due": resolution.due_on,
    }
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=resolution.demand_id)
        return DemandStep.objects.create(
            demand=demand, actor=user, at=now, from_state=demand.state, to_state=demand.state, note=note
        )


def put_resolution_done_on_timeline(
    *, resolution: MeetingResolution, user, now: datetime.datetime | None = None
) -> DemandStep | None:
    """One timeline line when a resolution that names a demand is marked done (its follow-up)."""
    if resolution.demand_id is None or resolution.done_on is None:
        return None
    now = now or timezone.now()
    note = _("楼事会决议已完成（%(date)s）：%(text)s（责任人：%(owner)s）") % {
        "date": resolution.done_on,
        "text": resolution.text,
        "owner": resolution.owner.person_name,
    }
    with transaction.atomic():
        demand = Demand.objects.select_for_update().get(pk=resolution.demand_id)
        return DemandStep.objects.create(
            demand=demand, actor=user, at=now, from_state=demand.state, to_state=demand.state, note=note
        )
