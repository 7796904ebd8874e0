"""The demo generator at any scale: realistic arrivals, places, types and department diligence.

One seeded plan per case (``plan_cases``), executed either through the services (``run_services``:
small scales, every rule enforced by the real code) or by the bulk path (``run_bulk``: the same
transitions replayed in memory with the pure ``deadlines`` functions and written with
``bulk_create`` in batches, one transaction per batch). Both paths keep the same invariants: every
case's state is the ``to_state`` of its last event, each event starts where the previous one ended,
deadlines are what the pure functions compute, numbers are unique and the month counters agree.

Patterns drawn:
* arrivals by season and weekday (fewer on weekends and official holidays), by hour (inspectors in
  working hours; the public from morning to late evening; street vending peaks on summer evenings);
* types weighted as a 数字城管 centre sees them, with snow and ice in winter, dust in spring and
  more street vending in summer;
* places clustered where people are (the urban core of 潞州区, markets, schools, construction sites)
  with a few recurring hotspots;
* departments of different diligence: handling speed, rework and satisfaction differ visibly.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.db import transaction
from django.utils import timezone

from cityops.cases.choices import Action, Kind, Source, Stage, State, Urgency

# (code, weight, description, season) — season: months with a higher weight (multiplier).
TYPES = [
    ("07001", 22, "电线杆、墙面上张贴非法小广告", {}),
    ("06010", 17, "路边成堆生活垃圾未清运", {6: 1.2, 7: 1.3, 8: 1.3}),
    ("09009", 12, "机动车占用人行道停放", {}),
    ("09001", 8, "流动摊贩占道叫卖", {5: 1.5, 6: 2.0, 7: 2.2, 8: 2.0, 9: 1.4, 12: 0.4, 1: 0.3, 2: 0.4}),
    ("09006", 7, "商户占道摆摊经营", {5: 1.3, 6: 1.6, 7: 1.8, 8: 1.6}),
    ("06013", 6, "路面坑槽破损，影响通行", {3: 1.6, 4: 1.4}),
    ("01002", 5, "污水井盖破损松动", {}),
    ("06042", 6, "垃圾箱满溢，周边散落", {7: 1.3, 8: 1.3, 2: 1.5}),
    ("09010", 5, "共享单车乱停乱放堵塞盲道", {4: 1.3, 5: 1.3, 9: 1.3, 10: 1.3, 1: 0.5}),
    ("01037", 4, "路灯夜间不亮", {11: 1.3, 12: 1.4, 1: 1.4}),
    ("08004", 3, "工地裸土未覆盖，扬尘严重", {3: 3.0, 4: 3.5, 5: 2.5, 12: 0.3, 1: 0.2, 2: 0.3}),
    ("06012", 2, "道路不洁，有油污", {}),
    ("10001", 0.4, "道路积雪结冰未清除，行人易滑倒", {12: 20.0, 1: 30.0, 2: 18.0, 11: 4.0, 3: 2.0}),
]
TYPE_INFO = {t[0]: t for t in TYPES}
EVENING_TYPES = {"09001", "09006"}

# Where people are: (name, lat, lon, sigma in degrees, weight, streets). Hotspots recur tightly.
PLACES = [
    (
        "潞州区中心城区",
        36.195,
        113.117,
        0.008,
        30,
        ["英雄中路", "太行东街", "太行西街", "府后西街", "东大街"],
    ),
    ("城隍庙步行街", 36.197, 113.112, 0.0015, 8, ["城隍庙街", "西大街"]),
    ("长治东站片区", 36.188, 113.128, 0.005, 7, ["八一路", "紫金东街"]),
    ("紫金街农贸市场", 36.203, 113.125, 0.0012, 9, ["紫金东街", "紫金西街"]),
    ("英雄南路夜市", 36.182, 113.118, 0.0012, 8, ["英雄南路"]),
    ("长治二中周边", 36.191, 113.103, 0.0015, 6, ["延安南路", "府后西街"]),
    ("太行中学周边", 36.207, 113.108, 0.0015, 5, ["太行西街", "北大街"]),
    ("北部新区建设工地", 36.218, 113.098, 0.004, 6, ["漳泽路", "长兴北路"]),
    ("南部新城建设工地", 36.172, 113.132, 0.004, 5, ["长兴南路", "南环街"]),
    ("城西居住区", 36.192, 113.092, 0.006, 10, ["西环路", "太行西街"]),
    ("城东居住区", 36.200, 113.140, 0.006, 6, ["东环路", "太行东街"]),
]
# Recurring hotspots (the same corner, again and again): a share of cases lands exactly here.
HOTSPOT_SHARE = 0.06

WEEKDAY_FACTOR = [1.15, 1.1, 1.05, 1.05, 1.0, 0.7, 0.6]
HOLIDAY_FACTOR = 0.45
SEASON_BASE = {
    1: 0.8,
    2: 0.75,
    3: 1.0,
    4: 1.1,
    5: 1.15,
    6: 1.15,
    7: 1.2,
    8: 1.15,
    9: 1.1,
    10: 1.0,
    11: 0.9,
    12: 0.8,
}
# Arrival weight per local hour: inspectors patrol in working hours, the public reports until late.
HOURS_INSPECTOR = [0, 0, 0, 0, 0, 0, 0, 1, 6, 9, 9, 8, 3, 2, 7, 9, 9, 7, 3, 1, 0, 0, 0, 0]
HOURS_PUBLIC = [1, 0, 0, 0, 0, 0, 1, 3, 6, 7, 7, 6, 5, 4, 5, 6, 6, 6, 6, 7, 7, 5, 3, 2]
HOURS_EVENING = [1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 5, 3, 2, 2, 3, 6, 10, 12, 12, 9, 5, 2]
SOURCES = [(Source.INSPECTOR, 62), (Source.PUBLIC, 26), (Source.HOTLINE, 8), (Source.VIDEO, 4)]
VERIFIED = {Source.INSPECTOR, Source.INSPECTION, Source.SUPERIOR}


def diligence(department_code: str) -> float:
    """A department's diligence in [0.55, 1.35], fixed by its code: how fast and how well it works."""
    h = int(hashlib.sha256(department_code.encode()).hexdigest()[:8], 16)
    return 0.55 + (h % 1000) / 1000 * 0.8


