"""The working calendar between the database and the pure ``worktime`` module.

Reads: ``load_calendar`` builds a ``WorkCalendar`` from the tables and caches it per process; a
revision token in the database (changed on every edit) tells each process when to rebuild, so an
edit in the admin reaches every worker on its next call. Writes: seeding from the
``chinese_calendar`` package and importing a year from a file, both keeping hand-edited days.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from django.utils.translation import gettext as _

from cityops.core import refcache
from cityops.core.worktime import DEFAULT_PERIODS, DEFAULT_TIME_ZONE, Schedule, WorkCalendar

# The State Council publishes next year's holidays around November; warn from October on.
WARN_FROM_MONTH = 10
DEFAULT_SCHEDULE_NAME = "默认作息"
MAKE_UP_SUFFIX = "调休上班"


# --------------------------------------------------------------------------------------------
# The chinese_calendar package (no database)


def package_label() -> str:
    import chinese_calendar

    return f"chinese-calendar {chinese_calendar.__version__}"


def package_years() -> range:
    """The years the installed ``chinese_calendar`` package has official data for."""
    from chinese_calendar.constants import holidays

    return range(min(holidays).year, max(holidays).year + 1)


def package_days(year: int) -> dict[date, tuple[bool, str]]:
    """Holidays (weekends inside them included) and make-up working days of ``year``, Chinese names."""
    from chinese_calendar.constants import Holiday, holidays, workdays

    chinese = {h.value: h.chinese for h in Holiday}
    days = {d: (False, chinese.get(n, n)) for d, n in holidays.items() if d.year == year}
    days.update(
        {d: (True, chinese.get(n, n) + MAKE_UP_SUFFIX) for d, n in workdays.items() if d.year == year}
    )
    return days


def package_calendar(
    years: Iterable[int] | None = None,
    *,
    schedules: tuple[Schedule, ...] = (Schedule(DEFAULT_PERIODS),),
    time_zone: str = DEFAULT_TIME_ZONE,
) -> WorkCalendar:
    """A ``WorkCalendar`` straight from the package, for tests and scripts that have no database."""
    chosen = list(package_years() if years is None else years)
    days: dict[date, bool] = {}
    names: dict[date, str] = {}
    for year in chosen:
        for d, (is_workday, name) in package_days(year).items():
            days[d], names[d] = is_workday, name
    return WorkCalendar(days, names, schedules, frozenset(chosen), time_zone)


# --------------------------------------------------------------------------------------------
# Loading and caching


@dataclass
class _Cache:
    token: str | None = None
    calendar: WorkCalendar | None = None
    checked_at: float | None = None


_cache = _Cache()


def _current_token() -> str:
    from cityops.core.models import CalendarRevision

    return CalendarRevision.objects.filter(pk=1).values_list("token", flat=True).first() or ""


def build_calendar() -> WorkCalendar:
    """Build a fresh ``WorkCalendar`` from the tables (three queries; prefer ``load_calendar``)."""
    from django.conf import settings

    from cityops.core.models import CalendarDay, CalendarYear, WorkSchedule

    days: dict[date, bool] = {}
    names: dict[date, str] = {}
    for d, is_workday, name in CalendarDay.objects.values_list("date", "is_workday", "name"):
        days[d] = is_workday
        if name:
            names[d] = name
    covered = frozenset(CalendarYear.objects.filter(official=True).values_list("year", flat=True))
    schedules = []
    for schedule in WorkSchedule.objects.prefetch_related("periods"):
        periods = tuple((p.start, p.end) for p in schedule.periods.all())
        # A schedule without periods is an unfinished edit, not a decision to stop all work.
        if periods:
            schedules.append(Schedule(periods, schedule.valid_from, schedule.valid_to))
    return WorkCalendar(
        days, names, tuple(schedules) or (Schedule(DEFAULT_PERIODS),), covered, settings.TIME_ZONE
    )


def load_calendar() -> WorkCalendar:
    """The current calendar: one cheap query to check the revision, a rebuild only after edits."""
    cached = _cache.calendar
    if cached is not None and not refcache.recheck_due(_cache.checked_at):
        return cached
    token = _current_token()
    checked = refcache.now()
    if cached is not None and _cache.token == token:
        _cache.checked_at = checked
        return cached
    calendar = build_calendar()
    _cache.token, _cache.calendar, _cache.checked_at = token, calendar, checked
    return calendar


def calendar_changed_locally() -> None:
    """Forget this process's copy of the calendar; the next read checks the database."""
    _cache.token, _cache.calendar, _cache.checked_at = None, None, None


