"""Form helpers every app's forms and filtersets use.

Ids as typed in a URL or a form (``parse_id``), labels without Django's ":" suffix,
refusing NUL characters before any field reads them, and an autocomplete widget and
field that also work without JavaScript (the visible text box is submitted too, and a
name that matches exactly one record is accepted).
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _


class NoLabelSuffix:
    """Labels without Django's ":" suffix (Chinese labels read better without it)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def is_id(value) -> bool:
    """Whether ``value`` is a record id as typed in a URL or form: ASCII digits only.

    (``str.isdigit()`` is also true for "²" or "①", which ``int()`` refuses.)
    """
    return isinstance(value, int) or (isinstance(value, str) and value.isascii() and value.isdigit())


def parse_id(value) -> int | None:
    """``value`` as a record id (a positive bigint), or None when it cannot be one ("²", "-1", 10**20)."""
    if not is_id(value):
        return None
    number = int(value)
    return number if 0 < number < 2**63 else None


def contains_nul(value) -> bool:
    """Whether a submitted value (a string, or a list of them) holds a NUL character.

    PostgreSQL cannot take one in a string, so such a value must be refused before it
    reaches a query.
    """
    if isinstance(value, (list, tuple)):
        return any(contains_nul(item) for item in value)
    return isinstance(value, str) and "\x00" in value


NUL_MESSAGE = _("含有非法字符。")


class RefuseNulCharacters:
    """Form mixin: a field whose submitted value holds a NUL character gets a field error.

    The value is taken out of the data before any field reads it, so no field's
    ``to_python`` (a name lookup, a custom filter) can pass it on to PostgreSQL, whatever
    the field. (Django's ``CharField`` refuses NUL itself; choice, model-choice and custom
    fields do not all do so.) Used by every filterset (``core.filters.FilterSet``).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._nul_fields: list[str] = []
        if not self.is_bound:
            return
        getlist = getattr(self.data, "getlist", None)
        bad_keys = [key for key in self.data if contains_nul(getlist(key) if getlist else self.data[key])]
        if not bad_keys:
            return

        def submitted_with_nul(name: str, field) -> bool:
            key = self.add_prefix(name)
            # The field's own key or one of its widget's (building_text, a MultiWidget's name_0),
            # also where the widget turns the text into something else (a checkbox into True).
            return any(bad == key or bad.startswith(f"{key}_") for bad in bad_keys) or contains_nul(
                field.widget.value_from_datadict(self.data, self.files, key)
            )

        self._nul_fields = [name for name, field in self.fields.items() if submitted_with_nul(name, field)]
        data = self.data.copy()
        for key in bad_keys:
            data.pop(key)
        self.data = data

    def clean(self):
        cleaned = super().clean()
        for name in self._nul_fields:
            self.add_error(name, ValidationError(NUL_MESSAGE, code="null_characters_not_allowed"))
        return cleaned


class AutocompleteWidget(forms.Widget):
    """A text box (what people type and see) plus a hidden input (the chosen record's id).

    ``static/js/portal.js`` turns it into an accessible combobox fed by ``url``;
    without JavaScript the typed text is resolved on the server.
    """

    def __init__(self, url, *, depends_on: str = "", placeholder: str = "", attrs=None):
        super().__init__(attrs)
        self.url = url
        self.depends_on = depends_on
        self.placeholder = placeholder
        self.queryset: QuerySet | None = None
        self.label_from_instance = str

    def value_from_datadict(self, data, files, name):
        chosen = (data.get(name) or "").strip()
        if chosen:
            return chosen
        return (data.get(f"{name}_text") or "").strip()

    def value_omitted_from_data(self, data, files, name):
        return name not in data and f"{name}_text" not in data

    def _label(self, value) -> tuple[str, str]:
        """(hidden id, visible text) for the current value."""
        if value in (None, ""):
            return "", ""
        if is_id(value):
            obj = self.queryset.filter(pk=value).first() if self.queryset is not None else None
            if obj is not None:
                return str(obj.pk), self.label_from_instance(obj)
            return "", ""
        if hasattr(value, "pk"):
            return str(value.pk), self.label_from_instance(value)
        return "", str(value).replace("\x00", "")

    def render(self, name, value, attrs=None, renderer=None):
        attrs = self.build_attrs(self.attrs, attrs or {})
        field_id = attrs.pop("id", f"id_{name}")
        chosen, text = self._label(value)
        extra = mark_safe(  # each part is escaped by format_html
            " ".join(
                format_html('{}="{}"', key, "" if val is True else val)
                for key, val in attrs.items()
                if val not in (None, False) and key != "required"
            )
        )
        return format_html(
            '<div class="autocomplete" data-autocomplete-url="{url}" data-depends-on="{dep}">'
            '<input type="text" id="{id}" name="{name}_text" value="{text}" placeholder="{ph}"'
            ' autocomplete="off" role="combobox" aria-autocomplete="list" aria-expanded="false"'
            ' aria-controls="{id}_listbox" {required} {extra}>'
            '<input type="hidden" name="{name}" id="{id}_value" value="{chosen}">'
            '<ul class="autocomplete-list" role="listbox" id="{id}_listbox" hidden></ul>'
            "</div>",
            url=str(self.url),
            dep=self.depends_on,
            id=field_id,
            name=name,
            text=text,
            ph=str(self.placeholder),
            required="required" if self.is_required else "",
            extra=extra,
            chosen=chosen,
        )


class AutocompleteModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField fed by an autocomplete endpoint; never renders the whole table."""

    default_error_messages = {
        "invalid_choice": _("请从提示列表中选择。"),
        "not_found": _("未找到“%(text)s”，请输入名称的一部分，再从提示列表中选择。"),
        "ambiguous": _("有多个名为“%(text)s”的记录，请从提示列表中选择。"),
        "null_characters_not_allowed": NUL_MESSAGE,
    }

    def __init__(self, queryset, *, url, label_from_instance=None, depends_on="", placeholder="", **kwargs):
        self._label_func = label_from_instance or str
        widget = AutocompleteWidget(url, depends_on=depends_on, placeholder=placeholder)
        super().__init__(queryset, widget=widget, **kwargs)
        self._sync_widget()

    def _sync_widget(self) -> None:
        self.widget.queryset = self.queryset
        self.widget.label_from_instance = self._label_func

    def _set_queryset(self, queryset):
        super()._set_queryset(queryset)
        if hasattr(self, "_label_func"):
            self._sync_widget()

    queryset = property(forms.ModelChoiceField._get_queryset, _set_queryset)

    def label_from_instance(self, obj):
        return self._label_func(obj)

    def __deepcopy__(self, memo):
        result = super().__deepcopy__(memo)
        result._sync_widget()
        return result

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if contains_nul(value):
            raise ValidationError(
                self.error_messages["null_characters_not_allowed"], code="null_characters_not_allowed"
            )
        if isinstance(value, str) and not is_id(value):
            name = value.split("（", 1)[0].strip()
            matches = list(self.queryset.filter(name__iexact=name)[:2])
            if not matches:
                raise ValidationError(
                    self.error_messages["not_found"], code="not_found", params={"text": value}
                )
            if len(matches) > 1:
                raise ValidationError(
                    self.error_messages["ambiguous"], code="ambiguous", params={"text": value}
                )
            return matches[0]
        return super().to_python(value)
