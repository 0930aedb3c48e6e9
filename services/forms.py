"""Forms of the portal pages: check-in by code, space-reservation request."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.forms import NoLabelSuffix
from core.punctuation import parens

from .models import Event, Space


class EventChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Event) -> str:
        start = timezone.localtime(obj.starts_at)
        return f"{start:%m-%d %H:%M} {obj.title}{parens(obj.space.station.owner_name)}"


class CheckInForm(NoLabelSuffix, forms.Form):
    """The code printed under a booking's QR code, typed or scanned; the event is optional."""

    code = forms.CharField(
        label=_("签到码"),
        max_length=200,
        help_text=_("扫描预约二维码，或输入二维码下方的签到码。"),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "off", "spellcheck": "false", "autofocus": True}
        ),
    )
    event = EventChoiceField(
        queryset=Event.objects.none(),
        required=False,
        label=_("本场活动（可选）"),
        empty_label=_("不限活动"),
        help_text=_("选择后，其他活动的签到码会被拒绝。"),
    )

    def __init__(self, *args, event_queryset=None, **kwargs):
        super().__init__(*args, **kwargs)
        if event_queryset is not None:
            self.fields["event"].queryset = event_queryset

    def clean_code(self):
        return "".join(self.cleaned_data["code"].split())


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ReservationRequestForm(NoLabelSuffix, forms.Form):
    """A party organization's request for a space of one station."""

    organization = forms.ModelChoiceField(queryset=None, label=_("党组织"), empty_label=None)
    space = forms.ModelChoiceField(queryset=None, label=_("空间"), empty_label=None)
    purpose = forms.CharField(label=_("用途"), max_length=200, help_text=_("如：支部主题党日、组织生活会"))
    attendees = forms.IntegerField(label=_("预计人数"), min_value=1, max_value=10000)
    starts_at = forms.DateTimeField(
        label=_("开始时间"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间"), widget=DateTimeLocalInput(), input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
    )

    def __init__(self, *args, organizations, station, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["space"].queryset = Space.objects.filter(station=station).order_by("name")
        self.fields["space"].label_from_instance = lambda s: (
            _("%(name)s（%(function)s，可容纳%(n)s人）")
            % {
                "name": s.name,
                "function": s.get_function_display(),
                "n": s.capacity,
            }
        )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("starts_at"), cleaned.get("ends_at")
        if start and end and end <= start:
            self.add_error("ends_at", _("结束时间必须晚于开始时间。"))
        if start and start <= timezone.now():
            self.add_error("starts_at", _("开始时间必须在将来。"))
        space, attendees = cleaned.get("space"), cleaned.get("attendees")
        if space and attendees and attendees > space.capacity:
            self.add_error("attendees", _("预计人数超过空间容纳人数（%(n)s人）。") % {"n": space.capacity})
        return cleaned
