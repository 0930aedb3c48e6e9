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


# --- per-row values an upper app computes in bulk ---------------------------------------------------
#
# Some facts are not a yes/no condition but a value per enterprise worked out from several rows
# (``committees``' risk colour from its open demands and the social worker's override). The owning
# app registers a loader ``ids -> {id: (value, label)}``; the enterprise admin calls it once for
# the page of rows it shows (a fixed number of queries, whatever the page size).

ENTERPRISE_RISK_COLOUR = "enterprise_risk_colour"
#: One enterprise's colour with its why (for the enterprise page): ``{id: RiskDetail-like object}``
#: with ``colour``, ``label``, ``reasons`` (list of str) and ``override`` (None or an object with
#: ``label``, ``reason``, ``set_by``, ``set_at``).
ENTERPRISE_RISK_DETAIL = "enterprise_risk_detail"

_LOADERS: dict[str, Callable[[list[int]], dict[int, object]]] = {}


def register_loader(name: str, loader: Callable[[list[int]], dict[int, object]]) -> None:
    """Called by the app that owns the value, once, in its ``AppConfig.ready()``."""
    _LOADERS[name] = loader


def load(name: str, ids) -> dict[int, object]:
    """The registered loader ``name`` applied to ``ids`` (one call for all of them)."""
    try:
        loader = _LOADERS[name]
    except KeyError:
        raise ImproperlyConfigured(
            f"No app has registered the loader {name!r} (buildings/figures.py)."
        ) from None
    return loader(list(ids))