def calendar_changed() -> None:
    """Record that the calendar tables changed, for this process and every other one."""
    from django.utils import timezone

    from cityops.core.models import CalendarRevision

    # A fresh random token (not a counter) so a rolled-back edit can never look current.
    token = uuid.uuid4().hex
    if not CalendarRevision.objects.filter(pk=1).update(token=token, changed_at=timezone.now()):
        CalendarRevision.objects.get_or_create(pk=1, defaults={"token": token})
    _cache.token, _cache.calendar, _cache.checked_at = None, None, None


def _on_calendar_change(sender, **kwargs) -> None:
    calendar_changed()


def connect_signals() -> None:
    """Any save or delete of a calendar row (admin, shell, fixtures) invalidates the caches."""
    from django.db.models.signals import post_delete, post_save

    from cityops.core.models import CalendarDay, CalendarYear, WorkPeriod, WorkSchedule

    for model in (CalendarYear, CalendarDay, WorkSchedule, WorkPeriod):
        for signal in (post_save, post_delete):
            signal.connect(_on_calendar_change, sender=model, dispatch_uid=f"calendar-{model.__name__}")


# --------------------------------------------------------------------------------------------
# Warnings


def calendar_gaps(now: datetime | None = None) -> tuple[int | None, int | None]:
    """(current year, next year) when they lack official data and it is time to say so, else None."""
    from django.utils import timezone

    local = timezone.localtime(now or timezone.now())
    covered = load_calendar().covered_years
    current = local.year if local.year not in covered else None
    upcoming = local.year + 1
    following = upcoming if local.month >= WARN_FROM_MONTH and upcoming not in covered else None
    return current, following


def current_year_message(year: int) -> str:
    return _(
        "The working calendar has no official holiday schedule for %(year)s: deadlines assume that "
        "Monday to Friday are working days."
    ) % {"year": year}


def next_year_message(year: int) -> str:
    return _(
        "The official holiday schedule for %(year)s is not in the working calendar yet: deadlines "
        "reaching into %(year)s assume that Monday to Friday are working days."
    ) % {"year": year}


def fix_hint() -> str:
    return _(
        "Add the year's holidays and make-up working days under Core > Calendar days and tick the year "
        "as official, or run core_calendar_import with the published schedule."
    )


def calendar_warnings(now: datetime | None = None) -> list[str]:
    """Translated warnings for staff when this year or, from October, next year lacks official data."""
    current, following = calendar_gaps(now)
    messages = []
    if current is not None:
        messages.append(current_year_message(current))
    if following is not None:
        messages.append(next_year_message(following))
    return messages


# --------------------------------------------------------------------------------------------
# Writes: seeding and importing


@dataclass
class YearResult:
    """What a seed or import did to one year."""

    year: int
    created: int = 0
    updated: int = 0
    removed: int = 0
    manual_kept: int = 0


@dataclass
class YearData:
    """One year's official days as read from a file."""

    year: int
    days: dict[date, tuple[bool, str]] = field(default_factory=dict)
    source: str = ""


def _store_year(year: int, days: dict[date, tuple[bool, str]], *, source: str, official: bool) -> YearResult:
    """Make the official rows of ``year`` equal ``days``; rows edited by hand are never touched."""
    from django.utils import timezone

    from cityops.core.models import CalendarDay, CalendarSource, CalendarYear

    result = YearResult(year)
    now = timezone.now()
    existing = {row.date: row for row in CalendarDay.objects.filter(date__year=year)}
    to_create, to_update = [], []
    for d, (is_workday, name) in sorted(days.items()):
        row = existing.get(d)
        if row is None:
            to_create.append(
                CalendarDay(date=d, is_workday=is_workday, name=name, source=CalendarSource.OFFICIAL)
            )
        elif row.source == CalendarSource.OFFICIAL and (row.is_workday, row.name) != (is_workday, name):
            row.is_workday, row.name, row.updated_at = is_workday, name, now
            to_update.append(row)
    stale = [row.pk for d, row in existing.items() if row.source == CalendarSource.OFFICIAL and d not in days]
    CalendarDay.objects.bulk_create(to_create)
    CalendarDay.objects.bulk_update(to_update, ["is_workday", "name", "updated_at"])
    CalendarDay.objects.filter(pk__in=stale).delete()
    result.created, result.updated, result.removed = len(to_create), len(to_update), len(stale)
    result.manual_kept = sum(row.source == CalendarSource.MANUAL for row in existing.values())

    year_row, created = CalendarYear.objects.get_or_create(
        year=year, defaults={"official": official, "source": source}
    )
    if not created and (year_row.official, year_row.source) != (official, source):
        year_row.official, year_row.source = official, source
        year_row.save(update_fields=["official", "source", "updated_at"])
    return result


def ensure_default_schedule() -> bool:
    """Create the default 08:30-12:00, 14:30-18:00 schedule when there is none; True if created."""
    from cityops.core.models import WorkPeriod, WorkSchedule

    if WorkSchedule.objects.exists():
        return False
    schedule = WorkSchedule.objects.create(name=DEFAULT_SCHEDULE_NAME)
    WorkPeriod.objects.bulk_create(WorkPeriod(schedule=schedule, start=s, end=e) for s, e in DEFAULT_PERIODS)
    return True


