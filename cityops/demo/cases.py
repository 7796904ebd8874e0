"""A few hundred demo cases spread over every state of the loop, written through the services.

Seeded and deterministic: the same seed and ``now`` give the same cases. Each case is reported at a
plausible time and place in the main city and then taken, step by step and each step as the role that
owns it, as far along the loop as its drawn fate says.
"""

from __future__ import annotations

import io
import random
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model

from cityops.cases.choices import State
from cityops.cases.models import Case
from cityops.cases.services import ActionInput, ReportInput, case_act, case_report
from cityops.core.errors import DomainError

# (type code, weight, description) — the mix a 数字城管 centre sees most.
TYPES = [
    ("07001", 22, "电线杆、墙面上张贴非法小广告"),
    ("06010", 18, "路边成堆生活垃圾未清运"),
    ("09009", 12, "机动车占用人行道停放"),
    ("09001", 8, "流动摊贩占道叫卖"),
    ("09006", 8, "商户占道摆摊经营"),
    ("06013", 6, "路面坑槽破损，影响通行"),
    ("01002", 5, "污水井盖破损松动"),
    ("06042", 6, "垃圾箱满溢，周边散落"),
    ("09010", 6, "共享单车乱停乱放堵塞盲道"),
    ("01037", 4, "路灯夜间不亮"),
    ("08004", 3, "工地裸土未覆盖，扬尘严重"),
    ("06012", 2, "道路不洁，有油污"),
]
STREETS = [
    "英雄中路",
    "英雄南路",
    "太行东街",
    "太行西街",
    "紫金东街",
    "延安南路",
    "府后西街",
    "城隍庙街",
    "东大街",
    "八一路",
]
CENTRES = [(36.195, 113.117), (36.188, 113.105), (36.203, 113.125), (36.182, 113.128), (36.210, 113.098)]

# Where each case stops, with weights: every state has work in it.
FATES = [
    (State.TO_VERIFY, 6),
    (State.TO_FILE, 8),
    (State.TO_DISPATCH, 7),
    (State.DISPATCHED, 8),
    (State.HANDLING, 12),
    (State.PARKED, 2),
    (State.TO_CHECK, 8),
    (State.TO_CLOSE, 5),
    (State.CLOSED, 36),
    (State.REJECTED, 3),
    (State.INVALID, 2),
]
PATH = [
    ("verify", "demo-inspector"),
    ("file", "demo-chief"),
    ("dispatch", "demo-dispatcher"),
    ("accept", "handler"),
    ("report_done", "handler"),
    ("check_pass", "demo-inspector"),
    ("close", "demo-chief"),
]
STOP_AFTER = {
    State.TO_VERIFY: 0,
    State.TO_FILE: 1,
    State.TO_DISPATCH: 2,
    State.DISPATCHED: 3,
    State.HANDLING: 4,
    State.PARKED: 4,
    State.TO_CHECK: 5,
    State.TO_CLOSE: 6,
    State.CLOSED: 7,
}


class _Photo:
    def __init__(self, data: bytes):
        self._data, self.size, self.name = data, len(data), "demo.jpg"

    def read(self):
        return self._data


def _photo(rng: random.Random) -> _Photo:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (rng.randrange(256), rng.randrange(256), rng.randrange(256))).save(buf, "JPEG")
    return _Photo(buf.getvalue())


def _handler_for(case: Case, users: dict):
    """A handler of the case's department; departments without one get a demo handler."""
    for m in case.department.memberships.filter(role="handler", is_active=True).select_related("user")[:1]:
        return m.user
    from cityops.accounts.services import user_upsert
    from cityops.demo.people import demo_password
    from cityops.organization.services import membership_grant

    code = case.department.code.lower()
    user = user_upsert(
        username=f"handler-{code}",
        name=f"{case.department.short_name or case.department.name}处置员",
        password=demo_password(),
    )
    membership_grant(user=user, department=case.department, role="handler")
    return user


