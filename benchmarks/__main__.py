"""``python -m benchmarks --scale N --db sqlite|postgres --out results.json``

Seeds a database at the given scale (reused when it already holds the cases), starts the real server
(granian, as in production) and the raw baseline (uvicorn), drives both over loopback with
``loadgen`` and writes JSON results plus a short text table. Every load run is bounded in time and
count. See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from benchmarks import loadgen

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
BEIJING = (39.90, 116.40)  # outside the city: a report there is refused
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")


def log(msg: str) -> None:
    print(msg, flush=True)


def db_url(db: str, scale: int) -> str:
    if db == "sqlite":
        return f"sqlite:////tmp/bench-{scale}.sqlite3"
    return f"{PG_BASE}/bench_{scale}"


def django_env(url: str, **extra) -> dict:
    env = {**os.environ, "DATABASE_URL": url, "CITYOPS_DEMO": "true", "CITYOPS_LOG_LEVEL": "WARNING"}
    env.update(extra)
    return env


def manage(env: dict, *args: str, capture: bool = False) -> str:
    out = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        stdout=subprocess.PIPE if capture else None,
    )
    return out.stdout or ""


def seed(db: str, scale: int, days: int) -> dict:
    url = db_url(db, scale)
    if db == "postgres":
        name = f"bench_{scale}"
        exists = subprocess.run(
            ["psql", PG_BASE + "/postgres", "-tAc", f"SELECT 1 FROM pg_database WHERE datname='{name}'"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        if not exists:
            subprocess.run(["psql", PG_BASE + "/postgres", "-c", f"CREATE DATABASE {name}"], check=True)
    env = django_env(url)
    t0 = time.monotonic()
    manage(env, "migrate", "--no-input", "-v", "0")
    manage(env, "demo_setup", "--cases", "0", "-v", "0")
    have = int(manage(env, "shell", "-c", COUNT, capture=True).strip().splitlines()[-1].split()[0])
    t1 = time.monotonic()
    manage(env, "demo_generate", "--bulk", "--cases", str(scale), "--days", str(days))
    t2 = time.monotonic()
    # the dashboard and the rankings read the past from daily snapshots, as the nightly and hourly
    # timers leave them in production: every day of the span (61 days until 2026-11-30, so that a
    # first look at a longer period, such as the year to date, computed the rest: 20 s on SQLite).
    # A reused seed computes only the days that are not usable (and today), as the timer does: all
    # of them again rewrote 30,000 rows before every run, and PostgreSQL vacuumed them during it.
    snapshot = ["evaluation_snapshot", "--days", str(days)]
    manage(env, *snapshot, *(["--recompute"] if have < scale else []))
    t3 = time.monotonic()
    if db == "postgres" and have < scale:
        # A freshly written PostgreSQL database is vacuumed by autovacuum later, during the runs:
        # seen as every scenario of a run on a new seed slowing down, the raw app's too (toilets
        # 4,456 -> 2,037 req/s). Done here once, as a live database has long had it done.
        subprocess.run(["psql", url, "-qc", "VACUUM (ANALYZE)"], check=True)
    t4 = time.monotonic()
    run_url, copy_seconds = working_copy(db, scale)
    return {
        "url": run_url,
        "seed_url": url,
        "copy_seconds": copy_seconds,
        "setup_seconds": round(t1 - t0, 1),
        "generate_seconds": round(t2 - t1, 1),
        "snapshot_seconds": round(t3 - t2, 1),
        "vacuum_seconds": round(t4 - t3, 1),
        # a database that already held the cases was reused: its seeding times are not a seeding
        "reused": have >= scale,
    }


def working_copy(db: str, scale: int) -> tuple[str, float]:
    """A fresh copy of the seeded database for this run, and the seconds it took.

    The intake scenarios add thousands of cases dated today. Run on the seed itself, every later run
    started from a bigger city, and the dashboard's live "today" grew with each run (1M seed: 99, 148,
    then 202 ms of CPU per view). Each run now starts from the seed as it was made.
    """
    t0 = time.monotonic()
    if db == "sqlite":
        import sqlite3

        src = db_url(db, scale).removeprefix("sqlite:///")
        dst = src.removesuffix(".sqlite3") + "-run.sqlite3"
        for suffix in ("", "-wal", "-shm", "-writers.lock"):
            Path(dst + suffix).unlink(missing_ok=True)
        with sqlite3.connect(src) as source, sqlite3.connect(dst) as target:
            source.backup(target)
        url = f"sqlite:///{dst}"
    else:
        seed_name, run_name = f"bench_{scale}", f"bench_{scale}_run"
        admin = PG_BASE + "/postgres"
        subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {run_name}"], check=True)
        subprocess.run(
            ["psql", admin, "-qc", f"CREATE DATABASE {run_name} TEMPLATE {seed_name} STRATEGY FILE_COPY"],
            check=True,
        )
        url = f"{PG_BASE}/{run_name}"
    return url, round(time.monotonic() - t0, 1)


PREP = r"""
import json, random
from django.contrib.auth import get_user_model
from django.test import Client
from rest_framework.authtoken.models import Token
from cityops.cases.models import Case
from cityops.facilities.models import Facility
U = get_user_model()
insp = U.objects.get(username="demo-inspector")
token, _ = Token.objects.get_or_create(user=insp)
c = Client()
c.force_login(U.objects.get(username="demo-dispatcher"))
leader = Client()
leader.force_login(U.objects.get(username="demo-leader"))
n = Case.objects.count()
ids = random.Random(1).sample(range(1, Case.objects.order_by("-pk").values_list("pk", flat=True)[0] + 1), 200)
numbers = list(Case.objects.filter(pk__in=ids).values_list("number", flat=True))
points = list(Facility.objects.values_list("lat", "lon")[:50])
from cityops.open311.models import ApiKey
ApiKey.objects.update_or_create(key="bench-open311-key", defaults={"name": "benchmarks", "rate_per_minute": 10**9})
# A signed-in browser also carries the CSRF cookie it got with its first form; without it, every
# page made a new CSRF secret and set the cookie again (two 32-character random strings a request).
c.get("/cases/", HTTP_HOST="127.0.0.1")
leader.get("/dashboard/", HTTP_HOST="127.0.0.1")
def cookie(client):
    return "; ".join(f"{k}={client.cookies[k].value}" for k in ("sessionid", "csrftoken") if k in client.cookies)
