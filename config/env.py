"""The one declared environment schema: every setting an operator may change, with a safe default.

Settings read the environment only through ``load_env``, so the full list of knobs is here and
documented in ``docs/configuration.md``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

INSECURE_SECRET_PREFIX = "django-insecure-"  # noqa: S105 (a marker, not a secret)
DEV_SECRET = INSECURE_SECRET_PREFIX + "cityops-development-only-key"


class EnvError(ValueError):
    """A variable is present but cannot be parsed."""


def _bool(name: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise EnvError(f"{name} must be a boolean (true/false), got {raw!r}")


def _float(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError as exc:
        raise EnvError(f"{name} must be a number, got {raw!r}") from exc
    if not value >= 0:
        raise EnvError(f"{name} must be zero or more, got {raw!r}")
    return value


def _whole(name: str, raw: str, *, low: int) -> int:
    try:
        value = int(raw.strip())
    except ValueError as exc:
        raise EnvError(f"{name} must be a whole number, got {raw!r}") from exc
    if value < low:
        raise EnvError(f"{name} must be {low} or more, got {raw!r}")
    return value


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


@dataclass(frozen=True)
class Env:
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    csrf_trusted_origins: list[str]
    database_url: str
    media_root: Path
    static_root: Path
    email_url: str
    default_from_email: str
    time_zone: str
    demo: bool
    log_level: str
    reference_recheck_seconds: float
    db_prepare: bool
    max_request_mb: int
    public_figures_seconds: int

    @property
    def secret_is_insecure(self) -> bool:
        return (
            self.secret_key.startswith(INSECURE_SECRET_PREFIX)
            or len(self.secret_key) < 50
            or len(set(self.secret_key)) < 5
        )

    @property
    def hosts_are_insecure(self) -> bool:
        return not self.allowed_hosts or "*" in self.allowed_hosts


def load_env(environ: dict[str, str] | None = None) -> Env:
    """Read the schema from ``environ`` (the process environment by default)."""
    e = os.environ if environ is None else environ
    debug = _bool("CITYOPS_DEBUG", e.get("CITYOPS_DEBUG", "true"))
    return Env(
        debug=debug,
        secret_key=e.get("CITYOPS_SECRET_KEY", DEV_SECRET),
        allowed_hosts=_list(e.get("CITYOPS_ALLOWED_HOSTS", "127.0.0.1,localhost" if debug else "")),
        csrf_trusted_origins=_list(e.get("CITYOPS_CSRF_TRUSTED_ORIGINS", "")),
        database_url=e.get("DATABASE_URL", "") or f"sqlite:///{BASE_DIR / 'var' / 'cityops.sqlite3'}",
        media_root=Path(e.get("CITYOPS_MEDIA_ROOT", str(BASE_DIR / "var" / "media"))),
        static_root=Path(e.get("CITYOPS_STATIC_ROOT", str(BASE_DIR / "var" / "static"))),
        email_url=e.get("CITYOPS_EMAIL_BACKEND", "console"),
        default_from_email=e.get("CITYOPS_FROM_EMAIL", "cityops@localhost"),
        time_zone=e.get("CITYOPS_TIME_ZONE", "Asia/Shanghai"),
        demo=_bool("CITYOPS_DEMO", e.get("CITYOPS_DEMO", "false")),
        log_level=e.get("CITYOPS_LOG_LEVEL", "INFO"),
        reference_recheck_seconds=_float(
            "CITYOPS_REFERENCE_RECHECK_SECONDS", e.get("CITYOPS_REFERENCE_RECHECK_SECONDS", "2")
        ),
        db_prepare=_bool("CITYOPS_DB_PREPARE", e.get("CITYOPS_DB_PREPARE", "true")),
        # 9 photos of at most 15 MB (a report, an action) and the form around them
        max_request_mb=_whole("CITYOPS_MAX_REQUEST_MB", e.get("CITYOPS_MAX_REQUEST_MB", "150"), low=1),
        # the public figures page aggregates up to a year of cases: computed at most this often
        public_figures_seconds=_whole(
            "CITYOPS_PUBLIC_FIGURES_SECONDS", e.get("CITYOPS_PUBLIC_FIGURES_SECONDS", "300"), low=0
        ),
    )


def check_production(env: Env) -> list[str]:
    """Reasons the configuration is unsafe outside DEBUG (empty when it is fine)."""
    if env.debug:
        return []
    problems = []
    if env.secret_is_insecure:
        problems.append(
            "CITYOPS_SECRET_KEY is missing or insecure: set a random value of at least 50 characters."
        )
    if env.hosts_are_insecure:
        problems.append("CITYOPS_ALLOWED_HOSTS is empty or contains '*': list the host names served.")
    return problems