def seed_from_package(years: Iterable[int] | None = None) -> list[YearResult]:
    """Seed official days and covered years from ``chinese_calendar`` (idempotent)."""
    from django.db import transaction

    chosen = list(package_years() if years is None else years)
    available = package_years()
    missing = [y for y in chosen if y not in available]
    if missing:
        raise ValueError(
            _("The chinese-calendar package has no data for %(years)s (it covers %(first)s-%(last)s).")
            % {"years": ", ".join(map(str, missing)), "first": available[0], "last": available[-1]}
        )
    label = package_label()
    with transaction.atomic():
        results = [_store_year(y, package_days(y), source=label, official=True) for y in chosen]
        ensure_default_schedule()
        calendar_changed()
    return results


def import_year(data: YearData, *, official: bool = True) -> YearResult:
    """Store one year read from a file, replacing its official rows and keeping hand edits."""
    from django.db import transaction

    with transaction.atomic():
        result = _store_year(data.year, data.days, source=data.source, official=official)
        calendar_changed()
    return result


def _parse_date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError(_("%(value)s is not a date (use YYYY-MM-DD).") % {"value": value}) from None


_TRUE = {"1", "true", "yes", "y", "workday", "是", "班"}
_FALSE = {"0", "false", "no", "n", "holiday", "否", "休"}


def _parse_bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(_("%(value)s is not a yes/no value.") % {"value": value})


def _add_day(days: dict[date, tuple[bool, str]], d: date, is_workday: bool, name: str) -> None:
    if d in days and days[d][0] != is_workday:
        raise ValueError(_("%(date)s is listed both as a holiday and as a working day.") % {"date": d})
    days[d] = (is_workday, name)


def _entries(items: object, is_workday: bool, days: dict[date, tuple[bool, str]]) -> None:
    if items is None:
        return
    if not isinstance(items, list):
        raise ValueError(_("'holidays' and 'workdays' must be lists."))
    for item in items:
        if not isinstance(item, dict):
            raise ValueError(_("Each entry needs a name and a date, or a name and from/to dates."))
        name = str(item.get("name", "")).strip()
        if "date" in item:
            first = last = _parse_date(item["date"])
        elif "from" in item and "to" in item:
            first, last = _parse_date(item["from"]), _parse_date(item["to"])
        else:
            raise ValueError(_("Each entry needs a name and a date, or a name and from/to dates."))
        if last < first:
            raise ValueError(_("%(first)s-%(last)s ends before it starts.") % {"first": first, "last": last})
        d = first
        while d <= last:
            _add_day(days, d, is_workday, name)
            d += timedelta(days=1)


def _plain_loader():
    """A safe YAML loader that leaves dates as text, so a bad date gets our message, not PyYAML's."""
    import yaml

    class PlainLoader(yaml.SafeLoader):
        pass

    PlainLoader.yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return PlainLoader


def parse_calendar_file(name: str, text: str) -> YearData:
    """Read one year from YAML (holidays/workdays lists) or CSV (date,is_workday,name[,note]).

    The formats are described in docs/worktime.md. Raises ValueError with a translated message.
    """
    import yaml

    days: dict[date, tuple[bool, str]] = {}
    year: int | None = None
    source = Path(name).name
    if name.lower().endswith(".csv"):
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        if not reader.fieldnames or not {"date", "is_workday"} <= set(reader.fieldnames):
            raise ValueError(_("The CSV file needs the columns date, is_workday and name."))
        for row in reader:
            _add_day(
                days,
                _parse_date(row["date"]),
                _parse_bool(row["is_workday"]),
                (row.get("name") or "").strip(),
            )
    else:
        try:
            doc = yaml.load(text, Loader=_plain_loader())  # noqa: S506 (a SafeLoader subclass)
        except yaml.YAMLError as exc:
            raise ValueError(_("The file is not valid YAML: %(error)s") % {"error": exc}) from None
        if not isinstance(doc, dict):
            raise ValueError(_("The YAML file must be a mapping with year, holidays and workdays."))
        if doc.get("year") is not None:
            try:
                year = int(doc["year"])
            except (TypeError, ValueError):
                raise ValueError(_("The year must be a number.")) from None
        source = str(doc.get("source") or source)
        _entries(doc.get("holidays"), False, days)
        _entries(doc.get("workdays"), True, days)
    if not days:
        raise ValueError(_("The file lists no days."))
    years = {d.year for d in days}
    if year is None and len(years) == 1:
        year = years.pop()
    if year is None or years - {year}:
        raise ValueError(_("All days of the file must fall in one year, the year being imported."))
    return YearData(year, days, source)
