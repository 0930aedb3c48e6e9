"""Refusals the admin shows as messages: every ``DomainError``, and database constraint violations
in the words of their ``violation_error_message``."""

from __future__ import annotations

from django.apps import apps as django_apps
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils.translation import gettext as _t

from core.errors import DomainError


def is_domain_error(exc: BaseException) -> bool:
    """A broken business rule: a ``DomainError`` of the write side, or a constraint violation."""
    return isinstance(exc, DomainError)


def error_message(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "；".join(str(m) for m in exc.messages)
    return str(getattr(exc, "message", exc))


class ConstraintViolation(DomainError):
    """The database refused a write by one of its constraints; ``message`` says which rule."""

    def __init__(self, message: str):
        super().__init__("constraint_violation", message)


def constraint_violation(exc: IntegrityError) -> ConstraintViolation | None:
    """The rule behind a constraint violation, in the words of its ``violation_error_message``."""
    name = getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)
    if not name:
        return None
    for model in django_apps.get_models():
        for constraint in model._meta.constraints:
            if constraint.name == name:
                return ConstraintViolation(str(constraint.get_violation_error_message()))
    return ConstraintViolation(_t("与已有记录冲突，未保存。请检查后重试。"))