@dataclass
class Plan:
    """One case: what is reported, where and when, and how far along the loop it should go."""

    seq: int
    reported_at: datetime
    type_code: str
    description: str
    lat: float
    lon: float
    address: str
    source: str
    urgency: str
    reporter_phone: str
    rng_seed: int
    end: str = ""  # "", "reject", "invalidate", "park": how an unusual case ends
    extra: dict = field(default_factory=dict)


def _day_weights(start: date, days: int, holidays: set[date]) -> tuple[list[date], dict[str, list[float]]]:
    dates = [start + timedelta(days=i) for i in range(days)]
    cum: dict[str, list[float]] = {}
    for code, _w, _d, season in TYPES:
        total, out = 0.0, []
        for d in dates:
            w = SEASON_BASE[d.month] * season.get(d.month, 1.0) * WEEKDAY_FACTOR[d.weekday()]
            if d in holidays:
                w *= HOLIDAY_FACTOR
            total += w
            out.append(total)
        cum[code] = out
    return dates, cum


def _holidays(calendar, dates_from: date, dates_to: date) -> set[date]:
    out = set()
    d = dates_from
    while d <= dates_to:
        if d.weekday() < 5 and not calendar.is_workday(d):
            out.add(d)
        d += timedelta(days=1)
    return out


