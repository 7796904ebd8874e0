"""``python -m benchmarks.sweep --scale N --db sqlite|postgres --out sweep.json``

Every work queue in every order with each filter, and the other pages people and other systems load,
timed one request at a time at a given scale: the load benchmark measures a few hot paths under
load, this finds the query that reads the whole table. It seeds (or reuses) the database as
``python -m benchmarks`` does, works on a fresh copy, asks each page twice through Django's WSGI
handler in this process (no server, no network) and keeps the faster time. Writes the JSON (each
page's user, URL, status, bytes and milliseconds) and prints the pages over ``--threshold``.
"""

from __future__ import annotations

import argparse
import io
import itertools
import json
import os
import platform
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

from benchmarks.__main__ import PY, ROOT, django_env, log, seed

QUEUES = [
    "to_verify",
    "to_file",
    "to_dispatch",
    "in_handling",
    "extensions",
    "parked",
    "to_check",
    "to_close",
    "reopen_requests",
    "overdue",
    "all",
]
SORTS = ["", "sort=reported", "sort=due", "sort=-due", "sort=number", "sort=-number"]
# Filters of the demo city (cityops/demo): a busy type and a rare one, a county with few cases and the
# urban core with most, a department with few and the one with half of them, searches for dense, rare
# and absent words, a case number's month, dates, and pages far down.
FILTERS = [
    "",
    "type=07001",
    "type=01001",
    "area=140402",
    "area=140403",
    "department={dept}",
    "department=LZ-CGJ",
    "source=public",
    "state=closed",
    "from=2026-06-01&to=2026-06-07",
    "from={recent}",
    "q=小广告",
    "q=英雄南路",
    "q=不存在的词",
    "q={month}",
    "type=07001&area=140402",
    "department={dept}&state=closed",
    "source=hotline&type=06010",
    "page=200",
    "page=2000&size=100",
]
# the ones also tried in every order
SORTED_FILTERS = {"", "type=07001", "area=140403", "department=LZ-CGJ", "q=小广告", "page=200"}


