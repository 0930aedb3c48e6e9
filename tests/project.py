"""What the generated tests sweep: the project's own apps and source folders, found, not listed.

A new app (or a new model in one) is covered by the constraint, index, admin and
translation sweeps without anyone adding it to a list.
"""

from __future__ import annotations

from pathlib import Path

from django.apps import apps

ROOT = Path(__file__).resolve().parents[1]


def project_app_labels() -> tuple[str, ...]:
    """Labels of the installed apps whose code lives in this repository (core, buildings, ...)."""
    return tuple(
        config.label
        for config in apps.get_app_configs()
        if Path(config.path).resolve().is_relative_to(ROOT)
        and not Path(config.path).resolve().is_relative_to(ROOT / ".venv")
    )


# Source folders whose Python and templates carry user-facing strings.
SOURCE_PACKAGES = ("core", "buildings", "members", "committees", "services", "demo", "config")
