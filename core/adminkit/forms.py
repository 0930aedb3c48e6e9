"""Change forms: personal data protected, constraints validated with every field they read, a
refusal shown on the form, and the note asked for before an action."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _t

from core.adminkit.errors import ConstraintViolation  # noqa: F401
from core.masking import mask_value


class PersonalDataProtectedFormMixin:
    """Hides the stored phone/ID number from users without the personal-data permission.

    The field is shown empty with the masked value as a hint; left empty, the
    stored value is kept; filled in, it replaces the stored value (so a social
    worker can correct a number without ever reading the old one).
    """

    protected_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._protected_originals = {}
        if not (self.instance and self.instance.pk):
            return
        for name in self.protected_fields:
            field = self.fields.get(name)
            if field is None:
                continue
            current = getattr(self.instance, name, "") or ""
            self._protected_originals[name] = current
            self.initial[name] = ""
            field.required = False
            masked = mask_value(name, current) or _t("（空）")
            field.widget.attrs["placeholder"] = masked
            field.help_text = _t("当前：%(masked)s。留空则保持不变；如需更正，请输入完整的新值。") % {
                "masked": masked
            }

    def clean(self):
        cleaned = super().clean()
        for name, original in self._protected_originals.items():
            if name in cleaned and cleaned[name] in ("", None):
                cleaned[name] = original
        return cleaned


def with_form_error(form_class, message: str):
    """The same form, invalid with ``message`` as its non-field error."""

    def clean(self):
        cleaned = super(form, self).clean()
        self.add_error(None, message)
        return cleaned

    form = type(form_class.__name__, (form_class,), {"clean": clean, "__module__": form_class.__module__})
    return form


def _condition_fields(q) -> set[str]:
    names = set()
    for child in q.children:
        if isinstance(child, models.Q):
            names |= _condition_fields(child)
        else:
            names.add(child[0].split("__")[0])
    return names


def exclusion_condition_fields(model) -> frozenset[str]:
    """Fields read by the conditions of the model's PostgreSQL exclusion constraints."""
    from django.contrib.postgres.constraints import ExclusionConstraint

    names: set[str] = set()
    for constraint in model._meta.constraints:
        if isinstance(constraint, ExclusionConstraint) and constraint.condition is not None:
            names |= _condition_fields(constraint.condition)
    return frozenset(names)


def include_in_validation(form_class, names: Iterable[str] = (), *, inline: bool = False):
    """Validate the model's constraints with these fields too (from the instance's values).

    Django leaves out of a form's constraint validation every field that is not
    on the form (read-only fields, an inline's foreign key to its parent) or
    that has an error. Two things go wrong: a constraint over such a field is
    silently skipped (the database then refuses, a 500), and
    ExclusionConstraint.validate() crashes with a FieldError when its condition
    reads such a field. The fields read by exclusion-constraint conditions are
    always included, as are ``names`` (for an inline: its foreign key, which
    ModelForm excludes once more after this hook, hence the second pass).
    """
    names = frozenset(names) | exclusion_condition_fields(form_class._meta.model)
    if not names:
        return form_class

    def _get_validation_exclusions(self):
        return super(form, self)._get_validation_exclusions() - names

    def _post_clean(self):
        super(form, self)._post_clean()
        # ModelForm adds an inline's foreign key to the exclusions after the hook
        # above; validate the constraints once more with it, if all else is valid.
        if not self._errors:
            try:
                self.instance.validate_constraints(exclude=self._get_validation_exclusions())
            except ValidationError as exc:
                self._update_errors(exc)

    attrs = {"_get_validation_exclusions": _get_validation_exclusions, "__module__": form_class.__module__}
    if inline:
        attrs["_post_clean"] = _post_clean
    form = type(form_class.__name__, (form_class,), attrs)
    return form


def protect_personal_fields(form_class, fields: Iterable[str]):
    fields = tuple(fields)
    return type(
        f"PersonalDataProtected{form_class.__name__}",
        (PersonalDataProtectedFormMixin, form_class),
        {"protected_fields": fields, "__module__": form_class.__module__},
    )


def note_form_response(model_admin, request, queryset, *, action: str, title: str, label: str):
    """An intermediate page asking for a note before an action (e.g. the reason for a rejection).

    Returns None when the note was submitted (the caller then runs the action with
    ``request.POST["note"]``), otherwise the page to show.
    """
    form = NoteForm(request.POST if "confirm" in request.POST else None, label=label)
    if form.is_bound and form.is_valid():
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "subtitle": None,
        "form": form,
        "queryset": queryset,
        "action": action,
        "opts": model_admin.opts,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
    }
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(request, "admin/action_note.html", context)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=200, required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, label: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["note"].label = label
