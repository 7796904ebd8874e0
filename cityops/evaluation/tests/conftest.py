"""A constructed history whose indicators were worked out by hand (docs/evaluation.md, "Worked example").

Monday 2 March 2026 is a working day; work periods 08:30-12:00 and 14:30-18:00. Step limits of the demo
standards: verify 1 working hour, file 30 min, dispatch 30 min, check 2 working hours, close 1 working
hour; small ads (07001) are handled within 4 working hours. Figures are taken on Wednesday 4 March 12:00.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from cityops.cases.services import ActionInput, ReportInput, case_act, case_rate, case_report
from cityops.cases.tests.conftest import (  # noqa: F401
    LZ_LAT,
    LZ_LON,
    _media_in_tmp,
    api_for,
    loop_world,
    png_bytes,
    upload,
)

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 4, 12, 0, tzinfo=TZ)


def at(day: int, hm: str) -> datetime:
    h, m = (int(x) for x in hm.split(":"))
    return datetime(2026, 3, day, h, m, tzinfo=TZ)


class History:
    def __init__(self, people):
        self.p = people
        self.cases: dict[str, str] = {}

    def report(self, name, when, *, public=False, kind="matter", type_code="07001"):
        data = ReportInput(
            source="public" if public else "inspector",
            kind=kind,
            type_code=type_code,
            description=f"case {name}",
            lat=LZ_LAT,
            lon=LZ_LON,
        )
        actor = None if public else self.p["demo-inspector"]
        self.cases[name] = case_report(data=data, actor=actor, now=when).number
        return self

    def act(self, name, action, who, when, **kw):
        photos = [upload(png_bytes(), "done.png", "image/png")] if action == "report_done" else []
        if action in ("reject", "invalidate", "return", "park", "request_extension") and "reason" not in kw:
            kw["reason"] = "reason"
        if action in ("check_fail", "urge") and "note" not in kw:
            kw["note"] = "note"
        case_act(
            number=self.cases[name],
            data=ActionInput(action=action, **kw),
            actor=self.p[who],
            photos=photos,
            now=when,
        )
        return self

    def loop(self, name, steps, day=2):
        for action, who, hm in steps:
            self.act(name, action, who, at(day, hm) if isinstance(hm, str) else hm)
        return self


CHIEF, DISP, HANDLER, INSP, OPER = (
    "demo-chief",
    "demo-dispatcher",
    "demo-handler",
    "demo-inspector",
    "demo-operator",
)


def build(people) -> History:
    h = History(people)
    # A: on time all the way, rated satisfied
    h.report("A", at(2, "09:00")).loop("A", [
        ("file", CHIEF, "09:10"), ("dispatch", DISP, "09:20"), ("accept", HANDLER, "09:30"),
        ("report_done", HANDLER, "11:20"), ("check_pass", INSP, "14:40"), ("close", CHIEF, "15:00"),
    ])  # fmt: skip
    case_rate(number=h.cases["A"], rating="satisfied", now=at(2, "16:00"))
    # B: public; verified late, dispatched late, one failed check (rework), closed late, not satisfied
    h.report("B", at(2, "09:00"), public=True).loop("B", [
        ("verify", INSP, "10:30"), ("file", CHIEF, "10:35"), ("dispatch", DISP, "11:30"),
        ("accept", HANDLER, "11:40"), ("report_done", HANDLER, "15:00"), ("check_fail", INSP, "15:30"),
    ])  # fmt: skip
    h.loop(
        "B",
        [("report_done", HANDLER, "08:45"), ("check_pass", INSP, "09:00"), ("close", CHIEF, "11:00")],
        day=3,
    )
    case_rate(number=h.cases["B"], rating="unsatisfied", now=at(3, "12:00"))
    # C: filed late, never handled: overdue and open
    h.report("C", at(2, "09:00")).loop("C", [
        ("file", CHIEF, "09:45"), ("dispatch", DISP, "09:50"), ("accept", HANDLER, "10:00"),
    ])  # fmt: skip
    # D: returned by the department, dispatched again, then on time
    h.report("D", at(2, "09:00")).loop("D", [
        ("file", CHIEF, "09:05"), ("dispatch", DISP, "09:10"), ("return", HANDLER, "09:30"),
        ("dispatch", DISP, "09:40"), ("accept", HANDLER, "09:50"), ("report_done", HANDLER, "10:00"),
        ("check_pass", INSP, "10:30"), ("close", CHIEF, "10:45"),
    ])  # fmt: skip
    # E: parked (clock stopped)
    h.report("E", at(2, "09:00")).loop("E", [
        ("file", CHIEF, "09:05"), ("dispatch", DISP, "09:10"), ("accept", HANDLER, "09:20"),
        ("park", CHIEF, "09:30"),
    ])  # fmt: skip
    # F: extension approved to Tuesday 18:00, handled Tuesday 17:00, checked, closing overdue
    h.report("F", at(2, "09:00")).loop("F", [
        ("file", CHIEF, "09:05"), ("dispatch", DISP, "09:10"), ("accept", HANDLER, "09:20"),
    ])  # fmt: skip
    h.act("F", "request_extension", HANDLER, at(2, "09:30"), until=at(3, "18:00"))
    h.act("F", "approve_extension", CHIEF, at(2, "09:40"))
    h.loop("F", [("report_done", HANDLER, "17:00"), ("check_pass", INSP, "17:30")], day=3)
    # G: public, not filed before verification
    h.report("G", at(2, "09:00"), public=True).act("G", "reject", CHIEF, at(2, "09:20"))
    # H: public, Tuesday, never verified: overdue and open
    h.report("H", at(3, "09:00"), public=True)
    # I: a component, on time all the way (the dispatch rules send 01002 to municipal works, CGJ-SZ)
    h.report("I", at(2, "09:00"), kind="component", type_code="01002").loop("I", [
        ("file", CHIEF, "09:10"), ("dispatch", DISP, "09:20"), ("accept", "handler-sz", "09:30"),
        ("report_done", "handler-sz", "10:00"), ("check_pass", INSP, "10:30"), ("close", CHIEF, "10:40"),
    ])  # fmt: skip
    # J: public, verified on time, then invalidated
    h.report("J", at(2, "14:30"), public=True).loop("J", [
        ("verify", INSP, "15:00"), ("invalidate", OPER, "15:10"),
    ])  # fmt: skip
    return h


@pytest.fixture
def history(loop_world):  # noqa: F811 - the fixture imported above, used here
    return build(loop_world)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """The dashboard caches merged snapshots by their computing time, which tests fix to ``NOW``."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
