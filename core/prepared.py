"""Queries built once per process and run many times: the ORM's SQL and row mapping, cached.

A page people refresh in a rush (the event page, issue 19) runs the same query with other
values on every request. Building it — resolving seven ``select_related`` joins and the
annotations into SQL — cost about 1.1 ms of the CPU per request, five times running it
(profiled in ``bench/cpu_profile.py``). ``PreparedQuery`` lets the ORM build the query once,
with stand-in values for the parameters that change, and keeps its SQL, the positions of those
parameters and the ORM's own row mapping (columns, ``select_related`` populators, annotations,
converters). Each call then substitutes the values, runs the SQL on the current thread's
connection (through its execute wrappers, so the query count and the history context are the
same) and builds the instances the way ``QuerySet.__iter__`` does: the same SQL, the same
objects.

Only for querysets whose SQL depends on nothing but the substituted values (no ``now()`` taken
in Python, no per-call structure): the stand-ins must each appear among the parameters, else
preparing refuses (``ValueError``) rather than guess.
"""

from __future__ import annotations

import datetime
import threading
import weakref
from collections.abc import Callable
from typing import Any

from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.query import get_related_populators

# Stand-in parameter values: integers no id takes, one per parameter that changes.
_STAND_IN_BASE = -734_019_000
# Values outside a 4-byte integer column's range are left to the ORM (see run()).
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1


class PreparedQuery:
    """``build(*values)`` → a model ``QuerySet``; ``run(*values)`` → its instances, built once per
    process (per number of values)."""

    # Every prepared query of the process, for ``forget_all()``.
    _instances: weakref.WeakSet[PreparedQuery] = weakref.WeakSet()

    def __init__(self, build: Callable[..., QuerySet], *, using: str = "default"):
        self.build = build
        self.using = using
        self._plans: dict[int, tuple] = {}
        self._lock = threading.Lock()
        PreparedQuery._instances.add(self)

    @classmethod
    def forget_all(cls) -> None:
        """Drop every plan, so that the next run of each builds its query again.

        For mutation testing (``tests/mutmut_plugin.py``): mutmut records which tests call which
        function, and a builder that runs once per process would be recorded against the first
        test only, its mutants then tried against that test alone.
        """
        for prepared in list(cls._instances):
            with prepared._lock:
                prepared._plans.clear()

    def _plan(self, arity: int) -> tuple:
        plan = self._plans.get(arity)
        if plan is None:
            with self._lock:
                plan = self._plans.get(arity) or self._prepare(arity)
                self._plans[arity] = plan
        return plan

    def _prepare(self, arity: int) -> tuple:
        stand_ins = [_STAND_IN_BASE - i for i in range(arity)]
        queryset = self.build(*stand_ins)
        compiler = queryset.query.get_compiler(using=self.using)
        sql, params = compiler.as_sql()
        params = list(params)
        slots = []
        for i, value in enumerate(params):
            if isinstance(value, int) and not isinstance(value, bool) and value in stand_ins:
                slots.append((i, stand_ins.index(value)))
        if any(isinstance(value, datetime.date) for value in params):
            # A time taken in Python (``now``) would be frozen into every later run.
            raise ValueError("a prepared query cannot hold a date or time parameter")
        if {which for _, which in slots} != set(range(arity)):
            raise ValueError("every value must be a parameter of the prepared query's SQL")
        select, klass_info = compiler.select, compiler.klass_info
        model_cls = klass_info["model"]
        start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
        init_list = [f[0].target.attname for f in select[start:end]]
        populators = get_related_populators(klass_info, select, self.using)
        converters = list(compiler.get_converters([s[0] for s in select[: compiler.col_count]]).items())
        annotations = list(compiler.annotation_col_map.items())
        return (sql, params, slots, model_cls, init_list, start, end, populators, annotations, converters)

    def run(self, *values: Any) -> list[Model]:
        if any(isinstance(v, int) and not _INT_MIN <= v <= _INT_MAX for v in values):
            # An id no integer column holds (a URL can say anything): the ORM's own answer
            # (Django finds nothing rather than send PostgreSQL an out-of-range number).
            return list(self.build(*values))
        sql, params, slots, model_cls, init_list, start, end, populators, annotations, converters = (
            self._plan(len(values))
        )
        params = list(params)
        for position, which in slots:
            params[position] = values[which]
        connection = connections[self.using]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        objects = []
        for row in rows:
            if converters:
                row = list(row)
                for pos, (convs, expression) in converters:
                    value = row[pos]
                    for converter in convs:
                        value = converter(value, expression, connection)
                    row[pos] = value
            obj = model_cls.from_db(self.using, init_list, row[start:end])
            for populator in populators:
                populator.populate(row, obj)
            for name, pos in annotations:
                setattr(obj, name, row[pos])
            objects.append(obj)
        return objects

    def first(self, *values: Any) -> Model | None:
        found = self.run(*values)
        return found[0] if found else None
