"""Portal forms for demands: raising one (enterprise prefilled, attachments checked), reopening, rating."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from buildings.models import Enterprise

from .attachments import MAX_FILES, attachment_type
from .models import DemandCategory, EnterpriseContact


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


def raisable_enterprises(user):
    """The enterprises ``user`` may raise a demand for in the portal: their employer and those they speak for."""
    ids = set(EnterpriseContact.objects.filter(user=user).values_list("enterprise_id", flat=True))
    if user.enterprise_id:
        ids.add(user.enterprise_id)
    return Enterprise.objects.filter(pk__in=ids).select_related("building").order_by("name")


class DemandForm(forms.Form):
    enterprise = forms.ModelChoiceField(queryset=Enterprise.objects.none(), label=_("企业"))
    category = forms.ModelChoiceField(queryset=DemandCategory.objects.filter(is_active=True), label=_("类别"))
    title = forms.CharField(max_length=100, label=_("标题"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label=_("详细描述"))
    attachments = MultipleFileField(
        required=False,
        label=_("附件"),
        help_text=_("可选：图片（JPG、PNG、WebP）或PDF，每个不超过5MB，最多5个。"),
        widget=MultipleFileInput(attrs={"accept": "image/jpeg,image/png,image/webp,application/pdf"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        enterprises = raisable_enterprises(user)
        self.fields["enterprise"].queryset = enterprises
        if user.enterprise_id:
            self.fields["enterprise"].initial = user.enterprise_id

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        if len(files) > MAX_FILES:
            raise ValidationError(_("最多上传%(n)s个附件。") % {"n": MAX_FILES})
        errors, checked = [], []
        for upload in files:
            try:
                checked.append((upload, attachment_type(upload)))
            except ValidationError as exc:
                errors.extend(exc.messages)
        if errors:
            raise ValidationError(errors)
        return checked


class ReopenForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, label=_("仍未解决的情况")
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(i, str(i)) for i in range(5, 0, -1)], coerce=int, label=_("评分"), widget=forms.RadioSelect
    )
    comment = forms.CharField(max_length=500, required=False, label=_("评价（可选）"))


class NoteForm(forms.Form):
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=1000, label=_("进展说明"))


class ResolveForm(forms.Form):
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=2000, label=_("办理结果（提出人可见）")
    )
