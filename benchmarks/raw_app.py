"""The raw baseline: a minimal ASGI app with hand-written SQL answering the platform's read questions.

Same database, same questions, no framework: the ratio platform / raw says how much the platform
spends on top of the data access, and it holds on a noisy machine because both run in the same run.
Served by uvicorn (``uvicorn benchmarks.raw_app:app``); ``BENCH_DB`` is a SQLite path or a PostgreSQL URL.
"""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

DB = os.environ.get("BENCH_DB", "")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PG = DB.startswith("postgres")
_conn = None

# The dispatcher's in-handling queue of one type: one page, with the columns the platform's page shows.
# Neither counts the whole queue (the baseline of results before 2026-11-29 12:00 UTC also ran a COUNT).
QUEUE_SQL = (
    "SELECT c.number, c.type_name, c.state, c.address, c.county_code, c.township_code, "
    "c.extension_pending, c.reported_at, c.due_at, c.paused_at, d.name "
    "FROM cases_case c LEFT JOIN organization_department d ON d.id = c.department_id "
    "WHERE {rare}(c.state IN ({ph}, {ph}){p}) AND c.type_code = {ph} "
    "ORDER BY c.reported_at DESC, c.id DESC LIMIT 50"
)
# The dashboard's question: today's intake, filings, dispatches, closings and open cases past due, and
# the last 30 days of the city's snapshot counters.
DASH_TODAY_SQL = (
    "SELECT (SELECT COUNT(*) FROM evaluation_casefact WHERE reported_at >= {ph}), "
    "(SELECT COUNT(*) FROM evaluation_casefact WHERE file_end >= {ph}), "
    "(SELECT COUNT(*) FROM evaluation_casefact WHERE dispatch_end >= {ph}), "
    "(SELECT COUNT(*) FROM evaluation_casefact WHERE close_end >= {ph}), "
    "(SELECT COUNT(*) FROM evaluation_casefact WHERE state IN ('to_verify', 'to_file', 'to_dispatch', "
    "'dispatched', 'handling', 'to_check', 'to_close') AND due_at < {ph} AND NOT paused)"
)
DASH_TREND_SQL = (
    "SELECT day, counters FROM evaluation_metricsnapshot WHERE object_kind = 'city' AND day >= {ph} "
    "ORDER BY day"
)
CASE_SQL = (
    "SELECT c.id, c.number, c.type_name, c.state, c.description, c.address, c.lat, c.lon, c.reported_at, "
    "c.due_at, c.handle_due_at, d.name FROM cases_case c LEFT JOIN organization_department d "
    "ON d.id = c.department_id WHERE c.number = {ph}"
)
# The timeline with each step's photos (one row per photo), as the case page shows it.
EVENTS_SQL = (
    "SELECT e.id, e.action, e.from_state, e.to_state, e.note, e.at, e.actor_name, d.name, a.id, a.stage, "
    "a.file, a.width, a.height FROM cases_caseevent e "
    "LEFT JOIN organization_department d ON d.id = e.department_id "
    "LEFT JOIN cases_attachment a ON a.event_id = e.id WHERE e.case_id = {ph} ORDER BY e.at, e.id, a.id"
)
# The open states in the order of the partial index ``case_public_open_type``: PostgreSQL then finds
# the condition in the index's own and walks it in date order (in another order it also weighed a
# bitmap join with the state index, and chose it for three of five types: 10 ms instead of 0.3).
# A GeoReport record also carries the last public note (status_notes), the first public photo of the
# report (media_url), the department and the case it was merged into, as the platform's does (results
# before 2026-11-29 12:00 UTC ran a baseline without the note and the photo).
OPEN311_SQL = (
    "SELECT c.number, c.type_code, c.type_name, c.state, c.description, c.address, c.lat, c.lon, "
    "c.followers, c.reported_at, c.updated_at, c.due_at, c.handle_due_at, d.code, d.name, m.number, "
    "(SELECT n.note FROM cases_caseevent n WHERE n.case_id = c.id AND n.is_public = {t} AND n.note <> '' "
    "ORDER BY n.at DESC, n.id DESC LIMIT 1), "
    "(SELECT a.id FROM cases_attachment a LEFT JOIN cases_caseevent ae ON ae.id = a.event_id "
    "WHERE a.is_public = {t} AND (a.event_id IS NULL OR ae.is_public = {t}) AND a.case_id = c.id "
    "AND a.stage = 'report' ORDER BY a.created_at, a.id LIMIT 1) "
    "FROM cases_case c LEFT JOIN organization_department d ON d.id = c.department_id "
    "LEFT JOIN cases_case m ON m.id = c.merged_into_id "
    "WHERE c.is_public = {t} AND c.state <> 'invalid' AND c.type_code = {ph} "
    "AND c.state IN ('dispatched','handling','parked','to_check','to_close','to_dispatch','to_file',"
    "'to_verify') AND c.reported_at >= {ph} ORDER BY c.reported_at DESC, c.id DESC LIMIT 50"
)
# The finder's question: the ten nearest active toilets with their last inspection, and that
# inspection's checklist lines (the platform answers both; it also works out distances and opening hours).
TOILET_SQL = (
    "SELECT f.id, f.code, f.name, f.kind, f.address, f.lat, f.lon, f.opening_hours, f.free, f.accessible, "
    "f.third_washroom, f.last_inspection_id, i.at, i.compliant FROM facilities_facility f "
    "LEFT JOIN facilities_inspection i ON i.id = f.last_inspection_id "
    "WHERE f.is_active = {t} AND f.kind IN ('toilet', 'station') AND f.lat BETWEEN {ph} AND {ph} "
    "AND f.lon BETWEEN {ph} AND {ph} "
    "ORDER BY (f.lat - {ph}) * (f.lat - {ph}) + (f.lon - {ph}) * (f.lon - {ph}) * {ph}, f.id LIMIT 10"
)
TOILET_LINES_SQL = (
    "SELECT r.inspection_id, c.key, c.name, r.passed FROM facilities_inspectionresult r "
    'JOIN facilities_checklistitem c ON c.id = r.item_id WHERE r.inspection_id IN ({ids}) ORDER BY c."order", r.id'
)


