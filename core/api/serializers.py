"""Serializer helpers: foreign keys chosen inside the territory, masked phones and ID
numbers, short references, the error body, and validation by the model's ``full_clean()``."""

from __future__ import annotations

import copy
from collections.abc import Mapping

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers
from rest_framework.fields import Field, SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

from core.masking import mask_middle
from core.scoping import can_view_personal_data as user_can_view_personal_data
from core.scoping import scope_queryset


class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A foreign key chosen by id among the rows in the requesting user's territory.

    An id outside the territory gets the same "does not exist" error as an unknown
    one, so the answer tells nothing about other territories.
    """

    def get_queryset(self):
        request = self.context.get("request")
        return scope_queryset(super().get_queryset(), getattr(request, "user", None))


def can_see_personal_data(context) -> bool:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    cached = getattr(request, "_can_see_personal_data", None)
    if cached is None:
        cached = user_can_view_personal_data(user)
        request._can_see_personal_data = cached
    return cached


class MaskedField(serializers.CharField):
    """Phones and ID numbers: 138****5678 unless the user holds members.view_personal_data."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        value = super().to_representation(value)
        return value if can_see_personal_data(self.context) else mask_middle(value)


class ChoiceLabelField(serializers.CharField):
    """The label of a model's choice field (``get_<field>_display()``), read-only.

    The same value as ``CharField(source="get_<field>_display", read_only=True)``, read
    directly: DRF inspects the signature of a callable source on every row
    (``is_simple_callable``), which was a fifth of a 50-row list's time.
    """

    # Model field → {value: label}. Django's get_<field>_display() builds this dict on every
    # call by hashing every label, and a lazy label is translated to be hashed: 60% of a 50-row
    # party-member list's serializing (issue 19). The labels stay lazy here: each is
    # translated when shown, in the request's language, exactly as get_<field>_display() does.
    _labels: dict = {}

    def __init__(self, choice_field: str, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(source=f"get_{choice_field}_display", **kwargs)
        self.display = f"get_{choice_field}_display"
        self.choice_field = choice_field

    def get_attribute(self, instance):
        field = instance._meta.get_field(self.choice_field)
        labels = self._labels.get(field)
        if labels is None:
            labels = self._labels[field] = {make_hashable(value): label for value, label in field.flatchoices}
        value = getattr(instance, field.attname)
        return force_str(labels.get(make_hashable(value), value), strings_only=True)


class _Fallback(Exception):
    pass


class FieldsOnceMixin:
    """A serializer's fields built once per class, then copied for each serializer.

    ``ModelSerializer.get_fields()`` works the fields out of the model on every instantiation
    (each request, each nested serializer): a sixth of the booking POST's CPU (issue 19). They
    depend only on the class (its ``Meta`` and declared fields), so the first build is kept and
    each serializer gets a deep copy of it — what DRF itself does with declared fields.
    """

    def get_fields(self):
        cls = type(self)
        prototype = cls.__dict__.get("_fields_prototype")
        if prototype is None:
            prototype = super().get_fields()
            cls._fields_prototype = prototype
        return copy.deepcopy(prototype)


class FastRepresentationMixin(FieldsOnceMixin):
    """``Serializer.to_representation`` with less of DRF's work per row; the same output.

    DRF walks its fields through a generator and looks each value up through
    ``fields.get_attribute`` (a ``Mapping`` check and an ``is_simple_callable`` inspection
    per attribute): a third of a 50-row API list's CPU (issue 19, ``bench/cpu_profile.py``).
    Here the readable fields are listed once per serializer, and a field that uses DRF's own
    ``Field.get_attribute`` with a plain attribute path is read with ``getattr``. Anything
    else — a field with its own ``get_attribute`` (relations, method fields, choice labels),
    a dict row, a callable or missing attribute, a null on the way — goes through DRF's own
    ``field.get_attribute``, so defaults, nulls and ``SkipField`` behave exactly as before;
    every value is still written by the field's ``to_representation``.
    """

    def _representation_plan(self) -> list:
        plan = self.__dict__.get("_representation_plan_cache")
        if plan is None:
            plan = [
                (
                    field.field_name,
                    field,
                    field.source_attrs if type(field).get_attribute is Field.get_attribute else None,
                )
                for field in self.fields.values()
                if not field.write_only
            ]
            self.__dict__["_representation_plan_cache"] = plan
        return plan

    def to_representation(self, instance):
        ret = {}
        plain_row = not isinstance(instance, Mapping)
        for name, field, attrs in self._representation_plan():
            try:
                if attrs is None or not plain_row:
                    raise _Fallback
                attribute = instance
                for attr in attrs:
                    attribute = getattr(attribute, attr)
                    if callable(attribute):
                        raise _Fallback
            except Exception:
                try:
                    attribute = field.get_attribute(instance)
                except SkipField:
                    continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[name] = None if check_for_none is None else field.to_representation(attribute)
        return ret


class RefSerializer(FastRepresentationMixin, serializers.Serializer):
    """A related record in short: its id and name."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)


class ErrorSerializer(serializers.Serializer):
    """The body of every error that is not a field error (schema only)."""

    code = serializers.CharField(help_text=_("机器可读的错误代码，如 waitlist_full、not_found、throttled"))
    detail = serializers.CharField(help_text=_("给人看的说明（中文）"))


class FullCleanMixin:
    """Model serializers that validate meaning with the model's own ``full_clean()``.

    The model's field validators, ``clean()``, unique checks and ``Meta.constraints``
    (with their Chinese messages) are the rules; the serializer only checks shape.
    """

    def validate(self, attrs):
        attrs = super().validate(attrs)
        instance = copy.copy(self.instance) if self.instance is not None else self.Meta.model()
        for name, value in attrs.items():
            setattr(instance, name, value)
        try:
            instance.full_clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(
                {
                    (api_settings.NON_FIELD_ERRORS_KEY if key == "__all__" else key): messages
                    for key, messages in exc.message_dict.items()
                }
            ) from exc
        return attrs
