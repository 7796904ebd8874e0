"""Query helpers: what the database's statistics cannot tell it, and what the ORM need not redo."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import (
    NOT_PROVIDED,
    BooleanField,
    ExpressionWrapper,
    F,
    Field,
    FloatField,
    Func,
    Model,
    Q,
    QuerySet,
    signals,
)
from django.db.models.expressions import DatabaseDefault
from django.utils import timezone


class _Hint(Func):
    """A filter condition written for SQLite's query planner (``as_sqlite``); other databases, which
    keep value statistics, get the plain condition."""

    output_field = BooleanField()

    def __init__(self, condition: Q):
        super().__init__(ExpressionWrapper(condition, output_field=BooleanField()))

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])


class Rare(_Hint):
    """A filter condition that few rows meet, said to SQLite's query planner.

    Cases pile up in the closed state while the open states of a work queue hold a few percent of
    them. SQLite's statistics keep only the average rows per value, so a queue filtered by state and
    type walked every case of the type; ``likelihood(..., p)`` lets it start from the state instead
    (1M cases: tens of ms -> under 1 ms). Other databases keep value histograms and get the plain
    condition.
    """

    def __init__(self, condition: Q, probability: float = 0.02):
        if not 0 < probability < 1:
            raise ValueError("probability must be between 0 and 1")
        self.probability = float(probability)
        super().__init__(condition)

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"likelihood({sql}, {self.probability!r})", params


class Common(Rare):
    """A filter condition that many rows meet, said to SQLite's query planner (``Rare``'s opposite).

    Without statistics SQLite takes an equality on an indexed column for a handful of rows. Where a
    small partial index already gives the page in order (the reopen requests, the cases with a
    deadline), a filter by a busy type or area made it read all of that type's cases and sort them
    instead (1M cases: 240 ms -> 2 ms).
    """

    def __init__(self, condition: Q, probability: float = 0.9):
        super().__init__(condition, probability)


class Unindexed(_Hint):
    """A filter condition SQLite checks on each row as it walks the list in its order, instead of
    starting from the condition's own indexes (a unary ``+`` makes it no index's term). For a condition
    most listed rows meet: an inspector's own reports are most of the cases, and SQLite gathered all
    of them through three indexes and sorted them for a page of 50 (1M cases: 0.9 s -> 1 ms). Other
    databases get the plain condition.
    """

    def as_sqlite(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"+({sql})", params


class SecondsBetween(Func):
    """``later - earlier`` in seconds (a float), worked out by the database itself: Django's SQLite
    backend subtracts two moments through a Python function called for every row (the public figures'
    average handling time over a year of cases spent most of 5 s in it). SQLite's ``julianday`` keeps
    the microseconds to within a few tens of them, enough for an average shown in hours."""

    output_field = FloatField()

    def __init__(self, later: str, earlier: str):
        super().__init__(F(later), F(earlier))

    def as_sql(self, compiler, connection, **extra_context):
        raise NotImplementedError(f"SecondsBetween on {connection.vendor}")

    def as_sqlite(self, compiler, connection, **extra_context):
        (later, lp), (earlier, ep) = (compiler.compile(e) for e in self.source_expressions)
        return f"((julianday({later}) - julianday({earlier})) * 86400.0)", [*lp, *ep]

    def as_postgresql(self, compiler, connection, **extra_context):
        (later, lp), (earlier, ep) = (compiler.compile(e) for e in self.source_expressions)
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))::double precision", [*lp, *ep]


class SortedAfter(Func):
    """An ORDER BY key that PostgreSQL sorts after filtering instead of reading from an index.

    PostgreSQL takes the rows of a filter as spread evenly over an index's order. The open cases of a
    work queue are the newest few percent, so for a queue in oldest-first order it walked the date
    (or number) index from the oldest case and read the closed million before the first open one
    (1M cases: 300 ms); sorting the queue's few thousand cases takes a few ms. ``COALESCE(x, x)``
    sorts as ``x`` and matches no index. Other databases get the column (SQLite is told by ``Rare``).
    """

    function = "COALESCE"

    def __init__(self, field: str):
        super().__init__(F(field), F(field))

    def as_sql(self, compiler, connection, **extra_context):
        return compiler.compile(self.source_expressions[0])

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, **extra_context)


# ------------------------------------------------------------------------------------------------
# plans PostgreSQL may keep

# True while the running statements' plans do not depend on their values (read by the PostgreSQL
# backend, cityops/core/postgresql/base.py; other databases ignore it).
STABLE_PLANS: ContextVar[bool] = ContextVar("cityops_stable_plans", default=False)


@contextmanager
def stable_plans() -> Iterator[None]:
    """Statements run inside may be prepared once per connection and keep their plan.

    For lookups by a unique or foreign key and for inserts: their best plan is the same whatever the
    values. Never around filters whose selectivity depends on the values (a work queue by type and
    state, a list since a date): a kept generic plan can be a hundred times slower for a rare value.
    """
    token = STABLE_PLANS.set(True)
    try:
        yield
    finally:
        STABLE_PLANS.reset(token)


def count_up(
    model: type[Model],
    column: str,
    *,
    using: str = DEFAULT_DB_ALIAS,
    draw: tuple[type[Model], ...] = (),
    **keys,
):
    """Add one to ``column`` of the row of ``model`` with ``keys`` (made at 1 when missing) and return
    the new count, in one statement: an upsert with RETURNING (SQLite >= 3.35, PostgreSQL) on the
    unique key ``keys`` name. The row's lock lasts until the statement's transaction ends, so two
    callers never see the same count, and no read-modify-write round trips slow them down.

    ``draw`` (PostgreSQL): models whose next automatic keys to draw from their sequences in the same
    statement; returns ``(count, key, ...)``. Rows inserted with keys known ahead need no RETURNING,
    so their inserts can go to the database without waiting for each other (``pipelined``)."""
    connection = connections[using]
    qn, meta = connection.ops.quote_name, model._meta
    fields = [meta.get_field(name) for name in keys]
    table, col = qn(meta.db_table), qn(meta.get_field(column).column)
    key_cols = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = (
        f"INSERT INTO {table} ({key_cols}, {col}) VALUES ({marks}, 1) "  # noqa: S608 (identifiers from the model)
        f"ON CONFLICT ({key_cols}) DO UPDATE SET {col} = {table}.{col} + 1 RETURNING {col}"
    )
    if draw:
        if connection.vendor != "postgresql":
            raise ValueError("keys are drawn ahead from PostgreSQL's sequences only")
        nexts = ", ".join(
            f"nextval(pg_get_serial_sequence('{qn(m._meta.db_table)}', '{m._meta.auto_field.column}'))"
            for m in draw
        )
        sql = f"WITH counted AS ({sql}) SELECT {col}, {nexts} FROM counted"  # noqa: S608 (identifiers from the models)
    with connection.cursor() as cur, stable_plans():  # by a unique key: one plan for every key
        cur.execute(
            sql, [f.get_db_prep_save(v, connection) for f, v in zip(fields, keys.values(), strict=True)]
        )
        row = cur.fetchone()
    return tuple(row) if draw else row[0]


@contextmanager
def pipelined(using: str = DEFAULT_DB_ALIAS) -> Iterator[_NoPipeline | _Pipeline]:
    """Statements run inside go to PostgreSQL without waiting for each other's answers (psycopg's
    pipeline mode); the wait comes when a result is read (a RETURNING, a fetch) and at the end.

    A report's transaction is BEGIN, three inserts and COMMIT: five round trips, during which a
    worker process sat idle (on the demo's 1M-case benchmark, a tenth of the two cores were idle
    during intake). With the keys drawn ahead (``count_up(draw=...)``) BEGIN and the inserts need one.
    Use it inside the transaction (``with transaction.atomic(), pipelined():``): a failed statement's
    error is raised at the latest when the pipeline ends, still inside the transaction, which then
    rolls back as usual; ended outside, the rollback would be sent into the aborted pipeline and
    lost. For the same reason an error inside cannot be caught and recovered from (a savepoint's
    rollback is refused by the aborted pipeline): let it end the transaction. Other databases run as
    usual.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield _NoPipeline()
        return
    connection.ensure_connection()
    # psycopg raises a late error when the pipeline ends: as Django's error, as at any statement
    with connection.wrap_database_errors, connection.connection.pipeline() as pipeline:
        yield _Pipeline(pipeline, connection)


