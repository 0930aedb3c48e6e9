"""Facts about buildings and enterprises that the layers above know: the hook they plug into.

"Does this building have a party organization?" is answered by ``members`` (its
organizations), "a building committee?" by ``committees``. The building admin, the
building API and their filters show both, but ``buildings`` sits below those apps and
never imports them: each app registers a condition here in its ``AppConfig.ready()``,
and ``buildings`` asks for it by name. A condition is a ``Q`` over the building (or
enterprise) rows, written with ``OuterRef("pk")`` subqueries, usable in ``filter()``,
``annotate()`` and aggregates alike.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured
from django.db.models import BooleanField, ExpressionWrapper, Q

BUILDING_HAS_PARTY_ORGANIZATION = "building_has_party_organization"
BUILDING_HAS_COMMITTEE = "building_has_committee"
ENTERPRISE_HAS_PARTY_ORGANIZATION = "enterprise_has_party_organization"

_CONDITIONS: dict[str, Callable[[], Q]] = {}


def register_condition(name: str, condition: Callable[[], Q]) -> None:
    """Called by the app that owns the fact, once, in its ``AppConfig.ready()``."""
    _CONDITIONS[name] = condition


def condition(name: str) -> Q:
    """The registered condition ``name``, built anew (an ``OuterRef`` cannot be shared)."""
    try:
        factory = _CONDITIONS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"No app has registered the condition {name!r} (buildings/figures.py)."
        ) from None
    return factory()


def flag(name: str) -> ExpressionWrapper:
    """The condition as a boolean column, for ``annotate()``."""
    return ExpressionWrapper(condition(name), output_field=BooleanField())
