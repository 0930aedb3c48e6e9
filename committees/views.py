"""Portal pages for enterprise demands: raise one, my demands, the detail with its timeline,
confirm / reopen / rate (the raiser), start / progress note / resolve (the handler: a committee
seat's linked account, who has no admin), and the attachments (served only to those who may see
the demand)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import demands as writes
from . import selectors
from .attachments import store_attachment
from .forms import DemandForm, NoteForm, RateForm, ReopenForm, ResolveForm, raisable_enterprises
from .models import DemandAttachment

PER_PAGE = 20


@login_required
@require_http_methods(["GET", "POST"])
def demand_new(request: HttpRequest) -> HttpResponse:
    if not raisable_enterprises(request.user).exists():
        return render(request, "committees/demand_no_enterprise.html", status=403)
    form = DemandForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                demand = writes.submit_demand(
                    user=request.user,
                    enterprise=data["enterprise"],
                    category=data["category"],
                    title=data["title"],
                    description=data["description"],
                )
                for upload, content_type in data["attachments"]:
                    store_attachment(
                        demand=demand, upload=upload, content_type=content_type, user=request.user
                    )
        except writes.DemandError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("诉求已提交，办理时限为%(date)s。") % {"date": demand.deadline})
            return redirect("demands:detail", pk=demand.pk)
    return render(request, "committees/demand_form.html", {"form": form})


@login_required
@require_GET
def my_demands(request: HttpRequest) -> HttpResponse:
    qs = selectors.visible_demands(request.user).order_by("-submitted_at", "-id")
    if request.GET.get("all") != "1":
        mine = qs.filter(submitter=request.user) | qs.filter(enterprise__contacts__user=request.user)
        if request.user.party_member_id:
            # A committee seat holder also handles the demands assigned to their seat.
            mine |= qs.filter(handler_seat__member_id=request.user.party_member_id)
        qs = mine.distinct()
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "committees/my_demands.html", {"page": page, "today": timezone.localdate()})


def _visible(request: HttpRequest, pk: int):
    demand = selectors.demand_detail(user=request.user, pk=pk)
    if demand is None:
        raise Http404(_("诉求不存在。"))
    return demand


@login_required
@require_GET
def demand_detail(request: HttpRequest, pk: int) -> HttpResponse:
    demand = _visible(request, pk)
    actions = writes.allowed_actions(request.user, demand)
    return render(
        request,
        "committees/demand_detail.html",
        {
            "demand": demand,
            "actions": actions,
            "reopen_form": ReopenForm(),
            "rate_form": RateForm(),
            "note_form": NoteForm(),
            "resolve_form": ResolveForm(),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_POST
def demand_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    demand = _visible(request, pk)
    try:
        if action == "confirm":
            writes.confirm_demand(user=request.user, demand=demand)
            messages.success(request, _("已确认办结，欢迎评价。"))
        elif action == "reopen":
            form = ReopenForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请说明仍未解决的情况。"))
                return redirect("demands:detail", pk=pk)
            writes.reopen_demand(user=request.user, demand=demand, reason=form.cleaned_data["reason"])
            messages.success(request, _("诉求已重新打开。"))
        elif action == "rate":
            form = RateForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请选择1至5分。"))
                return redirect("demands:detail", pk=pk)
            writes.rate_demand(
                user=request.user,
                demand=demand,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, _("感谢您的评价。"))
        elif action == "start":
            writes.start_demand(user=request.user, demand=demand)
            messages.success(request, _("已开始办理。"))
        elif action == "note":
            form = NoteForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写进展说明。"))
                return redirect("demands:detail", pk=pk)
            writes.add_note(user=request.user, demand=demand, note=form.cleaned_data["note"])
            messages.success(request, _("进展已记录。"))
        elif action == "resolve":
            form = ResolveForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写办理结果。"))
                return redirect("demands:detail", pk=pk)
            writes.resolve_demand(
                user=request.user, demand=demand, resolution=form.cleaned_data["resolution"]
            )
            messages.success(request, _("诉求已办结，等待提出人确认。"))
        else:
            raise Http404
    except writes.DemandError as exc:
        messages.error(request, exc.message)
    return redirect("demands:detail", pk=pk)


@login_required
@require_GET
def attachment_download(request: HttpRequest, pk: int) -> FileResponse:
    attachment = (
        DemandAttachment.objects.filter(
            pk=pk, demand__in=selectors.visible_demands(request.user).values("pk")
        )
        .only("file", "content_type", "original_name")
        .first()
    )
    if attachment is None:
        raise Http404(_("附件不存在。"))
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=attachment.content_type == "application/pdf",
        filename=attachment.original_name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
