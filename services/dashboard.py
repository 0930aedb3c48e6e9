"""The admin dashboard (/admin/dashboard/): the headline figures of services/stats.py, with charts.

For social workers, district staff and superusers, each for their own
territory; the numbers are the same the API's stats/coverage and
stats/activity give, because both call services/stats.py.
"""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from buildings.models import District, Street
from committees.selectors import open_demands_for_worker
from committees.stats import demand_stats
from core.scoping import has_staff_scope, scope_queryset
from services import community, stats
from services.models import Event


class DashboardFilterForm(forms.Form):
    district = forms.ModelChoiceField(queryset=District.objects.none(), required=False, label=_("区"))
    street = forms.ModelChoiceField(queryset=Street.objects.none(), required=False, label=_("街道"))
    date_from = forms.DateField(
        required=False,
        label=_("活动开始日期从"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        required=False, label=_("到"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = scope_queryset(District.objects.order_by("code"), user)
        self.fields["street"].queryset = scope_queryset(
            Street.objects.select_related("district").order_by("district__code", "name"), user
        )
        self.fields["district"].empty_label = _("全部")
        self.fields["street"].empty_label = _("全部")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("结束日期不能早于开始日期。"))
        return cleaned


def _default_period(today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The last twelve months, from the first of the month a year ago to the end of this month."""
    start = today.replace(day=1).replace(year=today.year - 1)
    next_month = (today.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return start, next_month - datetime.timedelta(days=1)


def _chart_data(
    coverage: dict, activity: dict, hours_by_month: list | None = None, demands: dict | None = None
) -> dict:
    rows = coverage["streets"] if len(coverage["districts"]) <= 1 else coverage["districts"]
    rows = [row for row in rows if row["buildings"]]  # a street without buildings has no bar to show
    return {
        "coverage": {
            "labels": [row["name"] for row in rows],
            "coverage": [row["coverage_percent"] for row in rows],
            "share": [row["party_member_share_percent"] for row in rows],
        },
        "months": {
            "labels": [row["month"] for row in activity["by_month"]],
            "events": [row["events"] for row in activity["by_month"]],
            "bookings": [row["bookings"] for row in activity["by_month"]],
            "attended": [row["attended"] for row in activity["by_month"]],
            "no_show": [row["no_show"] for row in activity["by_month"]],
            "attendance_rate": [row["attendance_rate"] for row in activity["by_month"]],
        },
        "kinds": {
            "labels": [row["kind_label"] for row in activity["by_kind"]],
            "events": [row["events"] for row in activity["by_kind"]],
            "bookings": [row["bookings"] for row in activity["by_kind"]],
        },
        "hours": {
            "labels": [row["label"] for row in hours_by_month or []],
            "hours": [float(row["hours"]) for row in hours_by_month or []],
        },
        # Enterprises' demands per street: the same figures as the table under the chart.
        "demands": {
            "labels": [row["name"] for row in (demands or {}).get("streets", [])],
            "received": [row["received"] for row in (demands or {}).get("streets", [])],
            "resolved": [row["resolved"] for row in (demands or {}).get("streets", [])],
            "overdue": [row["overdue_now"] for row in (demands or {}).get("streets", [])],
        },
        "text": {
            "received": str(_("收到")),
            "resolved": str(_("已办结")),
            "overdue": str(_("当前超期")),
            "hours": str(_("志愿服务时长（小时）")),
            "coverage": str(_("重点楼宇党组织覆盖率（%）")),
            "share": str(_("党员占从业人员比例（%）")),
            "events": str(_("活动")),
            "bookings": str(_("预约")),
            "attended": str(_("签到")),
            "no_show": str(_("未到场")),
            "attendance_rate": str(_("到场率（%）")),
        },
    }


def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    context = {
        **admin.site.each_context(request),
        "title": _("党建数据看板"),
        "has_scope": has_staff_scope(user),
    }
    if not context["has_scope"]:
        return render(request, "admin/dashboard.html", context)
    default_from, default_to = _default_period(timezone.localdate())
    form = DashboardFilterForm(
        request.GET or None, user=user, initial={"date_from": default_from, "date_to": default_to}
    )
    params = {"district": None, "street": None, "date_from": default_from, "date_to": default_to}
    if form.is_bound and form.is_valid():
        params.update({key: value for key, value in form.cleaned_data.items() if value is not None})
        if not form.cleaned_data.get("date_from") and not form.cleaned_data.get("date_to"):
            params["date_from"], params["date_to"] = default_from, default_to
    coverage = stats.coverage(
        user=user,
        district_ids=[params["district"].pk] if params["district"] else None,
        street_ids=[params["street"].pk] if params["street"] else None,
    )
    activity = stats.activity(
        user=user,
        district_ids=[params["district"].pk] if params["district"] else None,
        street_ids=[params["street"].pk] if params["street"] else None,
        date_from=params["date_from"],
        date_to=params["date_to"],
    )
    demands = demand_stats(
        user=user,
        district_ids=[params["district"].pk] if params["district"] else None,
        street_ids=[params["street"].pk] if params["street"] else None,
        date_from=params["date_from"],
        date_to=params["date_to"],
    )
    # Building and community together: the same figures as the API's stats/community and
    # volunteer-hours (aggregates only, never a list of people).
    community_figures = community.community_stats(user=user)
    hours_by_month = community.volunteer_hours(
        user=user, by="month", date_from=params["date_from"], date_to=params["date_to"]
    )
    context.update(
        demands=demands,
        my_open_demands=open_demands_for_worker(user=user),
        today=timezone.localdate(),
        community=community_figures,
        hours_by_month=hours_by_month,
        form=form,
        coverage=coverage,
        activity=activity,
        period=(params["date_from"], params["date_to"]),
        chart_data=_chart_data(coverage, activity, hours_by_month, demands),
        kinds=Event.Kind.choices,
    )
    return render(request, "admin/dashboard.html", context)
