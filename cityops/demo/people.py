"""Creates the demo city's people from ``fixtures/people.yaml`` through the services."""

from __future__ import annotations

from pathlib import Path

import yaml
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
