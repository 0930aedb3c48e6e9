"""Forms of the accounts pages: sign-up, profile, party-member link request.

Building and employer are chosen with an autocomplete field that also works
without JavaScript: the visible text box is submitted too, and a name that
matches exactly one record is accepted.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from buildings.models import Building, Enterprise
from core.forms import AutocompleteModelChoiceField, NoLabelSuffix, is_id
from core.punctuation import parens

from .models import User
from .validators import validate_mobile


def building_label(building: Building) -> str:
    return f"{building.name}{parens(building.address)}"


def building_field(**kwargs) -> AutocompleteModelChoiceField:
    return AutocompleteModelChoiceField(
        Building.objects.all(),
        url=reverse_lazy("autocomplete_buildings"),
        label_from_instance=building_label,
        placeholder=_("输入楼宇名称或地址"),
        **kwargs,
    )


def enterprise_field(*, depends_on: str = "id_building_value", **kwargs) -> AutocompleteModelChoiceField:
    return AutocompleteModelChoiceField(
        Enterprise.objects.all(),
        url=reverse_lazy("autocomplete_enterprises"),
        depends_on=depends_on,
        placeholder=_("先选楼宇，再输入单位名称"),
        **kwargs,
    )


class _BuildingEnterpriseMixin:
    """Narrows the employer to the chosen building, so a typed name is matched there only."""

    def _narrow_enterprises(self) -> None:
        building_id = (self.data.get("building") or "").strip() if self.is_bound else ""
        if is_id(building_id):
            self.fields["enterprise"].queryset = Enterprise.objects.filter(building_id=building_id)

    def clean(self):
        cleaned = super().clean()
        building, enterprise = cleaned.get("building"), cleaned.get("enterprise")
        if building and enterprise and enterprise.building_id != building.pk:
            self.add_error("enterprise", _("工作单位不在所选楼宇中。"))
        return cleaned


class SignUpForm(NoLabelSuffix, _BuildingEnterpriseMixin, UserCreationForm):
    """Username, mobile, email, password; who one is; building and employer by autocomplete.

    An employee names their building (and employer); a delivery rider names their platform or
    station instead; a resident neither.
    """

    person_type = forms.ChoiceField(
        label=_("我是"),
        choices=User.PersonType.choices,
        initial=User.PersonType.EMPLOYEE,
        required=False,
        widget=forms.RadioSelect,
    )
    platform = forms.CharField(
        label=_("所属平台或站点"),
        max_length=100,
        required=False,
        help_text=_("外卖骑手填写，如“饿了么·长寿路站”。"),
    )

    phone = forms.CharField(
        label=_("手机号码"),
        max_length=11,
        validators=[validate_mobile],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    email = forms.EmailField(
        label=_("电子邮箱"),
        help_text=_("用于找回密码和接收活动提醒。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("real_name", "username", "phone", "email")
        labels = {"real_name": _("姓名")}
        help_texts = {"real_name": _("按您的习惯书写，如“张伟”；通知和签到时使用。")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"] = building_field(
            label=_("所在楼宇"), required=False, help_text=_("楼宇白领必填。")
        )
        self.fields["enterprise"] = enterprise_field(
            label=_("工作单位"),
            required=False,
            help_text=_("在列表中找不到您的单位时可以留空，以后在个人资料中补填。"),
        )
        self.fields["real_name"].required = True
        self.fields["real_name"].widget.attrs["autocomplete"] = "name"
        self.order_fields(
            ["username", "real_name", "phone", "email", "person_type", "building", "enterprise", "platform"]
        )
        self._narrow_enterprises()

    def clean_real_name(self):
        return " ".join(self.cleaned_data["real_name"].split())

    def validate_password_for_user(self, user, password_field_name="password1"):
        # A password too short or too common is the password's fault, shown under it; only
        # "the two do not match" belongs under the confirmation.
        super().validate_password_for_user(user, password_field_name=password_field_name)

    def clean_person_type(self):
        return self.cleaned_data.get("person_type") or User.PersonType.EMPLOYEE

    def clean(self):
        cleaned = super().clean()
        person_type = cleaned.get("person_type") or User.PersonType.EMPLOYEE
        if person_type == User.PersonType.EMPLOYEE:
            if not cleaned.get("building") and "building" not in self.errors:
                self.add_error("building", self.fields["building"].error_messages["required"])
        else:
            # A rider or resident works in no building of ours: what was typed there is dropped.
            cleaned["building"], cleaned["enterprise"] = None, None
            for field in ("building", "enterprise"):
                self.errors.pop(field, None)
        if person_type == User.PersonType.RIDER and not (cleaned.get("platform") or "").strip():
            self.add_error("platform", _("外卖骑手请填写所属平台或站点。"))
        return cleaned

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError(_("该邮箱已注册。如忘记密码，请使用“找回密码”。"), code="duplicate_email")
        return email

    def clean_phone(self):
        # Not checked against other accounts: a phone logs nobody in, and "this number is
        # registered" would tell anyone who asks whose number is on file (issue 14).
        return self.cleaned_data["phone"].strip()


class ProfileForm(NoLabelSuffix, _BuildingEnterpriseMixin, forms.ModelForm):
    """What an employee may change about themselves (not staff flags, not the member link).

    Not the e-mail or the phone: those change with the password, on their own page
    (``ContactChangeForm``, members/contacts.py).
    """

    class Meta:
        model = User
        fields = ("real_name", "language", "notify_by_email", "notify_in_portal")
        labels = {"real_name": _("姓名")}
        help_texts = {
            "real_name": _("按您的习惯书写，如“张伟”；签到时工作人员看到这个名字。"),
            "language": _("网站界面、提醒邮件和站内通知使用的语言。"),
            "notify_by_email": _("预约确认、候补转正、活动提醒和变更发到您的邮箱。"),
            "notify_in_portal": _("同样的消息显示在本站的“通知”里。"),
        }

    # Who I am and where I work first, then how the portal talks to me.
    field_order = (
        "real_name",
        "building",
        "enterprise",
        "language",
        "notify_by_email",
        "notify_in_portal",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["building"] = building_field(label=_("所在楼宇"))
        self.fields["enterprise"] = enterprise_field(label=_("工作单位"), required=False)
        if not self.is_bound:
            self.initial["building"] = self.instance.building_id
            self.initial["enterprise"] = self.instance.enterprise_id
        self.fields["real_name"].widget.attrs["autocomplete"] = "name"
        self._narrow_enterprises()
        self.order_fields(self.field_order)

    def clean_real_name(self):
        return " ".join(self.cleaned_data["real_name"].split())

    def save(self, commit=True):
        self.instance.building = self.cleaned_data["building"]
        self.instance.enterprise = self.cleaned_data.get("enterprise")
        return super().save(commit=commit)


class MemberLinkRequestForm(NoLabelSuffix, forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, help_text=_("与党员档案中的姓名一致。"))
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=18,
        min_length=18,
        help_text=_("只用于匹配您的党员档案，不会显示给他人。"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
        # Django's own length messages speak of "this value" and characters; say what is meant.
        error_messages={
            "min_length": _("身份证号应为 18 位（目前 %(show_value)s 位）。"),
            "max_length": _("身份证号应为 18 位（目前 %(show_value)s 位）。"),
        },
    )

    def clean_id_number(self):
        from .validators import validate_id_number

        value = self.cleaned_data["id_number"].strip().upper()
        validate_id_number(value)
        return value


class ContactChangeForm(NoLabelSuffix, forms.Form):
    """The person's own e-mail and phone, changed with their password (members/contacts.py)."""

    email = forms.EmailField(
        label=_("电子邮箱"),
        help_text=_("用于找回密码和接收提醒。修改后，我们会向新邮箱发送确认链接，向原邮箱发送通知。"),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=11,
        validators=[validate_mobile],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "tel"}),
    )
    password = forms.CharField(
        label=_("当前密码"),
        strip=False,
        help_text=_("为确认是您本人操作。"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user: User, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.request = user, request
        if not self.is_bound:
            self.initial.update(email=user.email, phone=user.phone)

    def clean_password(self):
        password = self.cleaned_data["password"]
        # authenticate(): a wrong password counts towards the login lockout (django-axes).
        if authenticate(self.request, username=self.user.get_username(), password=password) is None:
            raise ValidationError(_("密码不正确。"), code="wrong_password")
        return password

    def clean_email(self):
        return User.objects.normalize_email(self.cleaned_data["email"].strip())

    @property
    def email_changed(self) -> bool:
        return self.cleaned_data["email"].lower() != (self.user.email or "").lower()

    @property
    def phone_changed(self) -> bool:
        return self.cleaned_data["phone"].strip() != self.user.phone


class HomeRegistrationForm(NoLabelSuffix, forms.Form):
    """双报到: the community (partner) where the member lives."""

    partner = forms.ModelChoiceField(
        queryset=None,
        label=_("居住地社区（共建单位）"),
        empty_label=_("请选择"),
    )

    def __init__(self, *args, **kwargs):
        from buildings.models import Partner

        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = Partner.objects.select_related("street").order_by(
            "street__name", "name"
        )
        self.fields["partner"].label_from_instance = lambda p: f"{p.street.name} · {p.name}"