class _NoPipeline:
    def sync(self) -> None:
        """Nothing to wait for: every statement has had its answer."""


class _Pipeline:
    def __init__(self, pipeline, connection):
        self._pipeline, self._connection = pipeline, connection

    def sync(self) -> None:
        """Wait for the answers so far (raising their errors): before a step that cannot be taken
        back, such as storing an uploaded file."""
        with self._connection.wrap_database_errors:
            self._pipeline.sync()


@contextmanager
def one_statement_write(using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Around a write of one statement (an upsert with RETURNING) outside a transaction.

    PostgreSQL runs it in autocommit: one round trip, its row locked for that statement only. On
    SQLite a bare write would wait for the write lock in SQLite's polling busy handler, the very
    wait the writers' queue of ``cityops.core.sqlite`` exists to avoid: there it runs in a
    transaction, queued like every other writer."""
    connection = connections[using]
    if connection.vendor == "sqlite" and not connection.in_atomic_block:
        with transaction.atomic(using=using):
            yield
    else:
        yield


class _StableMixin:
    def _fetch_all(self):
        with stable_plans():
            super()._fetch_all()


_STABLE_CLASSES: dict[type, type] = {}


def stable(qs: QuerySet) -> QuerySet:
    """``qs``, fetched (with its prefetches) under ``stable_plans`` whenever it is evaluated."""
    cls = type(qs)
    if issubclass(cls, _StableMixin):
        return qs
    if cls not in _STABLE_CLASSES:
        _STABLE_CLASSES[cls] = type(f"Stable{cls.__name__}", (_StableMixin, cls), {})
    clone = qs._chain()
    clone.__class__ = _STABLE_CLASSES[cls]
    return clone


@cache
def _reverse_fk(model: type[Model], name: str):
    rel = model._meta.get_field(name)
    if not (rel.one_to_many and rel.auto_created):
        raise ValueError(f"{model.__name__}.{name} is not a reverse foreign key")
    return rel


def prefetched(instance: Model, name: str, objects: list[Model]) -> None:
    """Fill ``instance.<name>.all()`` (a reverse foreign key) with ``objects``, as ``prefetch_related``
    fills it, for rows read another way: no query when it is used."""
    rel = _reverse_fk(type(instance), name)
    back = rel.field.name  # each object's own foreign key to ``instance``, as Django sets it
    # The set a related manager would give, without building the manager and its filtered query
    # (a tenth of a case page's timeline): the filter is kept aside, as Django's managers keep it, and
    # applied only if the set is ever filtered further.
    qs = QuerySet(model=rel.related_model, using=instance._state.db)
    qs._deferred_filter = (False, (), {back: instance})
    qs._result_cache, qs._prefetch_done = list(objects), True
    for obj in objects:
        setattr(obj, back, instance)
    if not hasattr(instance, "_prefetched_objects_cache"):
        instance._prefetched_objects_cache = {}
    instance._prefetched_objects_cache[name] = qs


class KeysFirst:
    """A list as Django's paginator counts and slices it, whose page reads its rows' keys first, in
    the list's order, and then those rows with their relations: sorting every matching row joined
    with its relations for one page of a long list cost most of a page (the evaluation's drill-down
    at 1M cases: 0.35-0.6 s). ``count``: the list's length when already known."""

    def __init__(self, qs: QuerySet, *, related: tuple[str, ...] = (), count: int | None = None):
        self.qs, self.related, self._count = qs, related, count

    def count(self) -> int:
        if self._count is None:
            self._count = self.qs.count()
        return self._count

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            return self[key : key + 1][0]
        keys = list(self.qs.values_list("pk", flat=True)[key])
        rows = {obj.pk: obj for obj in self.qs.filter(pk__in=keys).select_related(*self.related).order_by()}
        return [rows[k] for k in keys]


def at_least(qs: QuerySet, n: int) -> bool:
    """Whether ``qs`` holds ``n`` rows or more, counted through its indexes up to ``n`` (a capped count,
    for choosing a plan SQLite cannot choose without statistics)."""
    return qs.order_by().values("pk")[:n].count() >= n


def one_or_none(qs: QuerySet):
    """The one row of a lookup by a unique key, or None: unlike ``first()``, no ORDER BY to build
    (compiling it cost more than running the lookup) or to mislead the planner."""
    found = list(qs.order_by()[:1])
    return found[0] if found else None


def plain_rows(qs: QuerySet) -> list[tuple]:
    """The rows of a ``values()`` query as the database driver gives them, in its select's order.

    Django passes every value of every row through the field's converters: a whole-city ranking of
    the grid cells reads ten thousand groups of 40 counts, and turning each count into an ``int`` it
    already was took a tenth of the page. The caller converts what the driver gives otherwise (a
    PostgreSQL ``SUM`` of integers is a ``Decimal``)."""
    sql, params = qs.query.sql_with_params()
    with connections[qs.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# ------------------------------------------------------------------------------------------------
# inserts on the hot paths


@dataclass(frozen=True)
class _InsertPlan:
    sql: str
    fields: tuple[Field, ...]
    returning: bool
    # per field, the value types its ``get_db_prep_save`` returns unchanged (empty: always prepared)
    plain: tuple[tuple[type, ...], ...] = ()
    # fields with a default in the database as well as in Python: written with the object's value,
    # unless that is the database's default itself (``DatabaseDefault``), which only ``save`` omits
    db_defaults: tuple[Field, ...] = ()


# Fields whose preparation returns a value of these types as it is (``get_prep_value`` is ``str``'s or
# ``int``'s identity there, and ``get_db_prep_value`` adds nothing): the exact classes only, as a
# subclass may prepare differently. A ``str`` subclass (a choices enum member) passes unchanged
# through ``CharField.to_python`` too; ``int`` and ``float`` go by exact type (``int(True)`` is 1).
_PLAIN_VALUES: dict[type[Field], tuple[type, ...]] = {
    models.CharField: (str,),
    models.TextField: (str,),
    models.IntegerField: (int,),
    models.SmallIntegerField: (int,),
    models.PositiveIntegerField: (int,),
    models.PositiveSmallIntegerField: (int,),
    models.BigIntegerField: (int,),
    models.FloatField: (float,),
    models.BooleanField: (bool,),
}
_INTEGER_FIELDS = frozenset(cls for cls, types in _PLAIN_VALUES.items() if types == (int,))


def _plain_values(field: Field, connection) -> tuple[type, ...]:
    # A backend that adapts integers itself (PostgreSQL: psycopg's Int2/Int4/Int8, one parameter type
    # per column, so an insert keeps one prepared statement) gets its integers through the field.
    adapts_integers = (
        type(connection.ops).adapt_integerfield_value is not BaseDatabaseOperations.adapt_integerfield_value
    )
    if type(field) in (models.ForeignKey, models.OneToOneField):
        target = field.target_field
        auto = type(target) in (models.AutoField, models.BigAutoField)
        return (int,) if auto and not adapts_integers else ()
    if adapts_integers and type(field) in _INTEGER_FIELDS:
        return ()
    return _PLAIN_VALUES.get(type(field), ())


def _prepared(field: Field, plain: tuple[type, ...], obj: Model, connection):
    """The value ``field.get_db_prep_save(field.pre_save(obj, True))`` gives, without the calls when the
    value is already what the database takes (these fields' ``pre_save`` only reads the attribute)."""
    if plain:
        value = getattr(obj, field.attname)
        if value is None or type(value) in plain or (plain[0] is str and isinstance(value, str)):
            return value
    return field.get_db_prep_save(field.pre_save(obj, True), connection=connection)


_PLANS: dict[tuple[type[Model], str, bool], _InsertPlan | None] = {}


def _insert_plan(model: type[Model], connection, with_key: bool = False) -> _InsertPlan | None:
    """The INSERT statement of ``model``, or None when the model needs the ORM's full save (parents,
    database defaults without a Python default, generated columns). ``with_key``: the row's automatic
    key is given (drawn ahead, ``count_up(draw=...)``), written and not returned."""
    meta = model._meta
    if meta.parents or meta.proxy:
        return None
    fields = []
    for f in meta.local_concrete_fields:
        if getattr(f, "generated", False) or (f.db_default is not NOT_PROVIDED and not f.has_default()):
            return None
        if f is meta.auto_field and not with_key:
            continue
        fields.append(f)
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "  # noqa: S608 (identifiers from the model)
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    returning = meta.auto_field is not None and not with_key
    if returning:
        sql += f" RETURNING {qn(meta.auto_field.column)}"
    return _InsertPlan(
        sql,
        tuple(fields),
        returning,
        tuple(_plain_values(f, connection) for f in fields),
        tuple(f for f in fields if f.db_default is not NOT_PROVIDED),
    )


def insert(obj: Model, *, using: str = DEFAULT_DB_ALIAS) -> Model:
    """``obj.save(force_insert=True)`` for a new row, with the statement built once per model.

    The same row, the same pre_save and post_save signals, the same checks of related objects; only
    the ORM's per-call compilation of the INSERT is skipped. On the intake path that compilation cost
    more than running the three inserts (case, event, fact). Models the plan cannot cover fall back to
    ``save``.
    """
    model = type(obj)
    connection = connections[using]
    with_key = model._meta.auto_field is not None and obj.pk is not None
    key = (model, connection.vendor, with_key)
    if key not in _PLANS:
        _PLANS[key] = _insert_plan(model, connection, with_key)
    plan = _PLANS[key]
    if (
        plan is None
        or not obj._state.adding
        or any(isinstance(getattr(obj, f.attname), DatabaseDefault) for f in plan.db_defaults)
    ):
        obj.save(force_insert=True, using=using)
        return obj
    obj._prepare_related_fields_for_save(operation_name="save")
    if signals.pre_save.has_listeners(model):
        signals.pre_save.send(sender=model, instance=obj, raw=False, using=using, update_fields=None)
    params = [_prepared(f, plain, obj, connection) for f, plain in zip(plan.fields, plan.plain, strict=True)]
    with transaction.mark_for_rollback_on_error(using), connection.cursor() as cur, stable_plans():
        cur.execute(plan.sql, params)
        if plan.returning:
            setattr(obj, model._meta.auto_field.attname, cur.fetchone()[0])
    obj._state.adding = False
    obj._state.db = using
    if signals.post_save.has_listeners(model):
        signals.post_save.send(
            sender=model, instance=obj, created=True, update_fields=None, raw=False, using=using
        )
    return obj


class Columns:
    """The columns of one model in a hand-written join, and their conversion back into an instance.

    For hot reads the ORM cannot say in one query (a row and its children): the same values the ORM
    would give, through the same database converters, without compiling a query per call."""

    def __init__(self, model: type[Model], alias: str, connection):
        self.model, self.alias = model, alias
        fields = model._meta.concrete_fields
        qn = connection.ops.quote_name
        self.sql = ", ".join(f"{qn(alias)}.{qn(f.column)}" for f in fields)
        self.width = len(fields)
        self._convert = []
        for f in fields:
            col = f.get_col(alias)
            self._convert.append(
                (col, connection.ops.get_db_converters(col) + f.get_db_converters(connection))
            )

    def build(self, values, connection, using: str = DEFAULT_DB_ALIAS) -> Model | None:
        """The instance from its slice of a row; None for the NULLs of an outer join that found nothing."""
        if values[0] is None:
            return None
        out = []
        for v, (col, converters) in zip(values, self._convert, strict=True):
            for c in converters:
                v = c(v, col, connection)
            out.append(v)
        return self.model.from_db(using, None, out)


# ------------------------------------------------------------------------------------------------
# reads compiled once per shape


class _Slot(str):
    """A text value that stands for a parameter while a query is compiled."""

    __slots__ = ()


class _SlotInt(int):
    """An integer that stands for a parameter while a query is compiled (a key no table reaches)."""

    __slots__ = ()


# where the stand-ins live: a moment in the year 1000, these numbers, a text between NULs
_SLOT_YEAR = 1000
_SLOT_FLOAT = 987_654_321.0
_SLOT_INT = 8_765_432_109_876_000


def _carries_stand_in(p) -> bool:
    """Whether parameter ``p`` was made from a stand-in without being one: the ORM wrapped or converted a
    value that also lands, as it is, elsewhere in the statement (``startswith`` makes ``text%``, a
    decimal field a ``Decimal``, a date lookup a date)."""
    if isinstance(p, str):
        return "\x00" in p or p.startswith(f"{_SLOT_YEAR}-")  # SQLite's moments are text
    if isinstance(p, date):
        return p.year == _SLOT_YEAR
    if isinstance(p, int | float | Decimal) and not isinstance(p, bool):
        return _SLOT_FLOAT <= p < _SLOT_FLOAT + 10**6 or _SLOT_INT <= p < _SLOT_INT + 10**12
    return False


_UNSEEN = object()


class Prepared:
    """A hot read defined with the ORM, compiled once per shape and database, then run with new values.

    ``build(*shape, **values)`` returns a ``values_list`` query (annotations named last). The first
    call of a shape (the names of the values, the type of each value and of each item of a list, plus
    ``shape`` for what the ORM writes into the SQL itself, such as LIMIT and OFFSET) compiles it with
    stand-in values and notes where each one lands among the parameters; later calls substitute the
    real values and run the statement. On the Open311 list, building and compiling cost three times
    what the database needs for its answer. Values are text, datetimes, floats, integers (keys), or
    lists of them. A shape whose stand-ins cannot all be found again as they were (the ORM
    transformed or dropped a value, in one place or in all) runs through the ORM every time.
    """

    MAX_SHAPES = 256

    def __init__(self, build):
        self.build = build
        self._plans: dict[tuple, tuple | None] = {}
        self._lock = threading.Lock()  # for the writers of ``_plans`` (its readers need none)

    @staticmethod
    def _stand_in(k: int, value, i: int = 0):
        """Value ``i`` of the ``k``-th name: a moment in the year 1000, a number or a text no caller
        sends."""
        if isinstance(value, datetime):
            return datetime(_SLOT_YEAR, 1, 1, tzinfo=UTC) + timedelta(days=k, seconds=i)
        if isinstance(value, float):
            return _SLOT_FLOAT + k + i / 1024
        if isinstance(value, str):
            return _Slot(f"\x00{k}:{i}\x00")
        if isinstance(value, int) and not isinstance(value, bool):
            return _SlotInt(_SLOT_INT + k * 100_000 + i)
        raise TypeError(f"Prepared takes text, datetimes, floats and integers, not {type(value).__name__}")

    def _prepare(self, connection, shape: tuple, values: dict):
        stand_ins: dict = {}
        wanted: dict = {}
        count = 0
        for k, (name, value) in enumerate(sorted(values.items())):
            if isinstance(value, list | tuple):
                stand_ins[name] = [self._stand_in(k, v, i) for i, v in enumerate(value)]
                for i, s in enumerate(stand_ins[name]):
                    wanted[self._adapt(connection, s)] = (name, i)
                count += len(value)
            else:
                stand_ins[name] = self._stand_in(k, value)
                wanted[self._adapt(connection, stand_ins[name])] = (name, None)
                count += 1
        if len(wanted) != count:  # two stand-ins alike (a list too long to number its items apart)
            return None
        compiler = self.build(*shape, **stand_ins).query.get_compiler(connection=connection)
        try:
            sql, params = compiler.as_sql()
        except EmptyResultSet:  # a stand-in beyond the column's range (PostgreSQL's integer): no query
            return None
        slots = {}
        for pos, p in enumerate(params):
            if isinstance(p, str | datetime | float | int) and not isinstance(p, bool) and p in wanted:
                slots[pos] = wanted[p]
            elif _carries_stand_in(p):
                return None
        # every stand-in found (a value may appear more than once, as in an expression)
        if set(slots.values()) != set(wanted.values()):
            return None
        converters = compiler.get_converters([col for col, _sql, _alias in compiler.select])
        return sql, list(params), slots, list(converters.items())

    @staticmethod
    def _adapt(connection, value):
        if isinstance(value, datetime):
            if value.tzinfo is None and settings.USE_TZ:
                # a naive moment is read in the default time zone, as ``DateTimeField`` reads it
                warnings.warn(
                    f"Prepared received a naive datetime ({value}) while time zone support is active.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                value = timezone.make_aware(value, timezone.get_default_timezone())
            return connection.ops.adapt_datetimefield_value(value)
        if isinstance(value, float):
            return value
        if isinstance(value, int):
            return int(value)
        return str(value)

    def rows(self, *, shape: tuple = (), using: str = DEFAULT_DB_ALIAS, **values) -> list[tuple]:
        connection = connections[using]
        key = (
            connection.alias,
            shape,
            tuple(
                (n, tuple(map(type, v)) if isinstance(v, list | tuple) else type(v))
                for n, v in sorted(values.items())
            ),
        )
        # One read of the plans: another thread may evict the key between two.
        plan = self._plans.get(key, _UNSEEN)
        if plan is _UNSEEN:
            plan = self._prepare(connection, shape, values)
            with self._lock:
                while len(self._plans) >= self.MAX_SHAPES:
                    self._plans.pop(next(iter(self._plans)))
                self._plans[key] = plan
        if plan is None:
            return list(self.build(*shape, **values))
        sql, params, slots, converters = plan
        params = list(params)
        for pos, (name, i) in slots.items():
            params[pos] = self._adapt(connection, values[name] if i is None else values[name][i])
        with connection.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
        if not converters:
            return [tuple(r) for r in rows]
        out = []
        for row in rows:
            row = list(row)
            for pos, (convs, expression) in converters:
                value = row[pos]
                for c in convs:
                    value = c(value, expression, connection)
                row[pos] = value
            out.append(tuple(row))
        return out


class ModelRows:
    """Model instances, with some foreign keys followed, from plain rows of a ``values_list``.

    ``columns`` are the names to list: every column of ``model``, then every column of each model
    ``related`` names; ``objects`` turns the rows into the instances ``select_related`` would give.
    ``only`` narrows the columns (by model: ``""`` for ``model``, a ``related`` name for its model; the
    key always included), as ``only()`` would: the other fields are deferred, and reading one costs a
    query per instance, so a narrowed read suits a path that is tested to read nothing else.
    """

    def __init__(
        self,
        model: type[Model],
        *,
        related: tuple[str, ...] = (),
        only: dict[str, tuple[str, ...]] | None = None,
    ):
        only = only or {}
        self.model = model
        self.names = _attnames(model, only.get(""))
        self.related = []
        columns = list(self.names)
        for name in related:
            field = model._meta.get_field(name)
            names = _attnames(field.related_model, only.get(name))
            # the related primary key is NULL when the outer join found nothing
            pk_at = names.index(field.related_model._meta.pk.attname)
            self.related.append((field, names, pk_at))
            columns += [f"{name}__{a}" for a in names]
        self.columns = tuple(columns)

    def objects(self, rows, using: str = DEFAULT_DB_ALIAS) -> list[Model]:
        out = []
        n = len(self.names)
        for row in rows:
            obj = self.model.from_db(using, self.names, row[:n])
            at = n
            for field, names, pk_at in self.related:
                part = row[at : at + len(names)]
                at += len(names)
                related = field.related_model.from_db(using, names, part) if part[pk_at] is not None else None
                field.set_cached_value(obj, related)
            out.append(obj)
        return out


def _attnames(model: type[Model], only: tuple[str, ...] | None) -> tuple[str, ...]:
    """The attribute names of ``model``'s columns, in model order (all, or the key and ``only``)."""
    fields = model._meta.concrete_fields
    if only is None:
        return tuple(f.attname for f in fields)
    wanted = {model._meta.get_field(n).attname for n in only} | {model._meta.pk.attname}
    return tuple(f.attname for f in fields if f.attname in wanted)


class PreparedObjects:
    """A hot read of model instances, with some foreign keys followed, compiled once per shape.

    ``build(*shape, **values)`` returns a queryset of ``model`` (filtered, ordered, sliced);
    ``related`` names foreign keys to load with it, as ``select_related`` would. The query runs as a
    ``Prepared`` values list and the rows become instances through ``ModelRows``: the same objects the
    ORM gives, without building and compiling the query on every call (on the case page, the case and
    its timeline cost more to compile than to read).
    """

    def __init__(self, model: type[Model], build, *, related: tuple[str, ...] = ()):
        self._rows = ModelRows(model, related=related)
        columns = self._rows.columns
        self._prepared = Prepared(lambda *shape, **values: build(*shape, **values).values_list(*columns))

    def objects(self, *, shape: tuple = (), using: str = DEFAULT_DB_ALIAS, **values) -> list[Model]:
        return self._rows.objects(self._prepared.rows(shape=shape, using=using, **values), using)
