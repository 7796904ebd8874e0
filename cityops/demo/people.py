"""Creates the demo city's people from ``fixtures/people.yaml`` through the services."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from pathlib import Path

import yaml
from django.contrib.auth.hashers import make_password
from django.db import transaction

from cityops.accounts.services import user_upsert
from cityops.organization.models import Department
from cityops.organization.services import membership_grant

PEOPLE_FILE = Path(__file__).resolve().parent / "fixtures" / "people.yaml"


@transaction.atomic
def load_people(path: Path = PEOPLE_FILE) -> int:
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    departments = {d.code: d for d in Department.objects.all()}
    for person in data["people"]:
        user = user_upsert(
            username=person["username"],
            name=person.get("name", ""),
            password=data["password"],
            is_superuser=bool(person.get("superuser")),
        )
        for grant in person.get("roles", []):
            try:
                dept = departments[grant["department"]]
            except KeyError as exc:
                raise ValueError(f"{person['username']}: unknown department {grant['department']!r}") from exc
            membership_grant(user=user, department=dept, role=grant["role"])
    return len(data["people"])


def demo_password(path: Path = PEOPLE_FILE) -> str:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8"))["password"]


@dataclass(frozen=True)
class PatrolRules:
    """How the generator staffs the patrols (``patrols`` in ``fixtures/people.yaml``)."""

    department: str
    cases_per_day: float
    demo_inspector_county: str
    surnames: str
    given_names: tuple[str, ...]


def patrol_rules(path: Path = PEOPLE_FILE) -> PatrolRules:
    p = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["patrols"]
    return PatrolRules(
        department=p["department"],
        cases_per_day=float(p["cases_per_day"]),
        demo_inspector_county=str(p["demo_inspector_county"]),
        surnames=p["surnames"],
        given_names=tuple(p["given_names"]),
    )


def patrol_inspector(county: str, index: int, rules: PatrolRules, users: dict):
    """The ``index``-th inspector of the county's patrol, made (with their role) when missing; the demo
    inspector is the first of the demo county's."""
    if county == rules.demo_inspector_county and index == 0 and "demo-inspector" in users:
        return users["demo-inspector"]
    username = f"inspector-{county}-{index + 1:02d}"
    rng = random.Random(username)
    user = user_upsert(username=username, name=rng.choice(rules.surnames) + rng.choice(rules.given_names))
    # the demo password hashed once for every patrol (each hash costs a third of a second, by design)
    user.password = _demo_hash()
    user.save(update_fields=["password"])
    membership_grant(user=user, department=Department.objects.get(code=rules.department), role="inspector")
    return user


@functools.cache
def _demo_hash() -> str:
    return make_password(demo_password())
