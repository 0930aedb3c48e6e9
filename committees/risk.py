"""The risk colour of an enterprise (five colours, red to green) from its open demands.

A social worker may override the computed colour with a reason (``override_colour``; recorded in
``EnterpriseRiskOverride`` and its history); ``effective_colours`` gives the override where there is
one, else the computed colour — what the admin's enterprise list and the API show. The rule, as data:

* red — an open demand of a risk-signal category (wage arrears, moving out) that is overdue, or
  three or more overdue demands;
* orange — an open risk-signal demand, or two overdue demands;
* yellow — one overdue demand;
* blue — open demands, none overdue;
* green — nothing open.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildings.models import Enterprise
from core.errors import DomainError
from core.scoping import in_scope

from .models import Demand, EnterpriseRiskOverride

RED, ORANGE, YELLOW, BLUE, GREEN = "red", "orange", "yellow", "blue", "green"
COLOURS = (RED, ORANGE, YELLOW, BLUE, GREEN)


def colour_for(*, open_count: int, overdue: int, risk_open: int, risk_overdue: int) -> str:
    if risk_overdue or overdue >= 3:
        return RED
    if risk_open or overdue == 2:
        return ORANGE
    if overdue == 1:
        return YELLOW
    if open_count:
        return BLUE
    return GREEN


COUNT_NAMES = ("open_count", "overdue", "risk_open", "risk_overdue")


def count_annotations(*, today: datetime.date | None = None) -> dict[str, Coalesce]:
    """The four counts of ``colour_for`` as subqueries over enterprise rows (``annotate(**...)``)."""
    today = today or timezone.localdate()
    overdue = Q(deadline__lt=today)
    risk = Q(category__is_risk_signal=True)

    def count(condition: Q) -> Coalesce:
        rows = (
            Demand.objects.filter(enterprise_id=OuterRef("pk"), state__in=Demand.OPEN_STATES)
            .filter(condition)
            .order_by()
            .values("enterprise_id")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return Coalesce(Subquery(rows, output_field=IntegerField()), Value(0))

    return {
        "risk_open_count": count(Q()),
        "risk_overdue": count(overdue),
        "risk_risk_open": count(risk),
        "risk_risk_overdue": count(risk & overdue),
    }


def annotated_colour(row) -> str:
    """The computed colour of an enterprise row annotated with ``count_annotations``."""
    return colour_for(**{name: getattr(row, f"risk_{name}") for name in COUNT_NAMES})


def _open_counts(enterprise_ids, *, today: datetime.date | None = None) -> dict[int, dict[str, int]]:
    """``COUNT_NAMES`` of each enterprise that has open demands (one query; the others have none)."""
    today = today or timezone.localdate()
    overdue = Q(deadline__lt=today)
    risk = Q(category__is_risk_signal=True)
    rows = (
        Demand.objects.filter(enterprise_id__in=enterprise_ids, state__in=Demand.OPEN_STATES)
        .values("enterprise_id")
        .annotate(
            open_count=Count("pk"),
            overdue=Count("pk", filter=overdue),
            risk_open=Count("pk", filter=risk),
            risk_overdue=Count("pk", filter=risk & overdue),
        )
        .order_by()
    )
    return {row.pop("enterprise_id"): row for row in rows}


def enterprise_colours(enterprise_ids, *, today: datetime.date | None = None) -> dict[int, str]:
    """The colour of each enterprise in ``enterprise_ids`` (one query)."""
    enterprise_ids = list(enterprise_ids)
    colours = dict.fromkeys(enterprise_ids, GREEN)
    colours.update({pk: colour_for(**row) for pk, row in _open_counts(enterprise_ids, today=today).items()})
    return colours


# --- the social worker's override ------------------------------------------------------------------

CHANGE_PERMISSION = "committees.change_demand"
REASON_MAX_LENGTH = 500


class RiskOverrideError(DomainError):
    """The override was refused; nothing was changed."""


def effective_colours(enterprise_ids, *, today: datetime.date | None = None) -> dict[int, str]:
    """The colour shown for each enterprise: its override if any, else the computed one (two queries)."""
    enterprise_ids = list(enterprise_ids)
    colours = enterprise_colours(enterprise_ids, today=today)
    overrides = EnterpriseRiskOverride.objects.filter(enterprise_id__in=enterprise_ids).values_list(
        "enterprise_id", "colour"
    )
    colours.update(dict(overrides))
    return colours


def labelled_colours(enterprise_ids) -> dict[int, tuple[str, str]]:
    """``effective_colours`` with each colour's label (for ``buildings.figures``)."""
    labels = dict(EnterpriseRiskOverride.Colour.choices)
    return {pk: (colour, str(labels[colour])) for pk, colour in effective_colours(enterprise_ids).items()}


