"""A factory for every model (CONVENTIONS.md), found by sweeping the project's apps: a new model
without one fails here. Each factory builds a row the database accepts."""

from __future__ import annotations

import importlib

import factory
import pytest
from django.apps import apps

from tests.project import ROOT, project_app_labels

# Rows the database writes itself (triggers) or pghistory's generated event models: no factory.
DERIVED = {
    "services.BookingTally": "kept by statement triggers on bookings (services/triggers.py)",
    "services.SpaceOccupancy": "kept by triggers on events and reservations (services/triggers.py)",
}


def _factories() -> dict[str, type]:
    found = {}
    for path in (ROOT / "tests").rglob("factories.py"):
        module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, factory.django.DjangoModelFactory):
                model = value._meta.model
                if model is not None:
                    found.setdefault(model._meta.label, value)
    return found


def _project_models() -> list[str]:
    labels = set(project_app_labels())
    return sorted(
        m._meta.label
        for m in apps.get_models()
        if m._meta.app_label in labels and not getattr(m, "pgh_tracked_model", None)
    )


def test_every_model_has_a_factory():
    factories = _factories()
    missing = [label for label in _project_models() if label not in factories and label not in DERIVED]
    assert missing == [], f"models without a factory in tests/<app>/factories.py: {missing}"


@pytest.mark.django_db
@pytest.mark.parametrize("label", [label for label in _project_models() if label not in DERIVED])
def test_each_factory_builds_a_row_the_database_accepts(label):
    obj = _factories()[label]()
    assert type(obj)._default_manager.filter(pk=obj.pk).exists()