print(json.dumps({"token": token.key, "session": c.cookies["sessionid"].value, "cases": n,
                  "cookie": cookie(c), "leader_cookie": cookie(leader),
                  "leader_session": leader.cookies["sessionid"].value,
                  "numbers": numbers, "points": points}))
"""

COUNT = "from cityops.cases.models import Case; print(Case.objects.count(), Case.objects.values('number').distinct().count())"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def listeners(port: int) -> int:
    """How many sockets listen on ``port`` (Linux, /proc/net/tcp): one per worker for granian, whose
    workers each bind their own (SO_REUSEPORT)."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return 1
    n = 0
    for line in table.read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        n += state == "0A" and int(local.rsplit(":", 1)[1], 16) == port
    return n


def wait_ready(port: int, server: str, workers: int, timeout: float = 60) -> None:
    """Wait until every worker takes connections: a run that starts while one granian worker is still
    loading sends every connection to the other for the whole run (keep-alive holds them)."""
    wait_port(port, timeout)
    want = workers if server == "granian" else 1
    end = time.monotonic() + timeout
    while listeners(port) < want:
        if time.monotonic() > end:
            raise RuntimeError(f"{listeners(port)} of {want} workers listen on {port}")
        time.sleep(0.1)


def start_platform(env: dict, port: int, server: str, workers: int) -> subprocess.Popen:
    if server == "granian":
        cmd = [
            PY,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--no-ws",
            "--blocking-threads",
            "1",
            "--backlog",
            "2048",
            "--log-level",
            "warning",
            "config.wsgi:application",
        ]
    else:
        cmd = [
            PY,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--log-level",
            "warning",
            "--backlog",
            "2048",
        ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def start_raw(url: str, port: int, workers: int) -> subprocess.Popen:
    db = url.replace("sqlite:///", "") if url.startswith("sqlite") else url
    env = {**os.environ, "BENCH_DB": db}
    # not ``uvicorn --workers``: its listener leaves Nagle on for keep-alive (see raw_serve)
    cmd = [PY, "-m", "benchmarks.raw_serve", str(port), str(workers)]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def scenarios(prep: dict) -> dict:
    token = {"Authorization": f"Token {prep['token']}", "Content-Type": "application/json"}
    cookie = {"Cookie": prep["cookie"]}
    rng = random.Random(5)
    types = ["07001", "06010", "09009", "09001", "06013"]
    numbers = prep["numbers"]
    points = prep["points"] or [(36.195, 113.117)]

    # Intake is warmed with reports from outside the city: refused (400) after the same validation,
    # so the workers load their caches (catalogue, area index) and no case is created.
    def intake_api(i, lat=36.19, lon=113.10):
        body = json.dumps(
            {
                "type": types[i % len(types)],
                "description": f"基准测试上报 {i}",
                "source": "inspector",
                "lat": lat + rng.random() * 0.02,
                "lon": lon + rng.random() * 0.03,
                "address": "英雄中路",
            }
        ).encode()
        return "POST", "/api/v1/cases", token, body

    def intake_open311(i, lat=36.19, lon=113.10):
        body = urlencode(
            {
                "api_key": "bench-open311-key",
                "service_code": types[i % len(types)],
                "description": f"市民反映 {i}",
                "lat": lat + rng.random() * 0.02,
                "long": lon + rng.random() * 0.03,
                "address_string": "太行东街",
            }
        ).encode()
        return (
            "POST",
            "/open311/v2/requests.json",
            {"Content-Type": "application/x-www-form-urlencoded"},
            body,
        )

    def queue(i):
        return "GET", f"/cases/?queue=in_handling&type={types[i % len(types)]}", cookie, b""

    def raw_queue(i):
        return "GET", f"/queue?type={types[i % len(types)]}", {}, b""

    def case_page(i):
        return "GET", f"/cases/{numbers[i % len(numbers)]}/", cookie, b""

    def raw_case(i):
        return "GET", f"/case/{numbers[i % len(numbers)]}", {}, b""

    def case_floor(i):
        return "GET", f"/bench/case-floor/{numbers[i % len(numbers)]}/", cookie, b""

    def o311(i):
        return (
            "GET",
            f"/open311/v2/requests.json?status=open&service_code={types[i % len(types)]}&page_size=50",
            {},
            b"",
        )

    def raw_o311(i):
        return "GET", f"/open311?service_code={types[i % len(types)]}", {}, b""

    dash_cookie = {"Cookie": prep["leader_cookie"]}

    def dashboard(i):
        return "GET", "/dashboard/", dash_cookie, b""

    def raw_dashboard(i):
        return "GET", "/dashboard", {}, b""

    def toilets(i):
        lat, lon = points[i % len(points)]
        return "GET", f"/api/v1/toilets/nearest?lat={lat + 0.003:.5f}&lon={lon - 0.002:.5f}", {}, b""

    def raw_toilets(i):
        lat, lon = points[i % len(points)]
        return "GET", f"/toilets?lat={lat + 0.003:.5f}&lon={lon - 0.002:.5f}", {}, b""

    def health(i):
        return "GET", "/healthz", {}, b""

    def raw_health(i):
        return "GET", "/health", {}, b""

    return {
        # the framework's floor: the least a request through the platform can cost (one SELECT 1),
        # against the same in the raw app; no read scenario can reach a better ratio than this one
        "health": (health, raw_health, health),
        "intake_api": (intake_api, None, lambda i: intake_api(i, BEIJING[0], BEIJING[1])),
        "intake_open311": (intake_open311, None, lambda i: intake_open311(i, BEIJING[0], BEIJING[1])),
        "queue": (queue, raw_queue, queue),
        "case_page": (case_page, raw_case, case_page),
        # the case page without its rendering (benchmarks/floor.py): the best ratio a case page can reach
        "case_floor": (case_floor, raw_case, case_floor),
        "open311_get": (o311, raw_o311, o311),
        "toilets": (toilets, raw_toilets, toilets),
        "dashboard": (dashboard, raw_dashboard, dashboard),
    }


def yardstick() -> float:
    """CPU seconds of a fixed pure-Python loop (best of three): how fast this machine runs Python now.

    A shared or throttled machine ran the same code at half the speed from one day to the next (this
    loop: 0.13 s one day, 0.30 s the next). Recorded at the start and the end of a run, it tells whether
    two results can be compared at all, and by how much to scale one to the other."""
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        sum(i * i for i in range(3 * 10**6))
        best = min(best, time.process_time() - t0)
    return round(best, 3)


def _tree_cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a server process and its workers, from /proc (Linux).

    CPU per request is the figure that a busy machine does not bend: latency and throughput move with
    whatever else runs, the work a request costs does not."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                todo.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total


def warm_up(port: int, make) -> None:
    """One second of requests that create nothing, so workers have loaded their caches."""
    asyncio.run(
        loadgen.run(
            host="127.0.0.1", port=port, make_request=make, concurrency=4, duration=1.0, max_requests=50
        )
    )


def drive(port: int, make, concurrency: int, duration: float, max_requests: int, workers: int) -> dict:
    spread = (workers, lambda ports: owners_of(port, ports)) if shutil.which("ss") else None
    res = asyncio.run(
        loadgen.run(
            host="127.0.0.1",
            port=port,
            make_request=make,
            concurrency=concurrency,
            duration=duration,
            max_requests=max_requests,
            spread=spread,
        )
    )
    return res.summary()


def _established(port: int) -> list[tuple[int, str | None]]:
    """The connections to ``port``: the client's port and the server process holding it (``ss``; no
    process while the connection waits to be accepted)."""
    out = subprocess.run(
        ["ss", "-tnpH", "state", "established", f"( sport = :{port} )"], capture_output=True, text=True
    ).stdout
    found = []
    for line in out.splitlines():
        cols = line.split()  # Recv-Q, Send-Q, local address, peer address, process
        if len(cols) < 4:
            continue
        peer = cols[3]
        owner = line.split("pid=", 1)[1].split(",", 1)[0] if "pid=" in line else None
        found.append((int(peer.rsplit(":", 1)[1]), owner))
    return found


def owners_of(port: int, client_ports: list[int]) -> list[str | None]:
    """Which server process holds each of the clients' connections to ``port`` (None: not yet)."""
    held = dict(_established(port))
    return [held.get(p) for p in client_ports]


def connections_per_worker(port: int) -> list[int]:
    """How the open connections to ``port`` are spread over the server's processes, most first (``ss``).

    With keep-alive a connection stays with the worker that accepted it, and the kernel places new
    connections by address, not by load: a run whose 16 connections split 12/4 has the clients of the
    busier worker wait three times as long, which shows in p95 while throughput holds. Recorded so
    a tail latency can be read against the split it ran on.
    """
    if not shutil.which("ss"):
        return []
    counts: dict[str, int] = {}
    for _client, owner in _established(port):
        if owner is not None:
            counts[owner] = counts.get(owner, 0) + 1
    return sorted(counts.values(), reverse=True)


def measured(pid: int, port: int, make, warm, clients: int, a) -> dict:
    """Warm up, then drive ``make`` and add the server's CPU time per request and, sampled halfway,
    how the clients' connections are spread over the workers."""
    warm_up(port, warm)
    split: list[int] = []
    sampler = threading.Timer(a.duration / 2, lambda: split.extend(connections_per_worker(port)))
    sampler.start()
    cpu0 = _tree_cpu_seconds(pid)
    summary = drive(port, make, clients, a.duration, a.max_requests, a.workers)
    cpu = _tree_cpu_seconds(pid) - cpu0
    sampler.cancel()
    summary["cpu_ms_per_request"] = round(cpu * 1000 / summary["requests"], 2) if summary["requests"] else 0.0
    summary["connections_per_worker"] = split
    return summary


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n\n")[0])
    p.add_argument("--scale", type=int, default=10_000)
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    p.add_argument("--out", default="")
    p.add_argument("--days", type=int, default=365)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument(
        "--dashboard-concurrency",
        type=int,
        default=2,
        help="clients on the dashboard (a few leaders and the duty chief watch it, not 16 at once)",
    )
    p.add_argument("--duration", type=float, default=10.0, help="seconds per scenario run")
    p.add_argument("--max-requests", type=int, default=20_000)
    p.add_argument("--server", choices=["granian", "gunicorn"], default="granian")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    p.add_argument("--only", default="", help="comma-separated scenarios")
    p.add_argument("--seed-only", action="store_true")
    a = p.parse_args()

    log(f"seeding {a.scale} cases on {a.db} ...")
    seeded = seed(a.db, a.scale, a.days)
    log(f"  setup {seeded['setup_seconds']}s, generate {seeded['generate_seconds']}s")
    if a.seed_only:
        return
    url = seeded["url"]
    env = django_env(
        url,
        CITYOPS_DEBUG="false",
        CITYOPS_SECRET_KEY=secrets.token_urlsafe(48),
        CITYOPS_ALLOWED_HOSTS="127.0.0.1,localhost",
    )
    manage(env, "collectstatic", "--no-input", "-v", "0")
    speed_before = yardstick()
    prep = json.loads(manage(env, "shell", "-c", PREP, capture=True).strip().splitlines()[-1])
    before = manage(env, "shell", "-c", COUNT, capture=True).strip().splitlines()[-1].split()
    port, raw_port = free_port(), free_port()
    server = start_platform(
        {**env, "DJANGO_SETTINGS_MODULE": "benchmarks.floor_settings"}, port, a.server, a.workers
    )
    raw = start_raw(url, raw_port, a.workers)
    results: dict = {}
    try:
        wait_ready(port, a.server, a.workers)
        wait_port(raw_port)
        only = set(filter(None, a.only.split(",")))
        for name, (make, raw_make, warm_make) in scenarios(prep).items():
            if only and name not in only:
                continue
            log(f"scenario {name} ...")
            clients = a.dashboard_concurrency if name == "dashboard" else a.concurrency
            r = {"concurrency": clients, "platform": measured(server.pid, port, make, warm_make, clients, a)}
            if raw_make is not None:
                r["raw"] = measured(raw.pid, raw_port, raw_make, raw_make, clients, a)
                r["ratio"] = round(r["platform"]["throughput"] / max(r["raw"]["throughput"], 0.1), 3)
            results[name] = r
    finally:
        for proc in (server, raw):
            proc.terminate()
        for proc in (server, raw):
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
    speed_after = yardstick()
    after = manage(env, "shell", "-c", COUNT, capture=True).strip().splitlines()[-1].split()
    made = sum(
        r["platform"]["statuses"].get("201", 0) + r["platform"]["statuses"].get("200", 0)
        for n, r in results.items()
        if n.startswith("intake")
    )
    integrity = {
        "cases_before": int(before[0]),
        "cases_after": int(after[0]),
        "created_ok_responses": made,
        "lost_or_duplicated": int(after[0]) - int(before[0]) - made,
        "numbers_unique": after[0] == after[1],
    }
    out = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "processor": platform.processor() or platform.machine(),
            # CPU seconds of benchmarks.__main__.yardstick's loop before and after the run (lower: faster)
            "yardstick_s": [speed_before, speed_after],
        },
        "scale": a.scale,
        "database": a.db,
        "server": a.server,
        "workers": a.workers,
        "concurrency": a.concurrency,
        "duration_s": a.duration,
        "seeding": seeded,
        "integrity": integrity,
        "scenarios": results,
        "at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    path = Path(a.out or ROOT / "benchmarks" / "results" / f"{a.db}-{a.scale}.json")
    path.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    table = render_table(out)
    path.with_suffix(".txt").write_text(table + "\n")
    log(table)