def pages(v: dict) -> list[tuple[str, str]]:
    """(user, URL) of everything timed (``home:<role>``: the role's home page); ``v`` holds values read
    from the database."""
    out = []
    for user in ("demo-dispatcher", "demo-handler"):
        for queue, f, s in itertools.product(QUEUES, FILTERS, SORTS):
            if s and f not in SORTED_FILTERS:
                continue
            query = "&".join(x for x in (f"queue={queue}", f.format(**v), s) if x)
            out.append((user, "/cases/?" + query))
    api = ["sort=due", "sort=-due", "queue=in_handling&sort=reported", "type=07001&page=50", "q=小广告"]
    api += ["department=LZ-CGJ", "queue=reopen_requests", "from=2026-06-01&to=2026-06-30", ""]
    out += [("demo-dispatcher", "/api/v1/cases" + (f"?{q}" if q else "")) for q in api]
    out += [("demo-handler", p) for p in ("/api/v1/cases", "/api/v1/cases?sort=due")]
    case, closed, fac = v["open_case"], v["public_case"], v["facility"]
    out += [
        ("demo-dispatcher", p)
        for p in (
            "home:dispatcher",
            f"/cases/{case}/",
            f"/api/v1/cases/{case}",
            f"/api/v1/cases/{case}/events",
            f"/api/v1/cases/{case}/duplicates",
            "/cases/export.csv?queue=in_handling",
            "/cases/export.xlsx?queue=to_dispatch",
        )
    ]
    out += [("demo-chief", p) for p in ("home:duty-chief", "/cases/?queue=reopen_requests")]
    out += [("demo-handler", p) for p in ("home:handler", "/cases/", "/cases/?queue=overdue")]
    out += [("demo-inspector", p) for p in ("home:inspector", "/cases/tasks/", "/cases/", "/cases/report/")]
    out += [("demo-operator", p) for p in ("home:operator", "/cases/?queue=to_verify")]
    # a case at each step, opened by the role that acts on it (the action forms read dispatch proposals,
    # filing conditions, duplicates nearby and the inspectors)
    for who, state in (
        ("demo-operator", "to_verify"),
        ("demo-chief", "to_file"),
        ("demo-dispatcher", "to_dispatch"),
        ("demo-chief", "to_close"),
        ("demo-handler", "handler_case"),
    ):
        if v.get(state):
            out.append((who, f"/cases/{v[state]}/"))
    evaluation = ["/api/v1/evaluation/departments", "/api/v1/evaluation/areas", "/api/v1/evaluation/people"]
    evaluation += ["/api/v1/evaluation/areas?level=grid", "/api/v1/evaluation/departments?from={year}-01-01"]
    evaluation += ["/api/v1/evaluation/areas?level=township", "/api/v1/evaluation/areas?from={year}-01-01"]
    # one area's townships and grid cells, best first (the demo city's townships are generated)
    evaluation += ["/api/v1/evaluation/areas?level=township&within=140403&order=rank"]
    evaluation += ["/api/v1/evaluation/areas?level=grid&within=140403001&order=rank"]
    evaluation += [
        "/dashboard/cases?indicator=handle_ontime_rate",
        "/dashboard/cases?indicator=reports&page=50",
    ]
    evaluation += ["/dashboard/cases?indicator=close_rate&object=department:LZ-CGJ"]
    evaluation += ["/dashboard/?from={year}-01-01&to={year}-06-30"]
    out += [("demo-leader", p.format(**v)) for p in evaluation]
    # a handler's figures are counted live over the facts of their department's cases
    handler = ["/api/v1/evaluation/departments", "/api/v1/evaluation/areas?level=township"]
    handler += ["/api/v1/evaluation/people", "/evaluation/report/"]
    out += [("demo-handler", p) for p in handler]
    leader = ["home:leader", "/dashboard/", "/evaluation/report/", "/evaluation/report/?month={past}"]
    leader += ["/facilities/", "/facilities/due/", "/facilities/figures/", "/facilities/map/"]
    leader += [f"/facilities/{fac}/", "/facilities/export.xlsx"]
    out += [("demo-leader", p.format(**v)) for p in leader]
    public = ["/", "/report/", "/report/nearby?type=07001&lat=36.195&lon=113.117", "/track/"]
    public += [f"/track/{closed}/", "/map/", "/map/cases.geojson", "/map/cases.geojson?type=07001"]
    public += ["/figures/", "/figures/?days=365", "/toilets/", "/api/v1/toilets/nearest?lat=36.19&lon=113.11"]
    o311 = "/open311/v2/"
    public += [o311 + "services.json", o311 + "requests.json", o311 + "requests.json?status=closed"]
    public += [o311 + "requests.json?service_code=07001&status=open", o311 + "requests.json?page=200"]
    public += [o311 + "requests.json?status=closed&page=100", f"{o311}requests/{closed}.json"]
    public += [o311 + "servicerequestupdates.json", o311 + "servicerequestupdates.json?page=20"]
    out += [("", p) for p in public]
    return out


