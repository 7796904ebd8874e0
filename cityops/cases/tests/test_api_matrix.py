"""Every action for every role in every state through the staff API.

An action the person may take now is listed in ``allowed_actions``; any other answers 403 (the person
may never take it here) or 409 (not in this state), or 404 when the person cannot see the case at all,
and changes nothing.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cityops.cases.api import ACTION_NAMES
from cityops.cases.models import Attachment, Case, CaseEvent
from cityops.cases.selectors import case_get_for
from cityops.cases.services import ActionInput, ReportInput, case_act, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, png_bytes, upload

PEOPLE = [
    "demo-inspector",
    "demo-operator",
    "demo-chief",
    "demo-dispatcher",
    "demo-handler",
    "demo-leader",
    "demo-admin",
    "handler-hw",
]

# Who may ever take each action (on cases of their department, for handlers). Written out by hand
# from the loop's rules, not derived from the transition table it checks.
MAY = {
    "verify": {"demo-inspector", "demo-operator"},
    "file": {"demo-chief"},
    "reject": {"demo-chief"},
    "invalidate": {"demo-operator", "demo-chief"},
    "merge": {"demo-operator", "demo-chief"},
    "dispatch": {"demo-dispatcher"},
    "return": {"demo-handler"},
    "accept": {"demo-handler"},
    "request_extension": {"demo-handler"},
    "approve_extension": {"demo-chief"},
    "deny_extension": {"demo-chief"},
    "park": {"demo-chief"},
    "unpark": {"demo-chief"},
    "report_done": {"demo-handler"},
    "check_pass": {"demo-inspector"},
    "check_fail": {"demo-inspector"},
    "close": {"demo-chief"},
    "urge": {"demo-chief", "demo-leader"},
    "reopen": {"demo-chief"},
}

# What each person may do now, per situation (everyone else: nothing).
URGE = {"demo-chief": {"urge"}, "demo-leader": {"urge"}}
EXPECTED = {
    "to_verify": {"demo-inspector": {"verify"}, "demo-operator": {"verify", "invalidate", "merge"},
                  "demo-chief": {"reject", "invalidate", "merge"}},
    "to_file": {"demo-operator": {"invalidate", "merge"},
                "demo-chief": {"file", "reject", "invalidate", "merge", "urge"}, "demo-leader": {"urge"}},
    "to_dispatch": {"demo-dispatcher": {"dispatch"}, **URGE},
    "dispatched": {"demo-handler": {"return", "accept"}, **URGE, "demo-chief": {"park", "urge"}},
    "handling": {"demo-handler": {"return", "request_extension", "report_done"}, **URGE,
                 "demo-chief": {"park", "urge"}},
    "extension": {**URGE, "demo-chief": {"approve_extension", "deny_extension", "urge"}},
    "parked": {**URGE, "demo-chief": {"unpark", "urge"}},
    "to_check": {"demo-inspector": {"check_pass", "check_fail"}, **URGE},
    "to_close": {**URGE, "demo-chief": {"close", "urge"}},
    "closed": {"demo-chief": {"reopen"}},
    "rejected": {},
    "invalid": {},
    "merged": {},
}  # fmt: skip


def _build(people) -> dict[str, str]:
    """One case in every situation; returns situation -> case number."""
    now = timezone.now()

    def new(source="inspector", who="demo-inspector"):
        data = ReportInput(source=source, type_code="07001", description="小广告", lat=LZ_LAT, lon=LZ_LON)
        return case_report(data=data, actor=people[who], now=now).number

    def do(number, who, action, **kw):
        photos = [upload(png_bytes(), "p.png", "image/png")] if action == "report_done" else ()
        case_act(
            number=number, data=ActionInput(action=action, **kw), actor=people[who], photos=photos, now=now
        )

    paths = {
        "to_verify": [],
        "to_file": [],
        "to_dispatch": [("demo-chief", "file", {})],
        "dispatched": [("demo-chief", "file", {}), ("demo-dispatcher", "dispatch", {})],
        "handling": [("demo-chief", "file", {}), ("demo-dispatcher", "dispatch", {}),
                     ("demo-handler", "accept", {})],
        "parked": [("demo-chief", "file", {}), ("demo-dispatcher", "dispatch", {}),
                   ("demo-chief", "park", {"reason": "等待天晴"})],
        "to_check": [("demo-chief", "file", {}), ("demo-dispatcher", "dispatch", {}),
                     ("demo-handler", "accept", {}), ("demo-handler", "report_done", {})],
        "rejected": [("demo-chief", "reject", {"reason": "不属实"})],
        "invalid": [("demo-operator", "invalidate", {"reason": "重复"})],
    }  # fmt: skip
    paths["extension"] = [
        *paths["handling"],
        ("demo-handler", "request_extension", {"reason": "材料", "until": now + timedelta(days=30)}),
    ]
    paths["to_close"] = [*paths["to_check"], ("demo-inspector", "check_pass", {})]
    paths["closed"] = [*paths["to_close"], ("demo-chief", "close", {})]
    numbers = {}
    for situation, steps in paths.items():
        numbers[situation] = new("public", "demo-operator") if situation == "to_verify" else new()
        for who, action, kw in steps:
            do(numbers[situation], who, action, **kw)
    numbers["merged"] = new()
    do(numbers["merged"], "demo-chief", "merge", original=numbers["to_file"])
    return numbers


def _snapshot(number):
    c = Case.objects.get(number=number)
    return (
        c.state,
        c.updated_at,
        c.due_at,
        c.department_id,
        c.extension_pending,
        c.rework_count,
        c.urge_count,
    )


def test_every_disallowed_action_for_every_role(api_for, loop_world):
    numbers = _build(loop_world)
    assert set(numbers) == set(EXPECTED)
    clients = {u: api_for(u) for u in PEOPLE}
    events, photos = CaseEvent.objects.count(), Attachment.objects.count()
    checked = 0
    for situation, number in numbers.items():
        before = _snapshot(number)
        for username in PEOPLE:
            client = clients[username]
            visible = case_get_for(loop_world[username], number) is not None
            expected_now = EXPECTED[situation].get(username, set())
            r = client.get(f"/api/v1/cases/{number}")
            if not visible:
                assert r.status_code == 404, (situation, username)
                assert not expected_now, (situation, username)
            else:
                assert set(r.json()["allowed_actions"]) == expected_now, (situation, username)
            for action in ACTION_NAMES:
                if action in expected_now:
                    continue
                r = client.post(f"/api/v1/cases/{number}/actions", {"action": action}, format="json")
                if not visible:
                    expected_status = 404
                elif username in MAY[action]:
                    expected_status = 409
                else:
                    expected_status = 403
                assert r.status_code == expected_status, (situation, username, action, r.content)
                assert r.json()["detail"], (situation, username, action)
                if expected_status != 404:
                    assert r.json()["code"] in {"not_your_role", "wrong_state", "pending_extension",
                                                "no_pending_extension"}  # fmt: skip
                checked += 1
        assert _snapshot(number) == before, situation
    assert (CaseEvent.objects.count(), Attachment.objects.count()) == (events, photos)
    assert checked > 1500
