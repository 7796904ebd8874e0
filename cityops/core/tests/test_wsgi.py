"""The production WSGI entry point: Django set up, and its start-up objects frozen for the collector."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_wsgi_application_loads_and_freezes_startup_objects():
    code = (
        "import gc; assert gc.get_freeze_count() == 0; import config.wsgi as w; "
        "print(callable(w.application), gc.get_freeze_count())"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded, frozen = out.stdout.split()
    assert loaded == "True"
    assert int(frozen) > 20_000  # Django, its apps and the platform's modules
