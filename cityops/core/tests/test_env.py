"""The settings schema: safe defaults, and refusal to run insecurely outside DEBUG."""

import subprocess
import sys
from pathlib import Path

import pytest

from config.env import EnvError, check_production, load_env

ROOT = Path(__file__).resolve().parents[3]


def test_development_defaults_are_debug_on_sqlite():
    env = load_env({})
    assert env.debug is True
    assert env.database_url.startswith("sqlite:///")
    assert env.time_zone == "Asia/Shanghai"
    assert check_production(env) == []


def test_production_refuses_default_secret_and_empty_hosts():
    problems = check_production(load_env({"CITYOPS_DEBUG": "false"}))
    assert any("CITYOPS_SECRET_KEY" in p for p in problems)
    assert any("CITYOPS_ALLOWED_HOSTS" in p for p in problems)


def test_production_refuses_wildcard_hosts():
    env = load_env(
        {
            "CITYOPS_DEBUG": "false",
            "CITYOPS_SECRET_KEY": "k" * 10 + "abcdefghij" * 5,
            "CITYOPS_ALLOWED_HOSTS": "*",
        }
    )
    assert [p for p in check_production(env) if "ALLOWED_HOSTS" in p]


def test_production_accepts_a_real_configuration():
    env = load_env(
        {
            "CITYOPS_DEBUG": "false",
            "CITYOPS_SECRET_KEY": "q8W!z2$kLp0vR7mN4xT1cY6bH3jF9sD5gA0eU8iO2wE4rT6yU1iO3pA5sD7fG9hJ",
            "CITYOPS_ALLOWED_HOSTS": "ops.changzhi.example",
        }
    )
    assert check_production(env) == []


def test_bad_boolean_is_a_clear_error():
    with pytest.raises(EnvError, match="CITYOPS_DEBUG must be a boolean"):
        load_env({"CITYOPS_DEBUG": "maybe"})


def test_the_app_refuses_to_start_insecurely():
    """A real process start: Django's settings raise before anything is served."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup()",
        ],
        cwd=ROOT,
        env={"CITYOPS_DEBUG": "false", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "Refusing to start outside DEBUG" in result.stderr


def test_reference_recheck_interval_is_a_non_negative_number():
    assert load_env({}).reference_recheck_seconds == 2.0
    assert load_env({"CITYOPS_REFERENCE_RECHECK_SECONDS": "0"}).reference_recheck_seconds == 0.0
    for bad in ("soon", "-1", "nan"):
        with pytest.raises(EnvError, match="CITYOPS_REFERENCE_RECHECK_SECONDS"):
            load_env({"CITYOPS_REFERENCE_RECHECK_SECONDS": bad})
