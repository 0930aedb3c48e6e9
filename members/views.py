"""Accounts pages: sign up, log in/out, password change and reset, profile, member link, calendar token.

Thin: forms validate shape, ``members.accounts`` holds the rules, every action
ends with a message.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from buildings.models import Building, Enterprise
from core.forms import parse_id
from core.middleware import client_ip

from . import accounts, contacts, registrations
from .forms import (
    ContactChangeForm,
    HomeRegistrationForm,
    MemberLinkRequestForm,
    ProfileForm,
    SignUpForm,
    building_label,
)
from .models import MemberLinkRequest

AUTOCOMPLETE_LIMIT = 15
#: the session key holding a new calendar-feed key until the profile has shown it once
NEW_CALENDAR_KEY = "new_calendar_key"


def _safe_next(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _set_language_cookie(response: HttpResponse, language: str) -> HttpResponse:
    """The language cookie as Django's own language switch sets it: ``Secure`` in production."""
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )
    return response


def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        messages.info(request, _("您已登录。"))
        return redirect("portal:event_list")
    form = SignUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = accounts.register_user(
                username=data["username"],
                real_name=data["real_name"],
                email=data["email"],
                phone=data["phone"],
                password=data["password1"],
                building=data.get("building"),
                enterprise=data.get("enterprise"),
                person_type=data["person_type"],
                platform=data.get("platform", ""),
                language=(
                    request.LANGUAGE_CODE if request.LANGUAGE_CODE in dict(settings.LANGUAGES) else "zh-hans"
                ),
            )
        except accounts.AccountError as exc:
            form.add_error(None, exc.message)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(request, _("注册成功，欢迎您！现在可以预约活动了。"))
            return redirect(_safe_next(request, reverse("portal:event_list")))
    return render(request, "members/signup.html", {"form": form, "next": _safe_next(request, "")})


class NoLabelSuffixMixin:
    """Labels without Django's ":" suffix, as on every other form of the portal."""

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "label_suffix": ""}


class PortalLoginView(NoLabelSuffixMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        messages.success(self.request, _("登录成功。"))
        if user.language in dict(settings.LANGUAGES):
            _set_language_cookie(response, user.language)
        return response


class PortalLogoutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("您已退出登录。"))
        return response


class PortalPasswordChangeView(NoLabelSuffixMixin, auth_views.PasswordChangeView):
    template_name = "accounts/password_change_form.html"
    success_url = reverse_lazy("profile")  # with a message; no "done" page of our own

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("密码已修改。"))
        return response