def plan_cases(*, count: int, days: int, seed: int, now: datetime, calendar) -> list[Plan]:
    """``count`` case plans over the ``days`` before ``now``, in time order. Pure apart from ``calendar``."""
    rng = random.Random(seed)
    local_now = timezone.localtime(now)
    first = (local_now - timedelta(days=days)).date()
    dates, cum = _day_weights(first, days + 1, _holidays(calendar, first, local_now.date()))
    codes, type_w = [t[0] for t in TYPES], [t[1] for t in TYPES]
    # Season shifts the type mix: weight of a type over the span = its mean seasonal factor.
    span_w = [w * (cum[c][-1] / cum["07001"][-1]) for c, w in zip(codes, type_w, strict=True)]
    place_w = [p[4] for p in PLACES]
    hot_rng = random.Random(seed + 1)
    hotspots = [
        (p[1] + hot_rng.gauss(0, p[3] / 2), p[2] + hot_rng.gauss(0, p[3] / 2), p[5][0])
        for p in PLACES
        for _ in (0, 1)
    ]
    tz = local_now.tzinfo
    plans = []
    for i in range(count):
        code = rng.choices(codes, span_w)[0]
        d = rng.choices(dates, cum_weights=cum[code])[0]
        source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
        if code in EVENING_TYPES and 5 <= d.month <= 9:
            hours = HOURS_EVENING
        else:
            hours = HOURS_INSPECTOR if source in VERIFIED else HOURS_PUBLIC
        hour = rng.choices(range(24), hours)[0]
        at = datetime(d.year, d.month, d.day, hour, rng.randrange(60), rng.randrange(60), tzinfo=tz)
        if at >= local_now:
            at = local_now - timedelta(minutes=rng.uniform(5, 600))
        if rng.random() < HOTSPOT_SHARE:
            lat, lon, street = rng.choice(hotspots)
            lat, lon = lat + rng.gauss(0, 0.00008), lon + rng.gauss(0, 0.00008)
        else:
            place = rng.choices(PLACES, place_w)[0]
            lat, lon = place[1] + rng.gauss(0, place[3]), place[2] + rng.gauss(0, place[3])
            street = rng.choice(place[5])
        public = source not in VERIFIED
        roll = rng.random()
        end = "reject" if roll < 0.03 else "invalidate" if roll < (0.06 if public else 0.04) else ""
        if not end and rng.random() < 0.01:
            end = "park"
        plans.append(
            Plan(
                seq=i,
                reported_at=at.astimezone(UTC),
                type_code=code,
                description=TYPE_INFO[code][2],
                lat=round(lat, 6),
                lon=round(lon, 6),
                address=f"{street}{rng.randrange(1, 300)}号附近",
                source=source,
                urgency=Urgency.URGENT if rng.random() < 0.05 else Urgency.NORMAL,
                reporter_phone=f"139{rng.randrange(10**8):08d}" if public else "",
                rng_seed=rng.getrandbits(32),
                end=end,
            )
        )
    plans.sort(key=lambda p: (p.reported_at, p.seq))
    return plans


# ------------------------------------------------------------------------------------------------
# steps: the same path for both writers


@dataclass(frozen=True)
class Step:
    action: str
    at: datetime
    who: str  # demo user name, or "handler" (a handler of the case's department)
    reason: str = ""


def _later(t: datetime, rng: random.Random, lo: float, hi: float) -> datetime:
    return t + timedelta(minutes=rng.uniform(lo, hi))


