"""The in-process copy of the reference data, and the version counter that tells when it is stale.

Every case reads its standard, so the catalogue is held in memory as immutable records. Any change
(admin, import, load) bumps ``CatalogVersion`` in the same transaction and clears this process's copy
at once (signals); other processes notice on their next read, which compares the stored version with
the one their copy was built from: one primary-key query instead of reloading some 700 rows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from cityops.catalog.models import (
    CaseStandard,
    CatalogType,
    CatalogVersion,
    MajorClass,
    StandardCode,
    StandardCondition,
    StandardDefault,
    StepLimit,
)
from cityops.core import refcache

VERSION_PK = 1


@dataclass(frozen=True)
class TypeInfo:
    """A catalogue type as the case loop and the public pages see it."""

    kind: str
    code: str
    name: str
    major: str
    major_name: str
    component: str
    local: bool
    is_public: bool
    is_active: bool
    keywords: tuple[str, ...]
    note: str


@dataclass(frozen=True)
class Limit:
    limit: Decimal
    unit: str


@dataclass(frozen=True)
class Condition:
    """One filing condition with its limit, as a case will copy it at filing.

    ``ref`` (``<standard key>#<order>``) survives an export and re-import of the workbook; cases should
    store it with a copy of the limit rather than a foreign key, because an import replaces the rows.
    """

    ref: str
    standard_key: str
    topic: str
    standard_file_when: str
    order: int
    urgency: str
    file_when: str
    stage: str
    limit: Decimal
    unit: str
    close_when: str
    basis: str
    clock_starts: str
    area_class: str
    fallback: bool = False

    @property
    def filing_condition(self) -> str:
        """The condition-specific filing text when there is one, else the standard's."""
        return self.file_when or self.standard_file_when


@dataclass(frozen=True)
class Snapshot:
    version: int
    types: dict[tuple[str, str], TypeInfo]
    conditions_by_code: dict[str, tuple[Condition, ...]]
    conditions_by_ref: dict[str, Condition]
    step_limits: dict[str, Limit]
    defaults: dict[str, Limit]
    majors: dict[tuple[str, str], str] = field(default_factory=dict)
    # lists derived for pickers (built on first use, gone with the snapshot)
    pickers: dict[str, list] = field(default_factory=dict)


_lock = threading.Lock()
_snapshot: Snapshot | None = None
_deferred: ContextVar[list[bool] | None] = ContextVar("catalog_version_deferred", default=None)


_checked_at: float | None = None


def clear() -> None:
    """Forget this process's copy; the next read rebuilds it."""
    global _snapshot, _checked_at
    with _lock:
        _snapshot = None
        _checked_at = None


def stored_version() -> int:
    return CatalogVersion.objects.filter(pk=VERSION_PK).values_list("number", flat=True).first() or 0


def bump_version() -> None:
    """Record a change of the reference data (deferred to the end of a ``batch`` when inside one)."""
    pending = _deferred.get()
    if pending is not None:
        pending[0] = True
        clear()
        return
    _bump_now()


def _bump_now() -> None:
    clear()
    now = timezone.now()
    if CatalogVersion.objects.filter(pk=VERSION_PK).update(number=F("number") + 1, changed_at=now):
        return
    try:
        with transaction.atomic():
            CatalogVersion.objects.create(pk=VERSION_PK, number=1)
    except IntegrityError:  # another writer created it first
        CatalogVersion.objects.filter(pk=VERSION_PK).update(number=F("number") + 1, changed_at=now)


def lock_version() -> None:
    """Serialize writers of the reference data: take the version row's lock (call inside a transaction)."""
    CatalogVersion.objects.get_or_create(pk=VERSION_PK)
    CatalogVersion.objects.select_for_update().filter(pk=VERSION_PK).first()


@contextmanager
def batch() -> Iterator[None]:
    """Many writes, one version bump at the end (only if something changed and nothing failed)."""
    if _deferred.get() is not None:
        yield
        return
    pending = [False]
    token = _deferred.set(pending)
    try:
        yield
    finally:
        _deferred.reset(token)
        clear()
    if pending[0]:
        _bump_now()


def mark_changed() -> None:
    """For writes that send no signals (bulk_create, queryset update)."""
    bump_version()


def snapshot() -> Snapshot:
    """The current reference data, rebuilt when the stored version moved since this copy was made."""
    global _snapshot, _checked_at
    current = _snapshot
    if current is not None and not refcache.recheck_due(_checked_at):
        return current
    version = stored_version()
    checked = refcache.now()
    if current is not None and current.version == version:
        _checked_at = checked
        return current
    built = _build(version)
    with _lock:
        _snapshot, _checked_at = built, checked
    return built


def _build(version: int) -> Snapshot:
    majors = {(m["kind"], m["code"]): m["name"] for m in MajorClass.objects.values("kind", "code", "name")}
    types: dict[tuple[str, str], TypeInfo] = {}
    rows = CatalogType.objects.values(
        "kind",
        "code",
        "name",
        "major__code",
        "component__code",
        "local",
        "is_public",
        "is_active",
        "keywords",
        "note",
    ).order_by("kind", "code")
    for t in rows:
        types[(t["kind"], t["code"])] = TypeInfo(
            kind=t["kind"],
            code=t["code"],
            name=t["name"],
            major=t["major__code"],
            major_name=majors.get((t["kind"], t["major__code"]), ""),
            component=t["component__code"] or "",
            local=t["local"],
            is_public=t["is_public"],
            is_active=t["is_active"],
            keywords=tuple(w for w in t["keywords"].split(",") if w),
            note=t["note"],
        )
    standards = {
        s["id"]: s
        for s in CaseStandard.objects.values("id", "key", "topic", "file_when", "order").order_by(
            "order", "key"
        )
    }
    by_standard: dict[int, list[Condition]] = {sid: [] for sid in standards}
    conditions_by_ref: dict[str, Condition] = {}
    for c in StandardCondition.objects.values().order_by("standard_id", "order"):
        s = standards[c["standard_id"]]
        cond = Condition(
            ref=f"{s['key']}#{c['order']}",
            standard_key=s["key"],
            topic=s["topic"],
            standard_file_when=s["file_when"],
            order=c["order"],
            urgency=c["urgency"],
            file_when=c["file_when"],
            stage=c["stage"],
            limit=c["limit"],
            unit=c["unit"],
            close_when=c["close_when"],
            basis=c["basis"],
            clock_starts=c["clock_starts"],
            area_class=c["area_class"],
        )
        by_standard[c["standard_id"]].append(cond)
        conditions_by_ref[cond.ref] = cond
    codes: dict[str, list[int]] = {}
    for sc in StandardCode.objects.values("standard_id", "code").order_by("standard_id", "position"):
        codes.setdefault(sc["code"], []).append(sc["standard_id"])
    order = {sid: i for i, sid in enumerate(standards)}
    conditions_by_code = {
        code: tuple(cond for sid in sorted(sids, key=order.__getitem__) for cond in by_standard[sid])
        for code, sids in codes.items()
    }
    step_limits = {
        r["step"]: Limit(r["limit"], r["unit"]) for r in StepLimit.objects.values("step", "limit", "unit")
    }
    defaults = {
        r["urgency"]: Limit(r["limit"], r["unit"])
        for r in StandardDefault.objects.values("urgency", "limit", "unit")
    }
    return Snapshot(
        version=version,
        types=types,
        conditions_by_code=conditions_by_code,
        conditions_by_ref=conditions_by_ref,
        step_limits=step_limits,
        defaults=defaults,
        majors=majors,
    )
