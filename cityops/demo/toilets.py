"""The demo city's public toilets: 159 in the main city, 22 of them 长治驿站, with eight weeks of
inspections, written through the facilities and case services.

Seeded and deterministic for a given seed and ``now``. Toilets are placed in the urban core of 潞州区
(each position is checked with ``geography.locate``, at least 150 m apart); the 市环境卫生服务中心
(CGJ-HW) manages most, 潞州区城市管理局 (LZ-CGJ) the rest. Inspections are weekly; older ones all
pass, the last ten days have a few failures, each of which opens a real case (dispatched to the
managing department); most of those are handled, and a later passing inspection checks them.
Idempotent: nothing happens when the registry already has facilities.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from cityops.cases.choices import State
from cityops.cases.models import Case
from cityops.cases.services import ActionInput, case_act
from cityops.catalog.codes import component_identifier
from cityops.core.errors import DomainError
from cityops.demo.cases import _handler_for, _photo
from cityops.facilities.models import Facility
from cityops.facilities.services import (
    FacilityInput,
    ItemAnswer,
    facility_save,
    inspection_submit,
    template_for,
    templates_load,
)
from cityops.geography.selectors import locate

COUNTY = "140403"  # 潞州区
BOX = (36.170, 36.220, 113.080, 113.150)  # the urban core
# Busy places toilets gather around: the old town, 英雄广场, the station, the east and west new towns.
CENTRES = [(36.195, 113.117), (36.188, 113.105), (36.203, 113.125), (36.182, 113.128), (36.210, 113.098),
           (36.199, 113.140), (36.176, 113.095)]  # fmt: skip
STREETS = [
    "英雄中路", "英雄南路", "英雄北路", "太行东街", "太行西街", "紫金东街", "紫金西街", "延安南路",
    "延安北路", "府后东街", "府后西街", "城隍庙街", "东大街", "西大街", "南大街", "北大街",
    "八一路", "长兴中路", "长兴南路", "长兴北路", "解放东街", "解放西街", "五一路", "城东路",
    "城西路", "健康街", "西街", "漳泽路", "东华门街", "上党门街", "人民公园", "英雄广场",
    "长治湖", "北石槽路", "南石槽路", "淮海路", "保宁门街", "站前路", "新建路", "营房街",
]  # fmt: skip
SUFFIXES = ["", "东段", "西段", "南段", "北段", "二号", "三号"]
HOURS = [("06:00-22:00", 70), ("24h", 15), ("Mo-Fr 06:00-22:00; Sa-Su 07:00-21:00", 10), ("05:30-23:00", 5)]
INSPECTORS = ["demo-inspector", "inspector-02", "inspector-03"]
FAIL_RATE = {"no-excrement": 0.02, "no-flies": 0.015, "no-odour": 0.03, "soap": 0.04, "paper": 0.05}
NOTES = {
    "no-excrement": "蹲位有积便未冲",
    "no-flies": "厕内蚊蝇较多",
    "no-odour": "异味明显，排风不畅",
    "soap": "洗手液已用完",
    "paper": "厕位无手纸",
}


def _positions(rng: random.Random, n: int, now: datetime) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    tries = 0
    while len(out) < n and tries < n * 200:
        tries += 1
        c_lat, c_lon = rng.choice(CENTRES)
        lat, lon = c_lat + rng.gauss(0, 0.007), c_lon + rng.gauss(0, 0.009)
        if not (BOX[0] <= lat <= BOX[1] and BOX[2] <= lon <= BOX[3]):
            continue
        # about 150 m apart: 0.00135 degree of latitude, 0.0017 of longitude
        if any(abs(lat - a) < 0.00135 and abs(lon - b) < 0.0017 for a, b in out):
            continue
        try:
            where = locate(lat, lon, at=now)
        except DomainError:
            continue
        if where.county is None or where.county.code != COUNTY:
            continue
        out.append((round(lat, 6), round(lon, 6)))
    return out


def _names(rng: random.Random, n: int, stations: set[int]) -> list[str]:
    used: set[str] = set()
    names = []
    for i in range(n):
        for _try in range(100):
            street = rng.choice(STREETS)
            suffix = rng.choice(SUFFIXES) if _try else ""
            name = f"长治驿站·{street}{suffix}" if i in stations else f"{street}{suffix}公厕"
            if name not in used:
                break
        used.add(name)
        names.append(name)
    return names


def _answers(rng: random.Random, items, recent: bool) -> list[ItemAnswer]:
    out = []
    for item in items:
        failed = recent and rng.random() < FAIL_RATE.get(item.key, 0.02)
        out.append(
            ItemAnswer(item=item.key, passed=not failed, note=NOTES.get(item.key, "") if failed else "")
        )
    return out


def generate_toilets(
    *, seed: int = 2026, now: datetime, count: int = 159, stations: int = 22, weeks: int = 8
) -> int:
    """Create the demo toilets and their inspection history; returns the number of toilets made."""
    if Facility.objects.exists():
        return 0
    templates_load()
    rng = random.Random(seed)
    users = {u.username: u for u in get_user_model().objects.filter(username__in=INSPECTORS)}
    inspectors = [users[n] for n in INSPECTORS if n in users]
    created = now - timedelta(weeks=weeks, days=1)
    points = _positions(rng, count, now)
    station_ids = set(rng.sample(range(len(points)), min(stations, len(points))))
    names = _names(rng, len(points), station_ids)
    toilets = []
    for seq, ((lat, lon), name) in enumerate(zip(points, names, strict=True), 1):
        i = seq - 1
        is_station = i in station_ids
        hours = rng.choices([h for h, _w in HOURS], [w for _h, w in HOURS])[0]
        klass = rng.choices(["1", "2", "3"], [25, 55, 20])[0]
        street = name.replace("长治驿站·", "").replace("公厕", "")
        data = FacilityInput(
            code=component_identifier(COUNTY, "03001", seq),
            name=name,
            kind="station" if is_station else "toilet",
            address=f"{street}{rng.randrange(1, 400)}号"
            if not street.endswith(("公园", "广场", "湖"))
            else street,
            lat=lat,
            lon=lon,
            department="LZ-CGJ" if rng.random() < 0.3 else "CGJ-HW",
            toilet_type=rng.choices(["standalone", "attached", "mobile"], [70, 25, 5])[0],
            toilet_class=klass,
            cubicles_male=rng.randrange(2, 7),
            cubicles_female=rng.randrange(3, 10),
            urinals=rng.randrange(2, 7),
            accessible=is_station or rng.random() < 0.6,
            third_washroom=is_station or (klass != "3" and rng.random() < 0.3),
            opening_hours="24h" if is_station and rng.random() < 0.5 else hours,
            free=is_station or rng.random() < 0.95,
            services=(
                {s: rng.random() < 0.9 for s in ("water", "charging", "reading", "rest")}
                if is_station
                else {}
            ),
        )
        toilets.append(facility_save(data=data, now=created))
    if not inspectors:
        return len(toilets)
    items = list(template_for(toilets[0]).items.filter(is_active=True).order_by("order"))
    recent_from = now - timedelta(days=10)
    for f in toilets:
        day = timezone.localtime(created) + timedelta(days=rng.uniform(1, 7))
        while True:
            at = day.replace(hour=rng.randrange(8, 17), minute=rng.randrange(60), second=0, microsecond=0)
            if at >= now:
                break
            outcome = inspection_submit(
                facility=f.code,
                answers=_answers(rng, items, recent=at >= recent_from),
                actor=rng.choice(inspectors),
                now=at,
            )
            for number in outcome.opened:
                _handle(rng, number, at, now)
            day += timedelta(days=rng.choice([6, 7, 7, 7, 8]))
    return len(toilets)


def _handle(rng: random.Random, number: str, opened: datetime, now: datetime) -> None:
    """Most departments fix a failure within hours and report it done; the next inspection checks it."""
    if rng.random() > 0.75:
        return
    t = opened + timedelta(minutes=rng.randrange(10, 60))
    done = t + timedelta(hours=rng.uniform(0.5, 3))
    if done >= now:
        return
    case = Case.objects.select_related("department").get(number=number)
    if case.state != State.DISPATCHED:
        return
    handler = _handler_for(case, {})
    case_act(number=number, data=ActionInput(action="accept"), actor=handler, now=t)
    case_act(
        number=number,
        data=ActionInput(action="report_done", note="已整改到位"),
        actor=handler,
        photos=[_photo(rng)],
        now=done,
    )