class PortalPasswordResetView(NoLabelSuffixMixin, auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    subject_template_name = "accounts/password_reset_subject.txt"
    email_template_name = "accounts/password_reset_email.txt"


class PortalPasswordResetConfirmView(NoLabelSuffixMixin, auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    # The language select shows the language the page is in (the header switch changes only
    # the cookie), so saving the profile does not silently switch the portal back.
    shown = request.LANGUAGE_CODE if request.LANGUAGE_CODE in dict(settings.LANGUAGES) else user.language
    form = ProfileForm(request.POST or None, instance=user, initial={"language": shown})
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("个人资料已保存。"))
            return _set_language_cookie(redirect("profile"), form.cleaned_data["language"])
        messages.error(request, _("个人资料未保存，请按提示修改。"))
    link_request = (
        MemberLinkRequest.objects.filter(user=user).select_related("member").order_by("-created_at").first()
    )
    # The feed's key is shown once, on the page the reset leads to: only its digest is kept.
    new_key = request.session.pop(NEW_CALENDAR_KEY, None) if user.calendar_token_hash else None
    feed_url = request.build_absolute_uri(reverse("portal:calendar_feed", args=[new_key])) if new_key else ""
    return render(
        request,
        "members/profile.html",
        {"form": form, "link_request": link_request, "feed_url": feed_url},
    )


@login_required
def contact_change(request: HttpRequest) -> HttpResponse:
    """The person's own e-mail (confirmed from the new address) and phone, with their password."""
    user = request.user
    form = ContactChangeForm(request.POST or None, user=user, request=request)
    if request.method == "POST" and form.is_valid():
        try:
            if form.phone_changed:
                contacts.change_phone(user=user, new_phone=form.cleaned_data["phone"])
                messages.success(request, _("手机号码已修改，我们已向您的邮箱发送通知。"))
            if form.email_changed:
                contacts.request_email_change(user=user, new_email=form.cleaned_data["email"])
                messages.success(
                    request,
                    _(
                        "我们已向 %(email)s 发送确认邮件，请在 %(days)s 天内打开邮件中的链接完成修改；"
                        "在此之前，您的账号仍使用原邮箱。"
                    )
                    % {"email": form.cleaned_data["email"], "days": contacts.EMAIL_CHANGE_MAX_AGE.days},
                )
        except accounts.AccountError as exc:
            form.add_error(None, exc.message)
        else:
            if not (form.phone_changed or form.email_changed):
                messages.info(request, _("邮箱和手机号码都没有改变。"))
            return redirect("profile")
    return render(request, "accounts/contact_change.html", {"form": form})


def email_change_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The link in the confirmation mail: a page with a button (mail scanners open links; only a POST changes)."""
    if request.method == "POST":
        try:
            user = contacts.confirm_email_change(token=token)
        except accounts.AccountError as exc:
            messages.error(request, exc.message)
            return render(request, "accounts/email_change_confirm.html", {"failed": True}, status=400)
        messages.success(request, _("邮箱已修改为 %(email)s。") % {"email": user.email})
        return redirect("profile" if request.user.is_authenticated else "login")
    return render(request, "accounts/email_change_confirm.html", {"failed": False})


@login_required
def member_link_request(request: HttpRequest) -> HttpResponse:
    user = request.user
    if user.party_member_id:
        messages.info(request, _("您的账号已关联党员档案，可以预约“仅限党员”的活动。"))
        return redirect("profile")
    pending = MemberLinkRequest.objects.filter(user=user, status=MemberLinkRequest.Status.PENDING).first()
    form = MemberLinkRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts.request_member_link(
                user=user,
                name=form.cleaned_data["name"],
                id_number=form.cleaned_data["id_number"],
                address=client_ip(request) or "",
            )
        except accounts.AccountError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("申请已提交。街道社工核实后，您就可以预约“仅限党员”的活动。"))
            return redirect("profile")
    return render(request, "members/member_link_request.html", {"form": form, "pending": pending})


@login_required
@require_POST
def calendar_token(request: HttpRequest) -> HttpResponse:
    action = request.POST.get("action")
    if action == "reset":
        had = bool(request.user.calendar_token_hash)
        request.session[NEW_CALENDAR_KEY] = accounts.reset_calendar_token(user=request.user)
        messages.success(
            request,
            _("已生成新的订阅地址，旧地址已失效。")
            if had
            else _("已生成日历订阅地址，请复制到您的日历应用。"),
        )
    elif action == "revoke":
        accounts.revoke_calendar_token(user=request.user)
        request.session.pop(NEW_CALENDAR_KEY, None)
        messages.success(request, _("日历订阅已关闭，订阅地址已失效。"))
    else:
        messages.error(request, _("无法识别的操作。"))
    return redirect(reverse("profile") + "#calendar")


def _bad_request(message) -> JsonResponse:
    return JsonResponse({"error": str(message)}, status=400)


@require_GET
def autocomplete_buildings(request: HttpRequest) -> JsonResponse:
    """Buildings whose name or address contains ``q`` (public: building names and addresses are)."""
    q = request.GET.get("q", "").strip()[:50]
    if not q:
        return JsonResponse({"results": []})
    rows = (
        Building.objects.filter(Q(name__icontains=q) | Q(address__icontains=q))
        .select_related("street")
        .order_by("name", "id")[:AUTOCOMPLETE_LIMIT]
    )
    return JsonResponse(
        {"results": [{"id": b.pk, "label": building_label(b), "detail": b.street.name} for b in rows]}
    )


@require_GET
def autocomplete_enterprises(request: HttpRequest) -> JsonResponse:
    """Enterprises of one building (``building``), optionally narrowed by ``q``."""
    q = request.GET.get("q", "").strip()[:50]
    building = request.GET.get("building", "").strip()
    if building and parse_id(building) is None:
        return _bad_request(gettext_lazy("参数 building 必须是楼宇编号。"))
    qs = Enterprise.objects.all()
    if building:
        qs = qs.filter(building_id=parse_id(building))
    elif len(q) < 2:
        # Without a building, a one-letter search over the whole city is noise.
        return JsonResponse({"results": []})
    if q:
        qs = qs.filter(name__icontains=q)
    rows = qs.order_by("name", "id").only("id", "name", "floor")[:AUTOCOMPLETE_LIMIT]
    return JsonResponse(
        {
            "results": [
                {"id": e.pk, "label": e.name, "detail": _("%(floor)s层") % {"floor": e.floor}} for e in rows
            ]
        }
    )


@login_required
def home_registration(request: HttpRequest) -> HttpResponse:
    """双报到: a linked party member registers with the community where they live (one at a time)."""
    member = request.user.party_member
    if member is None:
        messages.info(request, _("请先关联党员身份，再到居住地社区报到。"))
        return redirect("profile")
    form = HomeRegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            registrations.register_with_partner(member=member, partner=form.cleaned_data["partner"])
        except registrations.RegistrationError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已在“%(name)s”报到。") % {"name": form.cleaned_data["partner"].name})
            return redirect("home_registration")
    history = member.home_registrations.select_related("partner").order_by("-registered_on", "-id")
    return render(request, "members/home_registration.html", {"form": form, "history": history})
