"""Bad input from a browser or an API client gets a clear error, never a server error.

One request per case: a page or an endpoint, as the person who may use it (or anonymously), with one
bad parameter or body: a NUL byte (PostgreSQL refuses it in text: run this module on PostgreSQL too),
an over-long or unknown value, a date at the edge of the calendar, a number too big for a column, NaN,
malformed JSON, a wrong content type. Each case names the answer it expects; an exception escaping
the view fails the case with its method, address and parameters.

The city (calendar, geography, catalogue, people, dispatch rules, the evaluation's worked history, a
toilet) is loaded once for the module; each case runs in a savepoint rolled back after it.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

NUL = "a\x00b"
LONG = "x" * 5000
HUGE = "99999999999999999999"  # beyond a 64-bit integer
GARBAGE = ("photo.jpg", b"\xff\xd8 not really a JPEG")


@dataclass(frozen=True)
class Probe:
    """One request: ``who`` (a demo username, or "" for anonymous) sends ``method`` to ``url``.

    ``url`` and ``data`` may name the world's records: ``{A}`` .. ``{J}`` are the worked history's case
    numbers (C in handling at demo-handler's department, H a public report to verify, B the public case
    whose reporter's session the client holds when ``reporter`` is set), ``{toilet}`` a toilet's code.
    """

    who: str
    method: str
    url: str
    data: dict | str | None = None
    expect: tuple[int, ...] = (400,)
    content_type: str | None = None
    reporter: bool = False
    files: dict = field(default_factory=dict)
    says: str = ""  # a text the answer must contain: the message that names the mistake

    def __str__(self) -> str:
        shown = self.data if isinstance(self.data, str) else urlencode(self.data or {})
        sep = "?" if self.method == "GET" else " "
        return f"{self.who or 'anonymous'} {self.method} {self.url}{sep if shown else ''}{shown[:80]!s}"


def get(who, url, expect=(400,), says="", **params):
    return Probe(who, "GET", url, params, tuple(expect), says=says)


def post(who, url, data, expect=(400,), **kw):
    return Probe(who, "POST", url, data, tuple(expect), **kw)


def post_json(who, url, body, expect=(400,), says=""):
    raw = body if isinstance(body, str) else json.dumps(body)
    return Probe(who, "POST", url, raw, tuple(expect), content_type="application/json", says=says)


CHIEF, DISP, HANDLER, INSP, LEADER, ADMIN = (
    "demo-chief",
    "demo-dispatcher",
    "demo-handler",
    "demo-inspector",
    "demo-leader",
    "demo-admin",
)
NEAR = {"lat": "36.195", "lon": "113.117"}

PUBLIC = [
    # the report form and its helpers
    get("", "/report/types", (200,), q=NUL),
    get("", "/report/types", (200,), q=LONG, type=NUL),
    get("", "/report/nearby", (200,), type="matter:07" + NUL, **NEAR),
    get("", "/report/nearby", (200,), type=NUL, **NEAR),
    get("", "/report/nearby", (200,), type="matter:07001", lat="nan", lon="nan"),
    get("", "/report/nearby", (200,), type="matter:07001", lat="1e400", lon="-1e400"),
    get("", "/report/nearby", (200,), type="matter:07001", lat="abc", lon=""),
    get("", "/report/nearby", (200,)),
    post("", "/report/", {}),
    post("", "/report/", {"type": "matter:07001", "description": "x", "lat": "nan", "lon": "nan"}),
    post("", "/report/", {"type": "matter:07001", "description": "x", "lat": "1e400", "lon": "1"}),
    post("", "/report/", {"type": "matter:07001", "description": NUL, **NEAR}),
    post("", "/report/", {"type": NUL, "description": "x", **NEAR}),
    post("", "/report/", {"type": "matter:07001", "description": LONG, **NEAR}),
    post("", "/report/", {"type": "matter:07001", "description": "x", "district": NUL, "address": "a"}),
    post("", "/report/", {"type": "matter:07001", "description": "x", "phone": NUL, **NEAR}),
    post("", "/report/", {"type": "matter:99999", "description": "x", **NEAR}),
    post("", "/report/", {"type": "matter:07001", "description": "x", "lat": "0", "lon": "0"}),
    post("", "/report/", {"type": "matter:07001", "description": "x", **NEAR}, files={"photos": GARBAGE}),
    Probe("", "POST", "/report/", "--x\r\nnot a part", (400,), "multipart/form-data; boundary=x"),
    Probe("", "POST", "/report/", "type=1", (400,), "multipart/form-data"),
    post("", "/report/metoo", {"follow": NUL}, (302,)),
    post("", "/report/metoo", {"follow": LONG}, (302,)),
    post("", "/report/metoo", {"follow": "{H}", "phone": NUL}, (302,)),
    post("", "/report/metoo", {}, (302,)),
    # tracking
    get("", "/track/", (200,), number=NUL),
    post("", "/track/", {"number": NUL}),
    post("", "/track/", {"number": "{B}", "phone": NUL}),
    post("", "/track/", {"number": "2026-03-99999" + NUL}),
    get("", "/track/{B}/", (302,), t=NUL),
    get("", "/track/{B}/", (302,), t=LONG),
    get("", "/track/2099-01-000001/", (404,)),
    get("", "/track/" + "9" * 300 + "/", (404,)),
    get("", "/track/{B}/photos/" + HUGE, (404,)),
    post("", "/track/{B}/rate", {"rating": "satisfied"}, (404,)),
    post("", "/track/{B}/rate", {"rating": NUL}, (302,), reporter=True),
    post("", "/track/{B}/rate", {"rating": "satisfied", "comment": NUL}, (302,), reporter=True),
    post("", "/track/{B}/reopen", {"reason": NUL}, (302,), reporter=True),
    post("", "/track/{B}/reopen", {"reason": LONG}, (302,), reporter=True),
    get("", "/track/{B}/rate", (405,)),
    # the public map and figures: unknown filters are ignored
    get("", "/map/", (200,), type=NUL, area=NUL, state="nope", days="abc"),
    get("", "/map/cases.geojson", (200,), type=LONG, area=NUL, state=NUL, days=HUGE),
    get("", "/figures/", (200,), days=NUL),
    get("", "/geo/areas.geojson", (400,), level=NUL),
    get("", "/geo/areas.geojson", (403,), level="grid"),
    # the toilet finder and its API
    get("", "/toilets/", (200,), lat="nan", lon="nan"),
    get("", "/toilets/", (200,), lat="abc", lon=NUL, open=NUL),
    get("", "/toilets/", (200,), lat="1e400", lon="1e400"),
    get("", "/api/v1/toilets/nearest", (400,)),
    get("", "/api/v1/toilets/nearest", (400,), lat="nan", lon="nan"),
    get("", "/api/v1/toilets/nearest", (400,), lat=NUL, lon="113"),
    get("", "/api/v1/toilets/nearest", (400,), limit="abc", **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), limit=HUGE, **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), open_at="tomorrow", **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), "open_at is an ISO date", open_at="2026-13-45T21:30", **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), open_at="2026-03-10T21:30+99:00", **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), open_at="2026-03-10T21:30" + NUL, **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), "open_at is", open_at="0001-01-01T00:00+14:00", **NEAR),
    get("", "/api/v1/toilets/nearest", (400,), open_at="9999-12-31T23:59-12:00", **NEAR),
    get("", "/api/v1/toilets/nearest", (200,), open_at="0001-01-01T00:00", **NEAR),
    get("", "/api/v1/toilets/nearest", (200,), open_at="9999-12-31T23:59", **NEAR),
    # signing in
    get("", "/login/", (200,), next=NUL),
    post("", "/login/", {"username": NUL, "password": "x"}, (200,)),
    post("", "/login/", {"username": LONG, "password": NUL}, (200,)),
    post("", "/i18n/setlang/", {"language": NUL, "next": NUL}, (302,)),
    post("", "/healthz", {}, (405,)),
    # pages that need a person send anonymous visitors to sign in
    get("", "/cases/", (302,), page="abc"),
    get("", "/dashboard/", (302,), **{"from": NUL}),
]

STAFF = [
    get(ADMIN, reverse("accounts:role_home", args=["nope"]), (404,)),  # a role nobody has
    # the work queue and its exports: a filter that is not allowed is ignored
    get(DISP, "/cases/", (200,), page="abc", size="abc"),
    get(DISP, "/cases/", (200,), page="0", size="7"),
    get(DISP, "/cases/", (200,), page=HUGE, size=HUGE),
    get(DISP, "/cases/", (200,), queue=NUL, type=NUL, area=NUL, department=NUL, source=NUL, state=NUL),
    get(DISP, "/cases/", (200,), q=NUL, sort=NUL),
    get(DISP, "/cases/", (200,), q=LONG, sort="nope", queue="nope"),
    get(DISP, "/cases/", (200,), **{"from": "2026-02-30", "to": NUL}),
    get(DISP, "/cases/", (200,), **{"from": "0001-01-01", "to": "0001-01-02"}),
    get(DISP, "/cases/", (200,), **{"from": "9999-12-31", "to": "9999-12-31"}),
    get(DISP, "/cases/export.csv", (200,), **{"from": "0001-01-01", "to": "9999-12-31"}),
    get(DISP, "/cases/export.xlsx", (200,), q=NUL, **{"to": "9999-12-31"}),
    get(INSP, "/cases/report/types/", (200,), q=NUL),
    get(INSP, "/cases/tasks/", (200,), page=NUL),
    # the case page and its forms
    get(DISP, "/cases/2099-01-000001/", (404,)),
    get(DISP, "/cases/" + "9" * 300 + "/", (404,)),
    get(DISP, "/cases/{C}/photos/" + HUGE + "/", (404,)),
    post(DISP, "/cases/{C}/act/", {}),
    post(DISP, "/cases/{C}/act/", {"action": NUL}),
    post(DISP, "/cases/{C}/act/", {"action": "nope"}, (400, 403, 409)),
    post(CHIEF, "/cases/{C}/act/", {"action": "urge", "note": NUL}),
    post(CHIEF, "/cases/{C}/act/", {"action": "urge", "note": LONG}),
    post(INSP, "/cases/{H}/act/", {"action": "verify", "inspector": "abc"}),
    post(INSP, "/cases/{H}/act/", {"action": "verify", "inspector": HUGE}, says="check the form: inspector"),
    post(INSP, "/cases/{H}/act/", {"action": "verify", "inspector": "9223372036854775807"}),
    post(INSP, "/cases/{H}/act/", {"action": "verify", "inspector": "123456789"}),
    post(HANDLER, "/cases/{C}/act/", {"action": "request_extension", "reason": "r", "until": "tomorrow"}),
    post(HANDLER, "/cases/{C}/act/", {"action": "request_extension", "reason": "r", "until": NUL}),
    post(
        HANDLER,
        "/cases/{C}/act/",
        {"action": "request_extension", "reason": "r", "until": "0001-01-01T00:00"},
    ),
    post(CHIEF, "/cases/{C}/reply/", {"text": NUL}, says="Null characters are not allowed."),
    post(CHIEF, "/cases/{C}/reply/", {"text": LONG}),
    post(CHIEF, "/cases/{C}/reply/", {}),
    get(CHIEF, "/cases/{C}/reply/", (405,)),
    # the inspector's report form
    post(INSP, "/cases/report/", {}),
    post(INSP, "/cases/report/", {"type": "matter:07001", "description": "x", "lat": "nan", "lon": "nan"}),
    post(INSP, "/cases/report/", {"type": "matter:07001", "description": "x", "lat": "1e400", "lon": "1"}),
    post(INSP, "/cases/report/", {"type": NUL, "description": NUL, **NEAR}),
    post(INSP, "/cases/report/", {"type": "matter:07001", "description": "x", "urgency": NUL, **NEAR}),
    post(INSP, "/cases/report/", {"type": "matter:99999", "description": "x", **NEAR}),
    post(INSP, "/cases/report/", {"type": "nope:07001", "description": "x", **NEAR}),
    post(INSP, "/cases/report/", {"type": "matter:07001", "description": "x", "lat": "0", "lon": "0"}),
    post(
        INSP,
        "/cases/report/",
        {"type": "matter:07001", "description": "x", **NEAR},
        files={"photos": GARBAGE},
    ),
    post(HANDLER, "/cases/{C}/act/", {"action": "report_done"}, files={"photos": GARBAGE}),
    # the dashboard and its drill-down
    get(LEADER, "/dashboard/", (400,), "Use a date from 1900-01-01 to 2099-12-31.", **{"from": "0001-01-01"}),
    get(LEADER, "/dashboard/", (400,), **{"from": "9999-12-30", "to": "9999-12-31"}),
    get(LEADER, "/dashboard/", (400,), **{"from": "2026-03-01", "level": NUL, "kind": NUL}),
    get(LEADER, "/dashboard/", (400,), **{"from": NUL}),
    get(LEADER, "/dashboard/cases", (404,), indicator=NUL),
    get(LEADER, "/dashboard/cases", (404,), indicator="reports", object=NUL),
    get(LEADER, "/dashboard/cases", (200, 404), indicator="reports", object="department:" + NUL),
    get(LEADER, "/dashboard/cases", (200, 404), indicator="reports", object="area:" + NUL),
    get(LEADER, "/dashboard/cases", (200, 404), indicator="reports", object="person:" + NUL),
    get(LEADER, "/dashboard/cases", (200, 404), indicator="reports", object="person:" + HUGE),
    get(LEADER, "/dashboard/cases", (200, 404), indicator="reports", object="type:" + NUL),
    get(LEADER, "/dashboard/cases", (200,), indicator="reports", object="city", page=NUL),
    get(LEADER, "/dashboard/cases", (200,), indicator="reports", object="city", page=HUGE),
    get(
        LEADER, "/dashboard/cases", (400,), indicator="reports", **{"from": "0001-01-01", "to": "0001-01-02"}
    ),
    get(
        LEADER, "/dashboard/cases", (400,), indicator="reports", **{"from": "9999-12-31", "to": "9999-12-31"}
    ),
    # the monthly report: a month it cannot read is this month
    get(LEADER, "/evaluation/report/", (200,), month=NUL),
    get(LEADER, "/evaluation/report.xlsx", (200,), month="2026-13"),
    # the first and last days a period may name are read
    get(LEADER, "/evaluation/report/", (200,), month="1900-01"),
    get(LEADER, "/evaluation/report/", (200,), month="2099-12"),
    get(LEADER, "/dashboard/", (200,), **{"from": "2099-12-01", "to": "2099-12-31"}),
    get(
        LEADER, "/dashboard/cases", (200,), indicator="reports", **{"from": "1900-01-01", "to": "1900-01-31"}
    ),
    get(LEADER, "/api/v1/evaluation/areas", (200,), **{"from": "2099-12-01", "to": "2099-12-31"}),
    get(DISP, "/cases/", (200,), **{"from": "1900-01-01", "to": "2099-12-31"}),
    get(DISP, "/api/v1/cases", (200,), **{"from": "1900-01-01", "to": "2099-12-31"}),
    # the registry and inspections
    get(INSP, "/facilities/", (200,), page="abc", q=NUL, kind=NUL, county=NUL, department=NUL, status=NUL),
    get(INSP, "/facilities/", (200,), page=HUGE, q=LONG),
    get(INSP, "/facilities/", (200,), page="0", status="nope"),
    get(INSP, "/facilities/inspect/", (200,), lat="nan", lon="nan"),
    get(INSP, "/facilities/inspect/", (200,), lat="1e400", lon=NUL),
    get(INSP, "/facilities/inspect/", (200,), lat="170", lon="-170"),
    get(INSP, "/facilities/inspections/" + HUGE + "/", (404,)),
    get(INSP, "/facilities/photos/" + HUGE + "/", (404,)),
    get(INSP, "/facilities/2099/", (404,)),
    post(INSP, "/facilities/{toilet}/inspect/", {}),
    post(INSP, "/facilities/{toilet}/inspect/", {"note": NUL}),
    post(INSP, "/facilities/{toilet}/inspect/", {"lat": "nan", "lon": "nan"}),
    post(INSP, "/facilities/{toilet}/inspect/", {"lat": "1e308", "lon": "-1e308"}, (302, 400)),
    post(INSP, "/facilities/{toilet}/inspect/", {"item-soap": NUL, "note-soap": NUL}),
    post(ADMIN, "/facilities/import/", {}),
    post(ADMIN, "/facilities/import/", {}, files={"file": ("registry.xlsx", b"not a workbook")}),
    post(ADMIN, "/facilities/import/", {}, files={"file": ("registry.xlsx", b"PK\x03\x04" + b"\x00" * 100)}),
]

API = [
    # the staff API: DRF's error format
    get(DISP, "/api/v1/cases", (400,), queue=NUL),
    get(DISP, "/api/v1/cases", (400,), type=NUL, q=NUL),
    get(DISP, "/api/v1/cases", (400,), q=LONG),
    get(DISP, "/api/v1/cases", (400,), **{"from": "2026-02-30"}),
    get(DISP, "/api/v1/cases", (400,), **{"from": "0001-01-01", "to": "0001-01-02"}),
    get(DISP, "/api/v1/cases", (400,), "less than or equal to 2099-12-31", **{"to": "9999-12-31"}),
    get(DISP, "/api/v1/cases", (404,), page="abc"),
    get(DISP, "/api/v1/cases", (404,), page=HUGE),
    get(DISP, "/api/v1/cases", (200,), page_size=HUGE),
    get(DISP, "/api/v1/cases", (200,), page_size=NUL),
    get(DISP, "/api/v1/cases/2099-01-000001", (404,)),
    get(DISP, "/api/v1/cases/2099-01-000001/events", (404,)),
    get(DISP, "/api/v1/cases/2099-01-000001/duplicates", (404,)),
    post_json(INSP, "/api/v1/cases", "{not json"),
    post_json(INSP, "/api/v1/cases", "[1, 2]"),
    post_json(INSP, "/api/v1/cases", '{"type": "07001", "description": "x", "lat": NaN, "lon": Infinity}'),
    post_json(INSP, "/api/v1/cases", {"type": "07001", "description": "x", "lat": "1e400", "lon": 1}),
    post_json(INSP, "/api/v1/cases", {"type": "07001", "description": "x", "lat": {"a": 1}, "lon": [1]}),
    post_json(INSP, "/api/v1/cases", {"type": NUL, "description": NUL, "lat": 36.195, "lon": 113.117}),
    post_json(INSP, "/api/v1/cases", {"type": "07001", "description": "x", "lat": 0, "lon": 0}),
    post_json(INSP, "/api/v1/cases", {"type": "99999", "description": "x", "lat": 36.195, "lon": 113.117}),
    post_json(
        INSP,
        "/api/v1/cases",
        {"type": "07001", "description": "x", "lat": 36.195, "lon": 113.117, "kind": NUL},
    ),
    Probe(INSP, "POST", "/api/v1/cases", "type=07001", (415,), content_type="text/plain"),
    Probe(INSP, "POST", "/api/v1/cases", '{"type": "07001"}', (400,), "application/json; charset=bogus"),
    Probe(
        INSP, "POST", "/api/v1/cases", "&".join(["a=1"] * 2000), (400,), "application/x-www-form-urlencoded"
    ),
    Probe(INSP, "POST", "/api/v1/cases", "--x\r\nnot a part", (400,), "multipart/form-data; boundary=x"),
    post_json(INSP, "/api/v1/cases", "[" * 100_000, says="nested too deeply"),
    post(
        INSP,
        "/api/v1/cases",
        {"type": "07001", "description": "x", **NEAR},
        files={"photos": GARBAGE},
    ),
    post_json(HANDLER, "/api/v1/cases/{C}/actions", "{"),
    post_json(HANDLER, "/api/v1/cases/{C}/actions", {"action": NUL}),
    post_json(
        HANDLER, "/api/v1/cases/{C}/actions", {"action": "request_extension", "reason": "r", "until": "x"}
    ),
    post_json(
        HANDLER,
        "/api/v1/cases/{C}/actions",
        {"action": "request_extension", "reason": "r", "until": "0001-01-01T00:00:00Z"},
    ),
    post_json(
        HANDLER,
        "/api/v1/cases/{C}/actions",
        {"action": "request_extension", "reason": "r", "until": "9999-12-31T23:59:59-12:00"},
    ),
    post_json(HANDLER, "/api/v1/cases/{C}/actions", {"action": "accept", "note": NUL}),
    post_json(DISP, "/api/v1/cases/2099-01-000001/actions", {"action": "urge"}, (404,)),
    post_json("", "/api/v1/auth/token", "{"),
    post_json("", "/api/v1/auth/token", {"username": NUL, "password": NUL}),
    post_json("", "/api/v1/auth/token", {"username": LONG, "password": "x"}),
    post_json("", "/api/v1/auth/token", {}),
    # the evaluation API
    get(LEADER, "/api/v1/evaluation/departments", (400,), **{"from": "0001-01-01", "to": "0001-01-02"}),
    get(
        LEADER,
        "/api/v1/evaluation/areas",
        (400,),
        "from 1900-01-01",
        **{"from": "9999-12-30", "to": "9999-12-31"},
    ),
    get(LEADER, "/api/v1/evaluation/areas", (400,), level=NUL, kind=NUL),
    get(LEADER, "/api/v1/evaluation/people", (400,), **{"from": NUL}),
    get(LEADER, "/api/v1/evaluation/planets", (404,)),
]

OPEN311 = [
    get("", "/open311/v2/requests.json", (400,), start_date="yesterday"),
    get("", "/open311/v2/requests.json", (400,), start_date=NUL),
    get("", "/open311/v2/requests.json", (400,), "end_date must be", end_date="0001-02-01"),
    get("", "/open311/v2/requests.json", (400,), updated_before="0001-02-01", updated_after="0001-01-01"),
    get("", "/open311/v2/requests.json", (200, 400), start_date="9999-12-31T23:59:59"),
    get("", "/open311/v2/requests.json", (400,), page="abc"),
    get("", "/open311/v2/requests.json", (400,), page=HUGE),
    get("", "/open311/v2/requests.xml", (400,), page_size="0", status="nope"),
    get("", "/open311/v2/requests.json", (400,), service_request_id=NUL),
    get("", "/open311/v2/requests.json", (200,), service_request_id=LONG, service_code="x" * 20),
    get("", "/open311/v2/servicerequestupdates.json", (400,), end_date="0001-02-01"),
    get("", "/open311/v2/servicerequestupdates.json", (400,), page=NUL),
    get("", "/open311/v2/services/" + "9" * 300 + ".json", (404,)),
    get("", "/open311/v2/requests/" + "9" * 300 + ".json", (404,)),
    get("", "/open311/media/2099-01-000001/" + "9" * 18, (404,)),
    post("", "/open311/v2/requests.json", {}, (403,)),
    post("", "/open311/v2/requests.json", {"api_key": NUL}),
    post("", "/open311/v2/requests.json", {"api_key": "demo-open311-key", "lat": "nan", "long": "1"}),
    post("", "/open311/v2/requests.json", {"api_key": "demo-open311-key", "service_code": "06010"}),
    post(
        "",
        "/open311/v2/requests.json",
        {"api_key": "demo-open311-key", "service_code": "06010", "description": NUL, **NEAR},
    ),
    post(
        "",
        "/open311/v2/requests.xml",
        {
            "api_key": "demo-open311-key",
            "service_code": "06010",
            "attribute[x]": NUL,
            "long": "113",
            "lat": "36",
        },
    ),
    Probe(
        "",
        "POST",
        "/open311/v2/requests.json",
        '{"api_key": "demo-open311-key"}',
        (400, 403),
        "application/json",
    ),
    Probe("", "PUT", "/open311/v2/requests.json", "", (405,)),
    Probe(
        "", "POST", "/open311/v2/requests.json?api_key=demo-open311-key", "x", (400,), "multipart/form-data"
    ),
    post(
        "",
        "/open311/v2/requests.json",
        {
            "api_key": "demo-open311-key",
            "service_code": "06010",
            "description": "x",
            "lat": "36.195",
            "long": "113.117",
        },
        files={"media": GARBAGE},
    ),
]


def admin_filter(url: str, **params):
    """A list filter of the admin typed with a NUL. Django's admin puts such a parameter into the query
    as it is, and PostgreSQL refuses it: it was a server error on every list with a text filter. The
    site refuses a NUL in any parameter (``core.admin_site``)."""
    return get(ADMIN, url, (400,), **params)


ADMIN_SITE = [
    # the admin's lists: search, filters, ordering and paging as typed into the address bar
    get(ADMIN, "/admin/cases/case/", (400,), q=NUL),
    get(ADMIN, "/admin/accounts/user/", (200,), q=LONG),
    get(ADMIN, "/admin/cases/case/", (200, 302, 400), o="abc", p=HUGE),
    get(ADMIN, "/admin/cases/case/" + NUL + "/change/", (302, 404)),
    get(ADMIN, "/admin/cases/case/" + HUGE + "/change/", (302, 404)),
    get(ADMIN, "/admin/core/calendarday/", (200, 302, 400), date__year="99999", date__month="13"),
    get(ADMIN, "/admin/facilities/facility/", (200, 302, 400), department__id__exact=HUGE),
    get(ADMIN, "/admin/catalog/catalogtype/", (400,), major__id__exact=NUL),
    get(
        ADMIN,
        "/admin/autocomplete/",
        (400,),
        term=NUL,
        app_label="facilities",
        model_name="facility",
        field_name="component",
    ),
    admin_filter("/admin/cases/case/", state__exact=NUL),
    admin_filter("/admin/cases/case/", number=NUL),
    admin_filter("/admin/facilities/facility/", county_code__exact=NUL),
    admin_filter("/admin/notifications/notification/", status__exact=NUL),
]

# ------------------------------------------------------------------------------------------------
# the world, loaded once


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """The city with the worked history, a toilet and the Open311 key; rolled back after the module."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import transaction
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from cityops.cases.models import Case
    from cityops.cases.tests.conftest import WORLD_COMMANDS
    from cityops.demo.people import load_people
    from cityops.evaluation.tests.conftest import build
    from cityops.facilities.tests.conftest import make_toilet
    from cityops.open311.services import ensure_demo_key
    from cityops.organization.loaders import load_departments

    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        load_departments()
        load_people()
        for name in (*WORLD_COMMANDS, "facilities_load_templates"):
            call_command(name, **quiet)
        people = {u.username: u for u in get_user_model().objects.all()}
        history = build(people)
        ensure_demo_key()
        keys = dict(history.cases)
        keys["toilet"] = make_toilet().code
        keys["B_token"] = Case.objects.get(number=keys["B"]).tracking_token
        tokens = {name: Token.objects.get_or_create(user=u)[0].key for name, u in people.items()}
        yield {"keys": keys, "people": people, "tokens": tokens}
        transaction.set_rollback(True)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate limits and the dashboard's merged snapshots live in the cache: none carried between cases."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def _client(world, probe: Probe) -> Client:
    """A browser signed in as ``probe.who`` (API calls send the person's token instead)."""
    client = Client(headers={"accept-language": "en"})
    if probe.who and probe.url.startswith("/api/"):
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {world['tokens'][probe.who]}"
    elif probe.who:
        client.force_login(world["people"][probe.who])
    if probe.reporter:  # the reporter's private link puts the case in the session
        keys = world["keys"]
        assert client.get(f"/track/{keys['B']}/", {"t": keys["B_token"]}).status_code == 302
    return client


def _send(client: Client, probe: Probe, url: str):
    if probe.method == "GET":
        return client.get(url, probe.data or {})
    if probe.content_type:
        return client.generic(probe.method, url, probe.data or "", content_type=probe.content_type)
    if probe.method != "POST":
        return client.generic(probe.method, url, "")
    data = dict(probe.data or {})
    for name, (filename, content) in probe.files.items():
        data[name] = SimpleUploadedFile(filename, content)
    return client.post(url, data)


@pytest.mark.django_db
@pytest.mark.parametrize("probe", PUBLIC + STAFF + API + OPEN311 + ADMIN_SITE, ids=str)
def test_bad_input_gets_a_clear_error(world, probe):
    keys = world["keys"]
    url = probe.url.format(**keys)
    data = probe.data
    if isinstance(data, dict):
        data = {k: v.format(**keys) if isinstance(v, str) and "{" in v else v for k, v in data.items()}
    probe = replace(probe, data=data)
    client = _client(world, probe)
    try:
        response = _send(client, probe, url)
    except Exception as exc:  # the test client re-raises what the view let escape (a 500 in production)
        pytest.fail(f"{probe.method} {url} {data!r}: server error {exc!r}")
    assert response.status_code in probe.expect, (
        f"{probe.method} {url} {data!r}: {response.status_code}, expected {probe.expect}: "
        f"{response.content[:300]!r}"
    )
    if probe.says:
        assert probe.says in response.content.decode(), f"{probe.method} {url} {data!r}: no {probe.says!r}"


@pytest.mark.django_db
@pytest.mark.parametrize("until", ["9999-12-31T23:59", "2099-01-01T08:00"])
def test_an_extension_is_refused_years_ahead_and_nothing_is_kept(world, until):
    """An extension to year 9999 was taken, and once approved the case page counted the working time
    to it day by day until it overflowed the calendar: a server error on every visit from then on."""
    from datetime import timedelta

    from django.utils import timezone

    from cityops.cases.models import Case

    number = world["keys"]["C"]
    client = Client()
    client.force_login(world["people"][HANDLER])
    web = client.post(f"/cases/{number}/act/", {"action": "request_extension", "reason": "r", "until": until})
    assert web.status_code == 400
    api = Client(headers={"authorization": f"Token {world['tokens'][HANDLER]}"})
    body = {"action": "request_extension", "reason": "r", "until": until + "+08:00"}
    r = api.post(f"/api/v1/cases/{number}/actions", body, content_type="application/json")
    assert r.status_code == 400 and "until" in r.json()
    case = Case.objects.get(number=number)
    assert not case.extension_pending and case.extension_until is None
    assert client.get(f"/cases/{number}/").status_code == 200
    # a month ahead is an extension like any other
    month = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    ok = client.post(f"/cases/{number}/act/", {"action": "request_extension", "reason": "r", "until": month})
    assert ok.status_code == 302 and Case.objects.get(number=number).extension_pending