def plan_steps(plan: Plan, *, department_code: str, handle_hours: float, now: datetime) -> list[Step]:
    """The actions this case goes through up to ``now`` (each as the role that owns it).

    ``handle_hours`` is the handling limit in wall-clock hours, roughly; a diligent department finishes
    well inside it, a slack one often runs over, and reworks more.
    """
    rng = random.Random(plan.rng_seed)
    dil = diligence(department_code) if department_code else 1.0
    steps: list[Step] = []
    t = plan.reported_at

    def add(action: str, when: datetime, who: str, reason: str = "") -> bool:
        if when >= now:
            return False
        steps.append(Step(action, when, who, reason))
        return True

    if plan.source not in VERIFIED:
        t = _later(t, rng, 8, 90)
        if not add(Action.VERIFY, t, "demo-inspector"):
            return steps
    if plan.end in ("reject", "invalidate"):
        t = _later(t, rng, 5, 40)
        reason = "不属于城市管理范围" if plan.end == "reject" else "重复误报"
        add(plan.end, t, "demo-chief", reason)
        return steps
    for action, who, lo, hi in (
        (Action.FILE, "demo-chief", 3, 40),
        (Action.DISPATCH, "demo-dispatcher", 3, 30),
        (Action.ACCEPT, "handler", 10, 90 / dil),
    ):
        t = _later(t, rng, lo, hi)
        if not add(action, t, who):
            return steps
    if plan.end == "park":
        t = _later(t, rng, 60, 240)
        add(Action.PARK, t, "demo-chief", "冬季低温无法施工，待来年春季处置")
        return steps
    rework_p = max(0.02, 0.22 - 0.15 * dil)
    while True:
        # handling time as a share of the limit: diligent departments finish early
        share = rng.lognormvariate(math.log(0.55 / dil), 0.5)
        t = t + timedelta(hours=max(0.3, handle_hours * share))
        if not add(Action.REPORT_DONE, t, "handler"):
            return steps
        t = _later(t, rng, 20, 240)
        if rng.random() < rework_p:
            if not add(Action.CHECK_FAIL, t, "demo-inspector", "现场复核仍未处置到位"):
                return steps
            rework_p /= 3
            continue
        if not add(Action.CHECK_PASS, t, "demo-inspector"):
            return steps
        break
    t = _later(t, rng, 5, 120)
    add(Action.CLOSE, t, "demo-chief")
    return steps


def rating_for(plan: Plan, department_code: str) -> str:
    if plan.source not in (Source.PUBLIC, Source.HOTLINE):
        return ""
    rng = random.Random(plan.rng_seed ^ 0x5EED)
    if rng.random() < 0.45:
        return ""
    dil = diligence(department_code)
    good = 0.45 + 0.4 * dil / 1.35
    r = rng.random()
    return "satisfied" if r < good else "basic" if r < good + (1 - good) * 0.6 else "unsatisfied"


# ------------------------------------------------------------------------------------------------
# shared reference look-ups (cached per run)


class Reference:
    """Reference data the generator needs, each looked up once per distinct key."""

    def __init__(self, now: datetime):
        from django.contrib.auth import get_user_model

        from cityops.core.calendar import load_calendar

        self.now = now
        self.calendar = load_calendar()
        self.users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
        self._where: dict = {}
        self._dept: dict = {}
        self._filing: dict = {}
        self._handlers: dict = {}
        self._types: dict = {}

    def where(self, lat: float, lon: float):
        from cityops.core.errors import DomainError
        from cityops.geography.selectors import locate

        key = (round(lat, 4), round(lon, 4))
        if key not in self._where:
            try:
                self._where[key] = locate(key[0], key[1], at=self.now)
            except DomainError:
                self._where[key] = None
        return self._where[key]

    def type_info(self, code: str):
        from cityops.catalog import selectors as catalog

        if code not in self._types:
            self._types[code] = catalog.catalog_type(Kind.MATTER, code)
        return self._types[code]

    def department(self, type_code: str, county: str, township: str):
        """The department the dispatch rules choose for (type, area), as ``case_act`` would."""
        from cityops.cases.models import Case
        from cityops.cases.services import dispatch_proposal

        key = (type_code, county, township)
        if key not in self._dept:
            probe = Case(kind=Kind.MATTER, type_code=type_code, county_code=county, township_code=township)
            self._dept[key] = dispatch_proposal(probe)
        return self._dept[key]

    def filing(self, type_code: str, urgency: str, area_class: str):
        """The first filing option, as ``case_act(file)`` picks it without a condition."""
        from cityops.cases import deadlines
        from cityops.catalog import selectors as catalog

        key = (type_code, urgency, area_class)
        if key not in self._filing:
            option = deadlines.filing_options(
                catalog.conditions_for(Kind.MATTER, type_code, urgency, area_class or None)
            )[0]
            milestones = (
                [
                    {"ref": c.ref, "stage": c.stage, "limit": str(c.limit), "unit": c.unit}
                    for c in option.conditions
                ]
                if option.staged
                else []
            )
            self._filing[key] = (option.ref, option.final.limit, option.final.unit, milestones)
        return self._filing[key]

    def handler(self, department):
        """A handler of the department (a demo handler is created for departments without one)."""
        if department.pk not in self._handlers:
            from cityops.demo.cases import _handler_for

            class _Probe:
                pass

            probe = _Probe()
            probe.department = department
            self._handlers[department.pk] = _handler_for(probe, self.users)
        return self._handlers[department.pk]


