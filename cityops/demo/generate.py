"""The demo generator at any scale: realistic arrivals, places, types and department diligence.

One seeded plan per case (``plan_cases``), executed either through the services (``run_services``:
small scales, every rule enforced by the real code) or by the bulk path (``run_bulk``, in
``cityops.demo.bulk``: the same transitions replayed in memory with the ``deadlines`` arithmetic,
rows built by two processes and written by one, one transaction per batch). Both paths keep the
same invariants: every case's state is the ``to_state`` of its last event, each event starts where
the previous one ended, deadlines are what the pure functions compute, numbers are unique and the
month counters agree.

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

import bisect
import hashlib
import itertools
import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.utils import timezone

from cityops.cases.choices import Action, Kind, Source, State, Urgency
from cityops.demo.people import patrol_inspector, patrol_rules

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
    # The seats of the other districts and counties: fewer people, fewer reports, their own bureaus.
    ("上党区城区", 36.053, 113.053, 0.006, 5, ["上党大道", "府前街"]),
    ("屯留区城区", 36.316, 112.892, 0.005, 4, ["康庄路", "麟绛大街"]),
    ("潞城区城区", 36.334, 113.228, 0.005, 4, ["潞华路", "府前街"]),
    ("襄垣县城", 36.535, 113.051, 0.005, 4, ["太行路", "府前街"]),
    ("平顺县城", 36.200, 113.436, 0.003, 2, ["青羊街", "府前街"]),
    ("黎城县城", 36.503, 113.387, 0.003, 2, ["黎侯路", "府前街"]),
    ("壶关县城", 36.115, 113.207, 0.004, 3, ["龙泉街", "府前街"]),
    ("长子县城", 36.122, 112.877, 0.005, 4, ["丹朱街", "府前街"]),
    ("武乡县城", 36.837, 112.865, 0.003, 2, ["太行街", "府前街"]),
    ("沁县县城", 36.757, 112.699, 0.003, 2, ["定昌路", "府前街"]),
    ("沁源县城", 36.500, 112.338, 0.003, 2, ["沁河路", "府前街"]),
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


def _picker(rng: random.Random, population, weights=None, cum_weights=None):
    """``rng.choices(population, weights)[0]`` with the cumulative weights summed once, not per call.

    Same draws and same results as ``choices`` (it bisects the same sums with the same ``random()``).
    """
    cum = list(cum_weights) if cum_weights is not None else list(itertools.accumulate(weights))
    total, hi, draw, pop = cum[-1] + 0.0, len(cum) - 1, rng.random, population
    return lambda: pop[bisect.bisect(cum, draw() * total, 0, hi)]


def plan_cases(*, count: int, days: int, seed: int, now: datetime, calendar) -> list[Plan]:
    """``count`` case plans over the ``days`` before ``now``, in time order. Pure apart from ``calendar``."""
    rng = random.Random(seed)
    local_now = timezone.localtime(now)
    first = (local_now - timedelta(days=days)).date()
    dates, cum = _day_weights(first, days + 1, _holidays(calendar, first, local_now.date()))
    codes, type_w = [t[0] for t in TYPES], [t[1] for t in TYPES]
    # Season shifts the type mix: weight of a type over the span = its mean seasonal factor.
    span_w = [w * (cum[c][-1] / cum["07001"][-1]) for c, w in zip(codes, type_w, strict=True)]
    hot_rng = random.Random(seed + 1)
    hotspots = [
        (p[1] + hot_rng.gauss(0, p[3] / 2), p[2] + hot_rng.gauss(0, p[3] / 2), p[5][0])
        for p in PLACES
        for _ in (0, 1)
    ]
    tz = local_now.tzinfo
    # The draws below are exactly those of ``rng.choices(...)[0]`` etc., in the same order.
    pick_code = _picker(rng, codes, span_w)
    pick_day = {c: _picker(rng, dates, cum_weights=cum[c]) for c in codes}
    pick_source = _picker(rng, [s for s, _ in SOURCES], [w for _, w in SOURCES])
    pick_hour = {id(h): _picker(rng, range(24), h) for h in (HOURS_EVENING, HOURS_INSPECTOR, HOURS_PUBLIC)}
    pick_place = _picker(rng, PLACES, [p[4] for p in PLACES])
    random_, randrange, gauss, uniform = rng.random, rng.randrange, rng.gauss, rng.uniform
    descriptions = {c: TYPE_INFO[c][2] for c in codes}
    plans = []
    for i in range(count):
        code = pick_code()
        d = pick_day[code]()
        source = pick_source()
        if code in EVENING_TYPES and 5 <= d.month <= 9:
            hours = HOURS_EVENING
        else:
            hours = HOURS_INSPECTOR if source in VERIFIED else HOURS_PUBLIC
        hour = pick_hour[id(hours)]()
        at = datetime(d.year, d.month, d.day, hour, randrange(60), randrange(60), tzinfo=tz)
        if at >= local_now:
            at = local_now - timedelta(minutes=uniform(5, 600))
        if random_() < HOTSPOT_SHARE:
            lat, lon, street = rng.choice(hotspots)
            lat, lon = lat + gauss(0, 0.00008), lon + gauss(0, 0.00008)
        else:
            place = pick_place()
            lat, lon = place[1] + gauss(0, place[3]), place[2] + gauss(0, place[3])
            street = rng.choice(place[5])
        public = source not in VERIFIED
        roll = random_()
        end = "reject" if roll < 0.03 else "invalidate" if roll < (0.06 if public else 0.04) else ""
        if not end and random_() < 0.01:
            end = "park"
        plans.append(
            Plan(
                seq=i,
                reported_at=at.astimezone(UTC),
                type_code=code,
                description=descriptions[code],
                lat=round(lat, 6),
                lon=round(lon, 6),
                address=f"{street}{randrange(1, 300)}号附近",
                source=source,
                urgency=Urgency.URGENT if random_() < 0.05 else Urgency.NORMAL,
                reporter_phone=f"139{randrange(10**8):08d}" if public else "",
                rng_seed=rng.getrandbits(32),
                end=end,
            )
        )
    plans.sort(key=lambda p: (p.reported_at, p.seq))
    return plans


# ------------------------------------------------------------------------------------------------
# steps: the same path for both writers


PATROL = "patrol"  # a step's actor: the inspector who patrols the case's unit grid cell


@dataclass(frozen=True)
class Step:
    action: str
    at: datetime
    who: str  # demo user name, "handler" (of the case's department) or "patrol" (of the case's cells)
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
        if not add(Action.VERIFY, t, PATROL):
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
            if not add(Action.CHECK_FAIL, t, PATROL, "现场复核仍未处置到位"):
                return steps
            rework_p /= 3
            continue
        if not add(Action.CHECK_PASS, t, PATROL):
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
        self._patrols: dict = {}
        self._patrol_size: dict[str, int] = {}
        self.patrol_rules = patrol_rules()

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

    def staff_patrols(self, counties: list[str], first: datetime, last: datetime) -> None:
        """Size each county's patrol for the cases about to be written (``counties``: one per case,
        reported from ``first`` to ``last``): one inspector per ``cases_per_day`` a day, at least one."""
        days = max(1.0, (last - first).total_seconds() / 86400)
        per_day = self.patrol_rules.cases_per_day
        self._patrol_size = {c: max(1, round(n / days / per_day)) for c, n in Counter(counties).items()}

    def patrol(self, county: str, grid: str):
        """The inspector whose share of the county's cells holds ``grid`` (made when first needed)."""
        size = self._patrol_size.get(county, 1)
        index = int(hashlib.sha256(f"{county}:{grid}".encode()).hexdigest()[:8], 16) % size
        if (county, index) not in self._patrols:
            self._patrols[county, index] = patrol_inspector(county, index, self.patrol_rules, self.users)
        return self._patrols[county, index]

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
    wheres = [ref.where(plan.lat, plan.lon) for plan in plans]
    # the plans the bulk path keeps too (placed, of a known type): both paths staff the same patrols
    kept = [(p, w) for p, w in zip(plans, wheres, strict=True) if w and ref.type_info(p.type_code)]
    if kept:
        times = [p.reported_at for p, _w in kept]
        ref.staff_patrols([_county(w) for _p, w in kept], min(times), max(times))
    made = 0
    for plan, where in zip(plans, wheres, strict=True):
        if where is None:
            continue
        public = plan.source not in VERIFIED
        patrol = ref.patrol(_county(where), where.grid)
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
                actor=None if public else patrol,
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
            if step.who == "handler":
                actor = ref.handler(dept)
            else:
                actor = patrol if step.who == PATROL else ref.users[step.who]
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


def _county(where) -> str:
    """The county code a case gets (the city's where no county holds the place), as ``case_report``."""
    return where.county.code if where.county else where.city.code


# ------------------------------------------------------------------------------------------------
# path 2: bulk (``cityops.demo.bulk``)


def run_bulk(
    *,
    plans: list[Plan],
    now: datetime,
    batch: int = 2000,
    ref: Reference | None = None,
    progress=None,
    workers: int | None = None,
) -> int:
    """Write every plan by the bulk path; see ``cityops.demo.bulk.run_bulk``."""
    from cityops.demo import bulk

    return bulk.run_bulk(plans=plans, now=now, batch=batch, ref=ref, progress=progress, workers=workers)