def render_table(out: dict) -> str:
    speed = out["machine"].get("yardstick_s")
    lines = [
        f"{out['database']} {out['scale']} cases, {out['server']} x{out['workers']}, "
        f"{out['concurrency']} clients, {out['machine']['cpus']} cpus"
        + (f", yardstick {speed[0]}/{speed[1]} s" if speed else ""),
        f"{'scenario':<16}{'clients':>8}{'req/s':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'err':>6}{'cpu ms':>8}"
        f"{'split':>7}{'raw req/s':>11}{'raw p95':>9}{'raw cpu':>8}{'ratio':>7}",
    ]
    for name, r in out["scenarios"].items():
        pl, rw = r["platform"], r.get("raw")
        lines.append(
            f"{name:<16}{r.get('concurrency', out['concurrency']):>8}{pl['throughput']:>9}{pl['p50_ms']:>8}"
            f"{pl['p95_ms']:>8}{pl['p99_ms']:>8}{pl['errors']:>6}{pl.get('cpu_ms_per_request', ''):>8}"
            f"{'/'.join(map(str, pl.get('connections_per_worker') or [])) or '-':>7}"
            + (
                f"{rw['throughput']:>11}{rw['p95_ms']:>9}{rw.get('cpu_ms_per_request', ''):>8}{r['ratio']:>7}"
                if rw
                else ""
            )
        )
    i = out["integrity"]
    lines.append(
        f"intake integrity: {i['created_ok_responses']} created, lost or duplicated {i['lost_or_duplicated']}, "
        f"numbers unique {i['numbers_unique']}"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