def _handle_hours(limit, unit: str) -> float:
    """A handling limit in rough wall-clock hours, for drawing how long handling takes."""
    n = float(limit or 24)
    return {
        "minute": n / 60,
        "hour": n,
        "work_hour": n * 3,
        "work_day": n * 24,
        "day": n * 24,
    }.get(unit, n)


# ------------------------------------------------------------------------------------------------
# path 1: through the services


def run_services(*, plans: list[Plan], now: datetime, ref: Reference | None = None) -> int:
    """Write every plan through ``case_report`` / ``case_act`` / ``case_rate``; returns cases made."""
    from cityops.cases.services import ActionInput, ReportInput, case_act, case_rate, case_report
    from cityops.core.errors import DomainError
    from cityops.demo.cases import _photo

    ref = ref or Reference(now)
    made = 0
    for plan in plans:
        where = ref.where(plan.lat, plan.lon)
        if where is None:
            continue
        public = plan.source not in VERIFIED
        try:
            case = case_report(
                data=ReportInput(
                    source=plan.source,
                    type_code=plan.type_code,
                    description=plan.description,
                    lat=plan.lat,
                    lon=plan.lon,
                    urgency=plan.urgency,
                    address=plan.address,
                    reporter_phone=plan.reporter_phone,
                ),
                actor=None if public else ref.users["demo-inspector"],
                now=plan.reported_at,
            )
        except DomainError:
            continue
        made += 1
        dept = ref.department(plan.type_code, case.county_code, case.township_code)
        _rf, limit, unit, _m = ref.filing(plan.type_code, plan.urgency, case.area_class)
        steps = plan_steps(
            plan, department_code=dept.code if dept else "", handle_hours=_handle_hours(limit, unit), now=now
        )
        rng = random.Random(plan.rng_seed)
        for step in steps:
            if step.action == Action.DISPATCH and dept is None:
                break
            actor = ref.handler(dept) if step.who == "handler" else ref.users[step.who]
            photos = [_photo(rng)] if step.action == Action.REPORT_DONE else []
            case = case_act(
                number=case.number,
                data=ActionInput(action=step.action, reason=step.reason, note=step.reason),
                actor=actor,
                photos=photos,
                now=step.at,
            )
        if case.state == State.CLOSED and dept is not None:
            rating = rating_for(plan, dept.code)
            if rating:
                case_rate(number=case.number, rating=rating, now=case.closed_at + timedelta(hours=3))
    return made


# ------------------------------------------------------------------------------------------------
# path 2: bulk