def _sql(s: str) -> str:
    # SQLite gets the same planner hint as the platform's open work queues (cityops.core.db.Rare).
    return s.format(
        ph="%s" if PG else "?",
        t="true" if PG else "1",
        rare="" if PG else "likelihood",
        p="" if PG else ", 0.02",
    )


def conn():
    global _conn
    if _conn is None:
        if PG:
            import psycopg

            # Statements are prepared only when asked (``rows(..., keep=True)``; a threshold of None would
            # refuse those too), as the platform does:
            # psycopg's default prepares any statement after five runs, and PostgreSQL's generic plan
            # for a filter by a rare type walked the whole date index (queue and Open311 baselines at
            # ~80-100 req/s instead of ~700).
            _conn = psycopg.connect(DB, autocommit=True, prepare_threshold=2**62)
        else:
            import sqlite3

            _conn = sqlite3.connect(DB, check_same_thread=False)
            _conn.execute("PRAGMA query_only=ON")
    return _conn


def rows(sql: str, params: tuple, *, keep: bool = False) -> list[tuple]:
    """The rows of ``sql``; ``keep``: a lookup by key whose plan PostgreSQL may keep (prepared)."""
    if PG:
        cur = conn().cursor()
        cur.execute(_sql(sql), params, prepare=keep)
        return cur.fetchall()
    return conn().execute(_sql(sql), params).fetchall()


def _ts(v):
    return v.isoformat() if isinstance(v, datetime) else v


def queue(q: dict) -> dict:
    t = q.get("type", ["07001"])[0]
    params = ("dispatched", "handling", t)
    return {"results": [[_ts(v) for v in r] for r in rows(QUEUE_SQL, params)]}


def case(number: str) -> dict | None:
    found = rows(CASE_SQL, (number,), keep=True)
    if not found:
        return None
    c = found[0]
    events: dict = {}
    for e in rows(EVENTS_SQL, (c[0],), keep=True):
        event = events.setdefault(e[0], [*(_ts(v) for v in e[:8]), []])
        if e[8] is not None:
            event[-1].append(list(e[8:]))
    return {"case": [_ts(v) for v in c], "events": list(events.values())}


def open311(q: dict) -> list:
    code = q.get("service_code", ["07001"])[0]
    since = datetime.now(UTC) - timedelta(days=90)
    since_p = since if PG else str(since.replace(tzinfo=None))
    return [[_ts(v) for v in r] for r in rows(OPEN311_SQL, (code, since_p))]


def dashboard(q: dict) -> dict:
    now = datetime.now(UTC)
    local = now.astimezone(SHANGHAI)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)
    p = start if PG else str(start.replace(tzinfo=None))
    now_p = now if PG else str(now.replace(tzinfo=None))
    today = rows(DASH_TODAY_SQL, (p, p, p, p, now_p))[0]
    since = (local.date() - timedelta(days=30)).isoformat()
    trend = rows(DASH_TREND_SQL, (since,))
    return {"today": list(today), "trend": [[str(d), c] for d, c in trend]}


def toilets(q: dict) -> list:
    lat, lon = float(q["lat"][0]), float(q["lon"][0])
    dlat = 5000 / 111_320
    dlon = 5000 / (111_320 * math.cos(math.radians(lat)))
    k = math.cos(math.radians(lat)) ** 2
    found = rows(TOILET_SQL, (lat - dlat, lat + dlat, lon - dlon, lon + dlon, lat, lat, lon, lon, k))
    ids = [r[11] for r in found if r[11] is not None]
    lines: dict = {}
    if ids:
        sql = TOILET_LINES_SQL.replace("{ids}", ", ".join(["{ph}"] * len(ids)))
        for inspection, key, name, passed in rows(sql, tuple(ids)):
            lines.setdefault(inspection, []).append([key, name, bool(passed)])
    return [[*(_ts(v) for v in r), lines.get(r[11], [])] for r in found]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    path = scope["path"]
    q = parse_qs(scope.get("query_string", b"").decode())
    status, body = 200, None
    if path == "/health":
        body = {"status": "ok" if rows("SELECT 1", (), keep=True) else "unavailable"}
    elif path == "/queue":
        body = queue(q)
    elif path.startswith("/case/"):
        body = case(path[6:])
        status = 200 if body else 404
    elif path == "/open311":
        body = open311(q)
    elif path == "/toilets":
        body = toilets(q)
    elif path == "/dashboard":
        body = dashboard(q)
    else:
        status = 404
    data = json.dumps(body, ensure_ascii=False, default=str).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": data})