@dataclass(frozen=True)
class OverrideShown:
    label: str
    computed_label: str
    reason: str
    set_by: str
    set_at: datetime.datetime


@dataclass(frozen=True)
class RiskDetail:
    """What the enterprise page shows: the colour, why (the counts that made it), the override."""

    colour: str
    label: str
    reasons: list[str]
    override: OverrideShown | None


def risk_details(enterprise_ids, *, today: datetime.date | None = None) -> dict[int, RiskDetail]:
    """The colour of each enterprise with its why and its override (two queries)."""
    enterprise_ids = list(enterprise_ids)
    labels = dict(EnterpriseRiskOverride.Colour.choices)
    counts = _open_counts(enterprise_ids, today=today)
    overrides = {
        o.enterprise_id: o
        for o in EnterpriseRiskOverride.objects.filter(enterprise_id__in=enterprise_ids).select_related(
            "set_by"
        )
    }
    details = {}
    for pk in enterprise_ids:
        row = counts.get(pk, dict.fromkeys(COUNT_NAMES, 0))
        computed = colour_for(**row)
        reasons = [
            _("未办结诉求 %(n)d 条，其中超期 %(overdue)d 条")
            % {"n": row["open_count"], "overdue": row["overdue"]}
        ]
        if row["risk_open"]:
            reasons.append(
                _("风险信号类诉求 %(n)d 条，其中超期 %(overdue)d 条")
                % {"n": row["risk_open"], "overdue": row["risk_overdue"]}
            )
        override = overrides.get(pk)
        shown = None
        if override is not None:
            shown = OverrideShown(
                label=str(labels[override.colour]),
                computed_label=str(labels[computed]),
                reason=override.reason,
                set_by=override.set_by.display_name,
                set_at=override.set_at,
            )
        colour = override.colour if override is not None else computed
        details[pk] = RiskDetail(colour=colour, label=str(labels[colour]), reasons=reasons, override=shown)
    return details


def _locked_enterprise(user, enterprise: Enterprise | int) -> Enterprise:
    pk = enterprise.pk if isinstance(enterprise, Enterprise) else enterprise
    locked = Enterprise.objects.select_for_update().filter(pk=pk).first()
    if locked is None or not in_scope(locked, user, perm=CHANGE_PERMISSION):
        raise RiskOverrideError("forbidden", _("您无权调整该企业的风险色。"))
    return locked


def override_colour(
    *,
    user,
    enterprise: Enterprise | int,
    colour: str,
    reason: str,
    now: datetime.datetime | None = None,
) -> EnterpriseRiskOverride:
    """Set the enterprise's risk colour by hand, with a reason (replaces an earlier override)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if colour not in COLOURS:
        raise RiskOverrideError("bad_colour", _("请选择风险色。"))
    if not reason:
        raise RiskOverrideError("reason_required", _("调整风险色须填写理由。"))
    if len(reason) > REASON_MAX_LENGTH:
        raise RiskOverrideError("reason_too_long", _("调整理由不能超过500字。"))
    with transaction.atomic():
        locked = _locked_enterprise(user, enterprise)
        override, _created = EnterpriseRiskOverride.objects.update_or_create(
            enterprise=locked,
            defaults={"colour": colour, "reason": reason, "set_by": user, "set_at": now},
        )
    return override


def clear_override(*, user, enterprise: Enterprise | int) -> bool:
    """Go back to the computed colour; whether there was an override to clear."""
    with transaction.atomic():
        locked = _locked_enterprise(user, enterprise)
        deleted, _rows = EnterpriseRiskOverride.objects.filter(enterprise=locked).delete()
    return bool(deleted)