TERMINAL_NO_CLOCK = {Action.CLOSE, Action.REJECT, Action.INVALIDATE}
PRIVATE_ACTIONS = {Action.URGE, Action.REQUEST_EXTENSION, Action.DENY_EXTENSION, Action.APPROVE_EXTENSION}
TARGET = {
    Action.VERIFY: (State.TO_FILE, Stage.FILE),
    Action.FILE: (State.TO_DISPATCH, Stage.DISPATCH),
    Action.REJECT: (State.REJECTED, None),
    Action.INVALIDATE: (State.INVALID, None),
    Action.DISPATCH: (State.DISPATCHED, Stage.HANDLE),
    Action.ACCEPT: (State.HANDLING, None),
    Action.PARK: (State.PARKED, None),
    Action.REPORT_DONE: (State.TO_CHECK, Stage.CHECK),
    Action.CHECK_PASS: (State.TO_CLOSE, Stage.CLOSE),
    Action.CHECK_FAIL: (State.HANDLING, Stage.HANDLE),
    Action.CLOSE: (State.CLOSED, None),
}


class _Row:
    """A model row as a plain attribute bag: building millions of model instances costs more than the
    writes. Attribute names are the model's ``attname`` (``department_id``), defaults filled in."""

    def __init__(self, defaults: dict, **values):
        self.__dict__.update(defaults)
        self.__dict__.update(values)


_DEFAULTS: dict = {}


def _defaults(model) -> dict:
    if model not in _DEFAULTS:
        _DEFAULTS[model] = {
            f.attname: f.get_default() for f in model._meta.concrete_fields if not f.primary_key
        }
    return {
        k: (list(v) if isinstance(v, list) else dict(v) if isinstance(v, dict) else v)
        for k, v in _DEFAULTS[model].items()
    }


def _number_allocator(months: set[str]):
    from cityops.cases.models import CaseCounter

    last = dict(CaseCounter.objects.filter(month__in=months).values_list("month", "last"))

    def next_number(month: str) -> str:
        last[month] = last.get(month, 0) + 1
        return f"{month}-{last[month]:06d}"

    return next_number, last


