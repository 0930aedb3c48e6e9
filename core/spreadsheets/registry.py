"""Which models can be imported and exported: each app registers its resources here.

``core`` never imports an app; an app calls ``register`` for each of its resources in its
``AppConfig.ready()`` (``from . import resources``), and the admin mixin, the Celery tasks
and ``manage.py import_records`` find them by model label ("members.partymember").
"""

from __future__ import annotations

from django.utils.translation import gettext as _t

from .errors import SpreadsheetRefused

_RESOURCES: dict[str, type] = {}


def register(resource_class: type) -> type:
    """Class decorator: make ``resource_class`` the import/export resource of its model."""
    _RESOURCES[resource_class._meta.model._meta.label_lower] = resource_class
    return resource_class


def registered() -> dict[str, type]:
    return dict(_RESOURCES)


def resource_class_for(name: str) -> type:
    """The resource of a model named "app_label.model_name" or just "model_name"."""
    key = name.strip().lower()
    if key in _RESOURCES:
        return _RESOURCES[key]
    matches = [label for label in _RESOURCES if label.split(".")[1] == key]
    if len(matches) == 1:
        return _RESOURCES[matches[0]]
    raise SpreadsheetRefused(
        "unknown_model",
        _t("没有可导入的数据类型“%(name)s”。可选：%(choices)s。")
        % {"name": name, "choices": "、".join(sorted(_RESOURCES))},
    )