def generate_cases(*, count: int = 300, seed: int = 2026, now: datetime, days: int = 30) -> int:
    """Create ``count`` cases over the ``days`` before ``now``; returns how many were created."""
    rng = random.Random(seed)
    users = {u.username: u for u in get_user_model().objects.filter(username__startswith="demo-")}
    codes, weights = [t[0] for t in TYPES], [t[1] for t in TYPES]
    fates, fate_w = [f[0] for f in FATES], [f[1] for f in FATES]
    made = 0
    for _i in range(count):
        code = rng.choices(codes, weights)[0]
        text = dict((t[0], t[2]) for t in TYPES)[code]
        lat0, lon0 = rng.choice(CENTRES)
        lat, lon = lat0 + rng.gauss(0, 0.006), lon0 + rng.gauss(0, 0.006)
        day = now - timedelta(days=rng.uniform(0.2, days))
        reported = day.replace(hour=rng.choice([8, 9, 10, 11, 14, 15, 16, 17, 19]), minute=rng.randrange(60))
        if reported >= now:
            reported = now - timedelta(hours=rng.uniform(1, 3))
        fate = rng.choices(fates, fate_w)[0]
        public = fate is State.TO_VERIFY or rng.random() < 0.3
        try:
            case = case_report(
                data=ReportInput(
                    source="public" if public else "inspector",
                    type_code=code,
                    description=text,
                    lat=lat,
                    lon=lon,
                    address=f"{rng.choice(STREETS)}{rng.randrange(1, 300)}号附近",
                    reporter_phone=f"139{rng.randrange(10**8):08d}" if public else "",
                ),
                actor=None if public else users["demo-inspector"],
                now=reported,
            )
        except DomainError:
            continue
        made += 1
        t = reported
        steps = PATH if public else PATH[1:]
        if fate in (State.REJECTED, State.INVALID):
            action = "reject" if fate is State.REJECTED else "invalidate"
            who = "demo-chief"
            if public:
                case_act(
                    number=case.number,
                    data=ActionInput(action="verify"),
                    actor=users["demo-inspector"],
                    now=t,
                )
            t += timedelta(minutes=rng.randrange(5, 40))
            if t < now:
                case_act(
                    number=case.number,
                    data=ActionInput(
                        action=action, reason="不属于城市管理范围" if action == "reject" else "重复误报"
                    ),
                    actor=users[who],
                    now=t,
                )
            continue
        stop = STOP_AFTER[fate] - (0 if public else 1)
        for action, who in steps[: max(stop, 0)]:
            t += (
                timedelta(minutes=rng.randrange(10, 50))
                if action != "report_done"
                else timedelta(hours=rng.uniform(1, 30))
            )
            if t >= now:
                break
            case.refresh_from_db()
            actor = _handler_for(case, users) if who == "handler" else users[who]
            photos = [_photo(rng)] if action == "report_done" else []
            case_act(number=case.number, data=ActionInput(action=action), actor=actor, photos=photos, now=t)
            if action == "report_done" and rng.random() < 0.12 and t + timedelta(hours=2) < now:
                t += timedelta(hours=1)
                case_act(
                    number=case.number,
                    data=ActionInput(action="check_fail", note="现场复核仍未处置到位"),
                    actor=users["demo-inspector"],
                    now=t,
                )
                t += timedelta(hours=rng.uniform(1, 8))
                if t >= now:
                    break
                case_act(
                    number=case.number,
                    data=ActionInput(action="report_done"),
                    actor=actor,
                    photos=[_photo(rng)],
                    now=t,
                )
        if fate is State.PARKED:
            case.refresh_from_db()
            if case.state == State.HANDLING and t + timedelta(hours=1) < now:
                case_act(
                    number=case.number,
                    data=ActionInput(action="park", reason="冬季低温无法施工，待来年春季处置"),
                    actor=users["demo-chief"],
                    now=t + timedelta(hours=1),
                )
    return made