def _build_case(plan: Plan, ref: Reference, number: str, now: datetime, step_due):
    """The case row and its event rows, replaying the transition table in memory."""
    from cityops.cases import deadlines, workflow
    from cityops.cases.models import Case, CaseEvent

    where = ref.where(plan.lat, plan.lon)
    info = ref.type_info(plan.type_code)
    public = plan.source not in VERIFIED
    inspector = ref.users.get("demo-inspector")
    case = _Row(
        _defaults(Case),
        number=number,
        source=plan.source,
        kind=Kind.MATTER,
        type_code=info.code,
        type_name=info.name,
        urgency=plan.urgency,
        description=plan.description,
        lat=plan.lat,
        lon=plan.lon,
        address=plan.address,
        county_code=where.county.code if where.county else where.city.code,
        township_code=where.township.code if where.township else "",
        community_code=where.community.code if where.community else "",
        grid_code=where.grid,
        area_class=where.area_class or "",
        state=State.TO_VERIFY if public else State.TO_FILE,
        reporter_phone=plan.reporter_phone,
        reported_by_id=None if public else inspector.pk,
        inspector_id=None if public else inspector.pk,
        merged_into_id=None,
        department_id=None,
        is_public=True,
        tracking_token=hashlib.sha256(f"{plan.rng_seed}:{number}".encode()).hexdigest()[:24],
        reported_at=plan.reported_at,
        updated_at=plan.reported_at,
    )
    stage = Stage.VERIFY if public else Stage.FILE
    case.stage, case.stage_started_at, case.due_at = (
        stage,
        plan.reported_at,
        step_due(stage, plan.reported_at),
    )
    events = [
        _Row(
            _defaults(CaseEvent),
            action=Action.REPORT,
            actor_id=None if public else inspector.pk,
            actor_name="" if public else inspector.display_name,
            from_state="",
            to_state=case.state,
            data={"source": plan.source},
            at=plan.reported_at,
        )
    ]
    dept = ref.department(plan.type_code, case.county_code, case.township_code)
    cond_ref, limit, unit, milestones = ref.filing(plan.type_code, plan.urgency, case.area_class)
    steps = plan_steps(
        plan, department_code=dept.code if dept else "", handle_hours=_handle_hours(limit, unit), now=now
    )
    cal = ref.calendar
    for step in steps:
        action = Action(step.action)
        if action is Action.DISPATCH and dept is None:
            break
        t = workflow.TABLE[action]
        assert State(case.state) in t.sources, (case.number, case.state, action)
        from_state = case.state
        target, stage = TARGET[action]
        case.state = target
        if stage is not None and stage is not Stage.HANDLE:
            case.stage, case.stage_started_at, case.due_at = stage, step.at, step_due(stage, step.at)
        extra: dict = {}
        if action is Action.FILE:
            case.condition_ref, case.handle_limit, case.handle_unit = cond_ref, limit, unit
            case.milestones = [dict(m) for m in milestones]
            case.filed_at = step.at
            extra = {"condition": cond_ref, "limit": str(limit), "unit": unit}
        elif action is Action.DISPATCH:
            case.department_id = dept.pk
            case.dispatched_at = step.at
            case.stage, case.stage_started_at = Stage.HANDLE, step.at
            case.handle_due_at = deadlines.due(step.at, case.handle_limit, case.handle_unit, cal)
            if case.milestones:
                case.milestones = deadlines.milestone_dues(step.at, case.milestones, cal)
                case.handle_due_at = max(datetime.fromisoformat(m["due"]) for m in case.milestones)
            case.due_at = case.handle_due_at
            case.paused_at = None
            extra = {"department": dept.code, "proposed": dept.code, "override": False}
        elif action is Action.PARK:
            case.paused_at = step.at
        elif action is Action.REPORT_DONE:
            case.handled_at = step.at
        elif action is Action.CHECK_FAIL:
            case.rework_count += 1
            paused_from = case.handled_at
            if case.milestones and paused_from:
                case.milestones = deadlines.milestones_resumed(case.milestones, paused_from, step.at, cal)
            if case.handle_due_at and paused_from:
                case.handle_due_at = deadlines.resumed_due(
                    case.handle_due_at, paused_from, step.at, case.handle_unit, cal
                )
            case.paused_at = None
            case.stage, case.stage_started_at, case.due_at = Stage.HANDLE, step.at, case.handle_due_at
        elif action in TERMINAL_NO_CLOCK:
            case.stage, case.stage_started_at, case.due_at = "", None, None
            if action is Action.CLOSE:
                case.closed_at = step.at
        actor = ref.handler(dept) if step.who == "handler" else ref.users[step.who]
        case.updated_at = step.at
        events.append(
            _Row(
                _defaults(CaseEvent),
                action=action,
                actor_id=actor.pk,
                actor_name=actor.display_name or "",
                from_state=from_state,
                to_state=case.state,
                department_id=case.department_id,
                note=step.reason,
                data=extra,
                is_public=action not in PRIVATE_ACTIONS,
                at=step.at,
            )
        )
    if case.state == State.CLOSED and dept is not None:
        rating = rating_for(plan, dept.code)
        if rating:
            at = case.closed_at + timedelta(hours=3)
            case.rating, case.rated_at, case.updated_at = rating, at, at
            events.append(
                _Row(
                    _defaults(CaseEvent),
                    action=Action.RATE,
                    actor_id=None,
                    actor_name="",
                    from_state=case.state,
                    to_state=case.state,
                    department_id=case.department_id,
                    data={"rating": rating},
                    is_public=False,
                    at=at,
                )
            )
    return case, events


