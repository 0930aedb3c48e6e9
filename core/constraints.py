"""Constraint violations reported on the field they are about, not above the whole form.

Django reports a violated UniqueConstraint over several fields, or an ExclusionConstraint,
as an error of the whole form: "该街道已有同名楼宇。" at the top of the page, and the
person has to guess which of the fields to change. A model names, in
``constraint_error_fields``, the field each such rule is about (the name, for "one name
per street"; the role, for "one building chief at a time"), and its violation is
reported on that field: in the admin, in the portal's model forms and in the API's
field errors (all of them validate through ``full_clean()``).

A field the form does not show, or that already has an error (``exclude``), keeps the
error where Django puts it: a form can only show errors next to fields it has.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import router


class ConstraintErrorFields:
    """Mixin for a model: ``constraint_error_fields = {constraint name: field name}``."""

    constraint_error_fields: dict[str, str] = {}

    def validate_constraints(self, exclude=None):
        # Model.validate_constraints, with one more rule for where an error goes.
        exclude = set(exclude or ())
        using = router.db_for_write(self.__class__, instance=self)
        errors: dict = {}
        for model_class, constraints in self.get_constraints():
            for constraint in constraints:
                try:
                    constraint.validate(model_class, self, exclude=exclude, using=using)
                except ValidationError as exc:
                    field = self.constraint_error_fields.get(constraint.name)
                    if (
                        field is None
                        and getattr(exc, "code", None) == "unique"
                        and len(constraint.fields) == 1
                    ):
                        field = constraint.fields[0]  # Django's own rule for one-field uniques
                    if field is not None and field not in exclude:
                        errors.setdefault(field, []).append(exc)
                    else:
                        errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)
