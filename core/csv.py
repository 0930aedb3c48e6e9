"""The one CSV writer of the portal: the admin's exports and the API's ``?format=csv`` use it.

``cell_text`` turns a value into the text of a cell (yes/no, local times, dates,
lists, related records by name); ``safe_cell`` guards every cell against spreadsheet
formula injection *after* that flattening, so nested values (an organization's parent,
a list of buildings) get the guard too: a cell starting like a formula — ``=``, ``+``,
``-``, ``@``, a tab, a carriage return or a line feed, or their full-width and small
forms (anything that NFKC-normalizes to one of the four: ＝ ＋ － ＠ ﹦ ﹢ ﹣ ﹫) — gets a
leading apostrophe, unless it is a plain number. Blanks before the sign (a space, the
ideographic space U+3000) do not hide it: LibreOffice ("trim spaces") and Google Sheets
drop them on import and then run the formula.

``csv_lines`` writes rows with a BOM so that Excel opens the Chinese text as UTF-8;
``csv_response`` streams them. Nothing else in the portal writes CSV (tests/test_exports.py
checks the sources and sweeps every admin export and API list with hostile text).
"""

from __future__ import annotations

import csv
import datetime
import re
import unicodedata
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import models
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.safestring import SafeData
from django.utils.translation import gettext as _t

# Formula signs; their full-width (U+FF1D ＝, U+FF0B ＋, U+FF0D －, U+FF20 ＠) and small
# (U+FE66 ﹦, U+FE62 ﹢, U+FE63 ﹣, U+FE6B ﹫) forms are caught through NFKC.
FORMULA_SIGNS = frozenset("=+-@")
# Control characters that start a formula (or a cell a spreadsheet re-parses) by themselves.
FORMULA_CONTROLS = ("\t", "\r", "\n")
_NUMBER_RE = re.compile(r"[-+]?\d+(\.\d+)?", re.ASCII)


def looks_like_formula(text: str) -> bool:
    """Whether a spreadsheet could take ``text`` for a formula (a plain number is not one)."""
    if not text or _NUMBER_RE.fullmatch(text):
        return False
    if text.startswith(FORMULA_CONTROLS):
        return True
    stripped = text.lstrip()
    return bool(stripped) and unicodedata.normalize("NFKC", stripped[0])[:1] in FORMULA_SIGNS


def safe_cell(text: str) -> str:
    """``text`` as a spreadsheet will not run it: a formula-like start is quoted."""
    return "'" + text if looks_like_formula(text) else text


def cell_text(value, field=None) -> str:
    """The text of one cell; ``field`` (a model field) gives choice labels."""
    if value is None:
        return ""
    if field is not None and getattr(field, "flatchoices", None):
        value = dict(field.flatchoices).get(value, value)
    if isinstance(value, bool):
        return _t("是") if value else _t("否")
    if isinstance(value, datetime.datetime):
        return (
            timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(value) else str(value)
        )
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    if isinstance(value, models.Manager):
        return "、".join(str(v) for v in value.all())
    if isinstance(value, list | tuple):
        return "; ".join(cell_text(item) for item in value)
    if isinstance(value, dict):
        # A related record as the API shows it: {"id": 3, "name": "…"}.
        return cell_text(value.get("name", value.get("id", "")))
    if isinstance(value, SafeData):
        # HTML an admin column wrote (format_html): its text. Plain text is kept as typed.
        return strip_tags(str(value)).strip()
    return str(value)


class _Echo:
    """A file-like object whose write() hands the row back, for streaming csv.writer output."""

    def write(self, value: str) -> str:
        return value


def csv_lines(headers: Iterable, rows: Iterable[Iterable]) -> Iterator[str]:
    """CSV text, BOM first, every cell through ``cell_text`` and ``safe_cell``."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow([safe_cell(str(h)) for h in headers])
    for row in rows:
        yield writer.writerow([safe_cell(cell_text(value)) for value in row])


def csv_response(headers: Iterable, rows: Iterable[Iterable], filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(csv_lines(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
