"""core/api/serializers.py: the faster row serializing gives DRF's own output, byte for byte.

``ChoiceLabelField`` against the model's ``get_<field>_display()``, and
``FastRepresentationMixin`` against DRF's ``Serializer.to_representation`` on the same
serializer (nulls on the way, callables, dict rows, omitted fields).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from django.utils import translation
from rest_framework import serializers
from rest_framework.test import APIRequestFactory

from buildings.api.serializers import BuildingSerializer
from core.api import ChoiceLabelField, FastRepresentationMixin, RefSerializer
from members.api.serializers import PartyMemberSerializer
from members.models import PartyMember
from services.api.serializers import EventSerializer
from services.models import Event
from tests.buildings.factories import BuildingFactory
from tests.members.factories import PartyMemberFactory, UserFactory
from tests.services.factories import EventFactory


def _drf(serializer_class):
    """The same serializer with DRF's own to_representation (the reference)."""
    plain = type(f"Plain{serializer_class.__name__}", (serializer_class,), {})
    plain.to_representation = serializers.Serializer.to_representation
    return plain


def _dump(data) -> str:
    return json.dumps(data, ensure_ascii=False, sort_keys=False, default=str)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_choice_labels_are_the_models_display_in_each_language(language):
    member = PartyMemberFactory()
    field = ChoiceLabelField("education")
    with translation.override(language):
        for value, _label in PartyMember._meta.get_field("education").flatchoices:
            member.education = value
            assert field.get_attribute(member) == member.get_education_display()
        member.education = "not-a-choice"
        assert field.get_attribute(member) == member.get_education_display() == "not-a-choice"


@pytest.mark.django_db
def test_choice_label_follows_the_language_of_the_request():
    event = EventFactory(kind=Event.Kind.PARTY_CLASS)
    field = ChoiceLabelField("kind")
    with translation.override("zh-hans"):
        chinese = field.get_attribute(event)
    with translation.override("en"):
        english = field.get_attribute(event)
        assert english == event.get_kind_display()
    assert chinese == "党课" and english != chinese


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_api_list_serializers_give_drfs_own_output(language):
    request = APIRequestFactory().get("/")
    request.user = UserFactory(is_superuser=True, is_staff=True)
    context = {"request": request}
    PartyMemberFactory(enterprise=None, phone="13812345678")
    PartyMemberFactory()
    BuildingFactory()
    EventFactory(organizer=None)
    EventFactory()
    cases = [
        (BuildingSerializer, list(BuildingSerializer.Meta.model.objects.select_related("street__district"))),
        (PartyMemberSerializer, list(PartyMember.objects.all())),
        (EventSerializer, list(Event.objects.all())),
    ]
    with translation.override(language):
        for serializer_class, rows in cases:
            assert rows
            fast = serializer_class(rows, many=True, context=context).data
            plain = _drf(serializer_class)(rows, many=True, context=context).data
            assert _dump(fast) == _dump(plain)


class _Sample(FastRepresentationMixin, serializers.Serializer):
    name = serializers.CharField()
    city = serializers.CharField(source="place.city.name", allow_null=True)
    ref = RefSerializer(source="place.city", allow_null=True)
    shout = serializers.CharField(source="loud")
    optional = serializers.CharField(source="missing", required=False)
    fallback = serializers.CharField(source="missing", default="默认")
    everything = serializers.SerializerMethodField()

    def get_everything(self, obj) -> str:
        return "all"


@pytest.mark.parametrize(
    "row",
    [
        SimpleNamespace(
            name="甲", place=SimpleNamespace(city=SimpleNamespace(id=1, name="上海")), loud=lambda: "HI"
        ),
        SimpleNamespace(name="乙", place=None, loud=lambda: "HO"),  # a null on the way
        SimpleNamespace(name="丙", place=SimpleNamespace(city=None), loud="plain"),
        {"name": "丁", "place": None, "loud": "dict row"},
    ],
)
def test_the_mixin_keeps_drfs_rules_for_nulls_callables_and_omitted_fields(row):
    fast = _Sample(row).data
    plain = _drf(_Sample)(row).data
    assert _dump(fast) == _dump(plain)
    assert "optional" not in fast and fast["fallback"] == "默认"


@pytest.mark.django_db
@pytest.mark.parametrize("serializer_class", [BuildingSerializer, PartyMemberSerializer, EventSerializer])
def test_fields_built_once_are_the_fields_built_each_time(serializer_class):
    request = APIRequestFactory().get("/")
    request.user = UserFactory()
    built = _drf(serializer_class)
    built.get_fields = serializers.ModelSerializer.get_fields  # DRF's own build, every time
    first, second = (
        serializer_class(context={"request": request}),
        serializer_class(context={"request": request}),
    )
    fields = lambda s: repr(s).split("\n", 1)[1]  # noqa: E731  (the first line names the class)
    assert fields(first) == fields(second) == fields(built(context={"request": request}))
    assert len(fields(first)) > 200
    assert first.fields["id"] is not second.fields["id"]  # each serializer its own copies
    assert first.fields["id"].parent is first and second.fields["id"].parent is second
