"""The English catalog covers every translatable string of the code and the templates.

Reads the compiled catalog (``locale/en/LC_MESSAGES/django.mo``) with the standard
library and the sources with ``ast`` and a regular expression, so it fails when a
string is added without running ``makemessages``/translating/``compilemessages``,
and when a gettext alias (``_t``) is not extracted.
"""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

from tests.project import SOURCE_PACKAGES

ROOT = Path(__file__).resolve().parents[1]
MO = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.mo"
APPS = SOURCE_PACKAGES
GETTEXT_NAMES = {"_", "_t", "gettext", "gettext_lazy", "pgettext", "pgettext_lazy"}
# Templates owned by the translation: every {% translate "…" %} with a literal.
TRANSLATE_TAG = re.compile(r"""{%\s*(?:translate|trans)\s+(["'])(.+?)\1""")


def _catalog() -> dict:
    with MO.open("rb") as fh:
        return gettext.GNUTranslations(fh)._catalog


def _python_messages() -> set[tuple[str, str]]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in GETTEXT_NAMES
                    and node.args
                    and isinstance(node.args[-1 if node.func.id.startswith("p") else 0], ast.Constant)
                ):
                    arg = node.args[-1 if node.func.id.startswith("p") else 0].value
                    if isinstance(arg, str) and arg:
                        found.add((f"{path.relative_to(ROOT)}:{node.lineno}", arg))
    return found


def _template_messages() -> set[tuple[str, str]]:
    found = set()
    for path in (ROOT / "templates").rglob("*.html"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for match in TRANSLATE_TAG.finditer(line):
                found.add((f"{path.relative_to(ROOT)}:{number}", match.group(2)))
    return found


@pytest.mark.parametrize("source", ["python", "templates"])
def test_every_message_has_an_english_translation(source):
    catalog = _catalog()
    messages = _python_messages() if source == "python" else _template_messages()
    assert len(messages) > 100  # the scan itself works
    missing = sorted(
        f"{where}: {msgid}"
        for where, msgid in messages
        if not catalog.get(msgid) and msgid.isascii() is False
    )
    assert not missing, "untranslated in locale/en:\n" + "\n".join(missing[:40])


def test_admin_action_messages_are_extracted_and_translated():
    """``gettext as _t`` in the admin modules: the makemessages command knows the alias."""
    from core.management.commands.makemessages import Command

    assert "--keyword=_t" in Command.xgettext_options
    with translation.override("en"):
        assert translation.gettext("已取消 %(count)d 个活动，相关预约已一并取消。") == (
            "Events cancelled: %(count)d (with all their bookings)."
        )