def inner(out: str, threshold: float, match: str = "") -> None:
    """Runs in a child process whose environment points Django at the working copy."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.handlers.wsgi import WSGIHandler
    from django.db.models import Max
    from django.test import Client
    from django.urls import reverse

    from cityops.cases.models import Case
    from cityops.facilities.models import Facility
    from cityops.organization.models import Department

    app = WSGIHandler()
    last = Case.objects.aggregate(at=Max("reported_at"))["at"]
    v = {
        "dept": Department.objects.order_by("code").values_list("code", flat=True)[5],
        "recent": (last.date().replace(day=1)).isoformat(),
        "month": last.strftime("%Y-%m"),
        "past": (last.date().replace(day=1) - timedelta(days=150)).strftime("%Y-%m"),
        "open_case": Case.objects.filter(state="handling")
        .order_by("-id")
        .values_list("number", flat=True)[0],
        "public_case": Case.objects.filter(state="closed", is_public=True)
        .order_by("-id")
        .values_list("number", flat=True)[0],
        "facility": Facility.objects.values_list("code", flat=True)[0],
        "year": last.year,
    }
    for state in ("to_verify", "to_file", "to_dispatch", "to_close"):
        v[state] = Case.objects.filter(state=state).order_by("-id").values_list("number", flat=True).first()
    v["handler_case"] = (
        Case.objects.filter(state="handling", department__code="LZ-CGJ")
        .order_by("-id")
        .values_list("number", flat=True)
        .first()
    )
    cookies: dict[str, str] = {}

    def cookie(user: str) -> str:
        if user and user not in cookies:
            c = Client()
            c.force_login(get_user_model().objects.get(username=user))
            c.get("/cases/", HTTP_HOST="127.0.0.1")
            cookies[user] = "; ".join(
                f"{k}={c.cookies[k].value}" for k in ("sessionid", "csrftoken") if k in c.cookies
            )
        return cookies.get(user, "")

    def get(user: str, url: str) -> tuple[str, float, int]:
        if url.startswith("home:"):  # a role's home page, by its route
            url = reverse("accounts:role_home", kwargs={"role": url.removeprefix("home:")})
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": quote(query, safe="=&%,.:"),
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1",
            "HTTP_COOKIE": cookie(user),
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.errors": sys.stderr,
            "SERVER_PROTOCOL": "HTTP/1.1",
        }
        status: list[str] = []
        t = time.perf_counter()
        body = app(environ, lambda s, h, *a: status.append(s))
        size = len(b"".join(body))
        if hasattr(body, "close"):
            body.close()
        return status[0].split()[0], (time.perf_counter() - t) * 1000, size

    rows = []
    wanted = re.compile(match) if match else None
    for user, url in pages(v):
        if wanted and not wanted.search(f"{user or 'public'} {url}"):
            continue
        status, first, size = get(user, url)
        _status, second, _size = get(user, url)
        rows.append(
            {
                "user": user or "public",
                "url": url,
                "status": status,
                "bytes": size,
                "ms": round(min(first, second), 1),
                "first_ms": round(
                    first, 1
                ),  # a page that keeps its figures (a past month's report) shows here
            }
        )
    with open(out, "w") as f:
        json.dump(rows, f, ensure_ascii=False)


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sweep", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=int, default=10_000)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--out", default="")
    p.add_argument("--threshold", type=float, default=40.0, help="ms: pages slower than this are listed")
    p.add_argument("--match", default="", help="regular expression: only the pages whose 'user url' it finds")
    p.add_argument("--inner", default="", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.inner:
        return inner(a.inner, a.threshold, a.match)
    log(f"seeding {a.scale} cases on {a.db} ...")
    seeded = seed(a.db, a.scale, a.days)
    # a partial sweep (--match) never replaces the committed results unless asked to
    results = Path(tempfile.gettempdir()) if a.match else ROOT / "benchmarks" / "results"
    out = a.out or str(results / f"sweep-{a.db}-{a.scale}.json")
    env = django_env(
        seeded["url"],
        CITYOPS_DEBUG="false",
        CITYOPS_SECRET_KEY=secrets.token_urlsafe(48),
        CITYOPS_ALLOWED_HOSTS="127.0.0.1",
        CITYOPS_LOG_LEVEL="ERROR",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    subprocess.run([PY, "manage.py", "collectstatic", "--no-input", "-v", "0"], cwd=ROOT, env=env, check=True)
    t0 = time.monotonic()
    tmp = out + ".rows"
    subprocess.run(
        [PY, "-m", "benchmarks.sweep", "--inner", tmp, "--threshold", str(a.threshold), "--match", a.match],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with open(tmp) as f:
        rows = json.load(f)
    os.unlink(tmp)
    slow = sorted((r for r in rows if r["ms"] > a.threshold), key=lambda r: -r["ms"])
    errors = [r for r in rows if not r["status"].startswith(("2", "3"))]
    result = {
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
        },
        "scale": a.scale,
        "db": a.db,
        "seconds": round(time.monotonic() - t0, 1),
        "threshold_ms": a.threshold,
        "match": a.match,
        "pages": len(rows),
        "over_threshold": len(slow),
        "errors": len(errors),
        "rows": rows,
    }
    with open(out, "w") as f:
        json.dump(result, f, ensure_ascii=False, indent=1)
    log(
        f"{len(rows)} pages, {len(slow)} over {a.threshold:g} ms, {len(errors)} not answered 2xx/3xx -> {out}"
    )
    for r in errors:
        log(f"  {r['status']} {r['user']} {r['url']}")
    for r in slow:
        log(f"{r['ms']:9.1f} ms  {r['user']:16} {r['url']}")


if __name__ == "__main__":
    main()
