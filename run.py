#!/usr/bin/env python3
"""The two commands of the quick start, on a fresh machine with only Python 3.11 (and Node.js).

    python3 run.py start   install, set up the demo city on SQLite, serve http://127.0.0.1:8000
    python3 run.py test    install the test dependencies and run the whole suite
    python3 run.py serve   production: collectstatic, migrate, granian (see docs/deployment.md)

Both create ``.venv`` and install the pinned dependencies from ``pyproject.toml`` (again only when it
changes), and the front-end libraries from ``package-lock.json`` when npm is available.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"


def sh(*cmd: str | Path, env: dict | None = None) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    subprocess.run([str(c) for c in cmd], cwd=ROOT, check=True, env=env)


def ensure_python(extra: str) -> None:
    if sys.version_info < (3, 11):
        sys.exit("cityops needs Python 3.11 or newer.")
    if not PY.exists():
        venv.EnvBuilder(with_pip=True).create(VENV)
    stamp = VENV / f".installed-{extra or 'base'}"
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if stamp.exists() and stamp.read_text() == digest:
        return
    target = f".[{extra}]" if extra else "."
    sh(PY, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", target)
    stamp.write_text(digest)


def ensure_frontend() -> None:
    npm = shutil.which("npm")
    lock = ROOT / "package-lock.json"
    marker = ROOT / "node_modules" / ".package-lock.json"
    if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
        return
    if not npm:
        print("npm not found: maps and charts will be missing until Node.js is installed.", flush=True)
        return
    sh(npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")


def start(args: list[str]) -> None:
    ensure_python("")
    ensure_frontend()
    env = {**os.environ, "CITYOPS_DEMO": os.environ.get("CITYOPS_DEMO", "true")}
    sh(PY, "manage.py", "migrate", "--no-input", "-v", "0", env=env)
    sh(PY, "manage.py", "demo_setup", env=env)
    addr = args[0] if args else "127.0.0.1:8000"
    print(f"\ncityops is starting at http://{addr}/  (demo log-ins are in README.md)\n", flush=True)
    os.execve(str(PY), [str(PY), "manage.py", "runserver", addr], env)


def test(args: list[str]) -> None:
    ensure_python("test")
    ensure_frontend()
    env = {**os.environ}
    env.pop("CITYOPS_DEMO", None)
    cmd = [str(PY), "-m", "pytest", "-n", env.get("CITYOPS_TEST_WORKERS", "auto"), *args]
    print("+", " ".join(cmd), flush=True)
    sys.exit(subprocess.run(cmd, cwd=ROOT, env=env, check=False).returncode)


def serve(args: list[str]) -> None:
    """Production serving: granian, one WSGI worker process per core with one application thread each.

    Measured fastest for this app (docs/deployment.md): its HTTP is parsed in Rust and connections stay
    open between requests. Outside DEBUG the settings refuse to start without CITYOPS_SECRET_KEY and
    CITYOPS_ALLOWED_HOSTS.
    """
    ensure_python("serve")
    env = {**os.environ, "CITYOPS_DEBUG": os.environ.get("CITYOPS_DEBUG", "false")}
    sh(PY, "manage.py", "check", "--deploy", "--fail-level", "ERROR", env=env)
    sh(PY, "manage.py", "collectstatic", "--no-input", "-v", "0", env=env)
    sh(PY, "manage.py", "migrate", "--no-input", "-v", "0", env=env)
    bind = args[0] if args else os.environ.get("CITYOPS_BIND", "127.0.0.1:8000")
    host, _sep, port = bind.rpartition(":")
    workers = os.environ.get("CITYOPS_WORKERS", str(os.cpu_count() or 2))
    cmd = [
        str(PY),
        "-m",
        "granian",
        "--interface",
        "wsgi",
        "--host",
        host.strip("[]") or "127.0.0.1",
        "--port",
        port or "8000",
        "--workers",
        workers,
        # one application thread per process: the app is CPU-bound Python, and threads sharing a
        # process would only take turns on its GIL
        "--blocking-threads",
        "1",
        "--backlog",
        "2048",
        "--no-ws",
        "--respawn-failed-workers",
        "--access-log",
        "config.wsgi:application",
    ]
    print("+", " ".join(cmd), flush=True)
    os.execve(str(PY), cmd, env)


if __name__ == "__main__":
    commands = {"start": start, "test": test, "serve": serve}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](sys.argv[2:])
