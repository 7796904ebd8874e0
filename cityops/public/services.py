"""Writes of the public side: the public figures kept for every worker (``models.FigureSet``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q

from cityops.public import selectors
from cityops.public.models import FigureSet
from cityops.public.selectors import DepartmentFigures

# How far ahead of this process's clock kept figures may be dated and still be read: the timer's
# machine (or another web server) a little ahead made every visitor count them again.
CLOCK_SKEW = timedelta(seconds=60)


def _last_days(days: int, now: datetime) -> list[DepartmentFigures]:
    return selectors.department_figures(since=now - timedelta(days=days), until=now, now=now)


def figures_now(*, days: int, now: datetime) -> tuple[datetime, list[DepartmentFigures]]:
    """``selectors.department_figures`` of the last ``days`` as computed at most
    ``CITYOPS_PUBLIC_FIGURES_SECONDS`` ago, and when: a public page anyone may load, whose one query
    aggregates up to a year of cases (3M cases: 0.8 s on PostgreSQL, 1.5-2.5 s on SQLite).

    Each process keeps a copy for the interval; past it, it reads the copy every worker shares
    (``FigureSet``), which the timer computes ahead (``figures_refresh``). Only where that one is
    older than the interval too (no timer, or a period nobody asked for since) does a visitor's load
    compute them, and keep them for the others."""
    ttl = settings.CITYOPS_PUBLIC_FIGURES_SECONDS
    if not ttl:
        return now, _last_days(days, now)

    def fresh(found) -> bool:
        return found is not None and now - timedelta(seconds=ttl) <= found[0] <= now + CLOCK_SKEW

    key = f"public:figures:{days}"
    found = cache.get(key)
    if not fresh(found):
        found = selectors.stored_figures(days)
        if not fresh(found):
            found = figures_store(days=days, now=now)
        cache.set(key, found, ttl)
    return found


def figures_store(*, days: int, now: datetime) -> tuple[datetime, list[DepartmentFigures]]:
    """Compute the figures of the last ``days`` as of ``now`` and keep them for every worker."""
    figures = _last_days(days, now)
    rows, shape = selectors.figures_out(figures), selectors.FIGURES_SHAPE
    # Never over figures computed later (the timer's, while a slower load computed): those stay, unless
    # dated too far ahead to be read (a clock set back). Two workers inserting at once leave one row.
    later = Q(computed_at__gte=now, computed_at__lte=now + CLOCK_SKEW, shape=shape)
    kept = FigureSet.objects.filter(days=days).exclude(later)
    if not kept.update(computed_at=now, rows=rows, shape=shape):
        FigureSet.objects.bulk_create(
            [FigureSet(days=days, computed_at=now, rows=rows, shape=shape)], ignore_conflicts=True
        )
    return now, figures


def figures_refresh(*, now: datetime, older_than: timedelta) -> list[int]:
    """Compute again the figures of every period (``selectors.FIGURE_PERIODS``) kept longer ago than
    ``older_than`` (or never, or dated after ``now``); the periods computed."""
    kept = dict(FigureSet.objects.filter(shape=selectors.FIGURES_SHAPE).values_list("days", "computed_at"))
    done = []
    for days in selectors.FIGURE_PERIODS:
        at = kept.get(days)
        if at is None or not now - older_than < at <= now + CLOCK_SKEW:
            figures_store(days=days, now=now)
            done.append(days)
    return done
