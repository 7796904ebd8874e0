"""Query helpers that tell the database what its statistics cannot."""

from __future__ import annotations

from django.db.models import BooleanField, ExpressionWrapper, Func, Q, QuerySet


class Rare(Func):
    """A filter condition that few rows meet, said to SQLite's query planner.

    Cases pile up in the closed state while the open states of a work queue hold a few percent of
    them. SQLite's statistics keep only the average rows per value, so a queue filtered by state and
    type walked every case of the type; ``likelihood(..., p)`` lets it start from the state instead
    (1M cases: tens of ms -> under 1 ms). Other databases keep value histograms and get the plain
    condition.
    """

    output_field = BooleanField()

    def __init__(self, condition: Q, probability: float = 0.02):
        if not 0 < probability < 1:
            raise ValueError("probability must be between 0 and 1")
        self.probability = float(probability)
        super().__init__(ExpressionWrapper(condition, output_field=BooleanField()))

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"likelihood({sql}, {self.probability!r})", params


def one_or_none(qs: QuerySet):
    """The one row of a lookup by a unique key, or None: unlike ``first()``, no ORDER BY to build
    (compiling it cost more than running the lookup) or to mislead the planner."""
    found = list(qs.order_by()[:1])
    return found[0] if found else None