def _row_writer(model, connection):
    """(sql, to_row) for a plain multi-row INSERT of ``model`` with explicit ids: the ORM's bulk_create
    spends most of its time preparing values, one field of one row at a time."""
    from django.db import models as m

    fields = list(model._meta.concrete_fields)
    ops = connection.ops
    convs = []
    for f in fields:
        if isinstance(f, m.DateTimeField):
            convs.append(
                (lambda v: str(v.astimezone(UTC).replace(tzinfo=None)))
                if connection.vendor == "sqlite"
                else ops.adapt_datetimefield_value
            )
        elif isinstance(f, m.JSONField):
            convs.append(lambda v, enc=f.encoder: ops.adapt_json_value(v, enc))
        elif isinstance(f, m.DecimalField):
            convs.append(
                lambda v, md=f.max_digits, dp=f.decimal_places: ops.adapt_decimalfield_value(v, md, dp)
            )
        else:
            convs.append(None)
    qn = connection.ops.quote_name
    cols = ", ".join(qn(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks})"
    attnames = [f.attname for f in fields]
    pairs = list(zip(attnames, convs, strict=True))

    def to_row(obj) -> tuple:
        d = obj.__dict__
        return tuple(c(d[a]) if c is not None and d[a] is not None else d[a] for a, c in pairs)

    return sql, to_row


def _next_ids(model, connection) -> int:
    from django.db.models import Max

    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def _reset_sequences(models, connection) -> None:
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cur.execute(sql)


def run_bulk(
    *, plans: list[Plan], now: datetime, batch: int = 2000, ref: Reference | None = None, progress=None
) -> int:
    """Write every plan as plain multi-row INSERTs with explicit ids, one transaction per batch.

    Rows are built by replaying the transition table in memory (``_build_case``), facts by the
    evaluation app's pure derivation, so they are exactly what the services would have written
    (less photos, follows and notifications).
    """
    from django.db import connection

    from cityops.cases import deadlines
    from cityops.cases.models import Case, CaseCounter, CaseEvent
    from cityops.catalog import selectors as catalog
    from cityops.evaluation.models import CaseFact
    from cityops.evaluation.services import fact_timing, fact_values_with

    ref = ref or Reference(now)
    cal = ref.calendar
    limits = {s.value: catalog.step_limit(s.value) for s in Stage if s is not Stage.HANDLE}

    def step_due(stage, start):
        limit = limits.get(str(stage))
        return None if limit is None else deadlines.due(start, limit.limit, limit.unit, cal)

    timing = (cal, step_due, fact_timing(cal)[2])
    plans = [p for p in plans if ref.where(p.lat, p.lon) is not None and ref.type_info(p.type_code)]
    months = {timezone.localtime(p.reported_at).strftime("%Y-%m") for p in plans}
    next_number, last = _number_allocator(months)
    # Warm the per-department handlers outside the batches (they may create users).
    for p in plans[:: max(1, len(plans) // 500)]:
        w = ref.where(p.lat, p.lon)
        county = w.county.code if w.county else w.city.code
        d = ref.department(p.type_code, county, w.township.code if w.township else "")
        if d is not None:
            ref.handler(d)
    case_sql, case_row = _row_writer(Case, connection)
    event_sql, event_row = _row_writer(CaseEvent, connection)
    fact_sql, fact_row = _row_writer(CaseFact, connection)
    case_id, event_id = _next_ids(Case, connection), _next_ids(CaseEvent, connection)
    made = 0
    for start in range(0, len(plans), batch):
        chunk = plans[start : start + batch]
        built = []
        for p in chunk:
            month = timezone.localtime(p.reported_at).strftime("%Y-%m")
            case, events = _build_case(p, ref, next_number(month), now, step_due)
            case.id = case_id
            case_id += 1
            for e in events:
                e.case_id = case.id
                e.id = event_id
                event_id += 1
            fact = _Row(_defaults(CaseFact), case_id=case.id, **fact_values_with(case, events, timing))
            built.append((case, events, fact))
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(case_sql, [case_row(c) for c, _e, _f in built])
            cur.executemany(event_sql, [event_row(e) for _c, evs, _f in built for e in evs])
            cur.executemany(fact_sql, [fact_row(f) for _c, _e, f in built])
            for month in {c.number[:7] for c, _e, _f in built}:
                CaseCounter.objects.update_or_create(month=month, defaults={"last": last[month]})
        made += len(built)
        if progress:
            progress(made, len(plans))
    _reset_sequences([Case, CaseEvent], connection)
    return made
