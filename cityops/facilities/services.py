"""Every write of the facilities app: the registry, templates, and inspections with their cases.

The inspection loop (documented in docs/facilities.md):

* a failed item with no open issue opens a case (source ``inspection``, component 03001, at the
  facility), which the platform files under the item's condition and dispatches to the facility's
  managing department, both as ``SYSTEM``; a ``FacilityIssue`` links facility, item and case;
* a failed item whose case is still open is not opened twice: the issue counts the failure; when the
  case waits for its check (``to_check``) the inspector's failure is the failed check (rework);
* a passed item whose case waits for its check passes the check (``check_pass`` as the inspector) and
  resolves the issue; the duty chief closes the case. When the department still holds the case, the
  pass is noted on the issue (``passing_since``) and the case is left alone: the department reports it
  done, and the next inspection checks it. An issue whose case ended elsewhere is resolved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext as _

from cityops.cases.choices import ENDED_STATES, Kind, Source, State
from cityops.cases.models import Case
from cityops.cases.services import SYSTEM, ActionInput, ReportInput, case_act, case_report
from cityops.catalog import selectors as catalog
from cityops.catalog.codes import parse_component_identifier
from cityops.core.errors import DomainError, NotAllowed, OutsideCity
from cityops.core.files import files_removed_on_failure, stored
from cityops.core.images import clean_image
from cityops.facilities import rules
from cityops.facilities.choices import (
    TOILET_KINDS,
    TOILET_TYPE_CODE,
    FacilityKind,
    StationService,
    ToiletClass,
    ToiletType,
)
from cityops.facilities.models import (
    ChecklistItem,
    Facility,
    FacilityIssue,
    FacilityService,
    Inspection,
    InspectionResult,
    InspectionTemplate,
)
from cityops.geography.selectors import locate
from cityops.organization.choices import Role
from cityops.organization.models import Department
from cityops.organization.selectors import roles_of

TEMPLATES_FILE = Path(__file__).resolve().parent / "fixtures" / "inspection_templates.yaml"


# ------------------------------------------------------------------------------------------------
# the registry


@dataclass(frozen=True)
class FacilityInput:
    code: str
    name: str
    lat: float
    lon: float
    department: str  # department code
    kind: str = FacilityKind.TOILET
    address: str = ""
    toilet_type: str = ""
    toilet_class: str = ""
    cubicles_male: int = 0
    cubicles_female: int = 0
    urinals: int = 0
    accessible: bool = False
    third_washroom: bool = False
    opening_hours: str = "06:00-22:00"
    free: bool = True
    inspection_interval_days: int | None = None
    is_active: bool = True
    note: str = ""
    # Station services: service -> in place (a row exists for every planned service).
    services: dict[str, bool] = field(default_factory=dict)


def facility_problems(
    data: FacilityInput, *, now: datetime, departments: dict[str, Department] | None = None
) -> tuple[list[tuple[str, str]], dict[str, Any]]:
    """(field, message) problems of ``data``, and the derived values (department, county, township)."""
    problems: list[tuple[str, str]] = []
    derived: dict[str, Any] = {}
    try:
        ident = parse_component_identifier(data.code)
    except ValueError as exc:
        problems.append(("code", str(exc)))
        ident = None
    if ident and data.kind in TOILET_KINDS and ident.type_code != TOILET_TYPE_CODE:
        problems.append(
            ("code", _("A public toilet's code has the type code %(code)s.") % {"code": TOILET_TYPE_CODE})
        )
    if not (data.name or "").strip():
        problems.append(("name", _("This cell is required.")))
    if data.kind not in FacilityKind.values:
        problems.append(("kind", _("Unknown kind: %(value)s.") % {"value": data.kind}))
    if data.toilet_type and data.toilet_type not in ToiletType.values:
        problems.append(("toilet_type", _("Unknown toilet type: %(value)s.") % {"value": data.toilet_type}))
    if data.toilet_class and data.toilet_class not in ToiletClass.values:
        problems.append(("toilet_class", _("The class is 1, 2 or 3.")))
    for name in ("cubicles_male", "cubicles_female", "urinals"):
        value = getattr(data, name)
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 500:
            problems.append((name, _("A whole number from 0 to 500.")))
    if data.inspection_interval_days is not None and not 1 <= data.inspection_interval_days <= 365:
        problems.append(("inspection_interval_days", _("A whole number of days from 1 to 365.")))
    try:
        rules.parse_hours(data.opening_hours)
    except rules.OpeningHoursError as exc:
        problems.append(("opening_hours", str(exc)))
    for service in data.services:
        if service not in StationService.values:
            problems.append(("services", _("Unknown station service: %(value)s.") % {"value": service}))
    if departments is None:
        dept = Department.objects.filter(code=data.department, is_active=True).first()
    else:
        dept = departments.get(data.department)
    if dept is None:
        problems.append(
            ("department", _("No active department with code %(code)s.") % {"code": data.department})
        )
    derived["department"] = dept
    try:
        where = locate(data.lat, data.lon, at=now)
    except (OutsideCity, DomainError, TypeError, ValueError) as exc:
        problems.append(("position", getattr(exc, "message", str(exc))))
    else:
        derived["county_code"] = where.county.code if where.county else ""
        derived["township_code"] = where.township.code if where.township else ""
        if ident and where.county and ident.adcode != where.county.code:
            problems.append(
                (
                    "code",
                    _("The code starts with %(code)s but the position lies in %(county)s (%(county_code)s).")
                    % {"code": ident.adcode, "county": where.county.name, "county_code": where.county.code},
                )
            )
    return problems, derived


def _apply(facility: Facility, data: FacilityInput, derived: dict, now: datetime) -> None:
    facility.name = data.name.strip()[:100]
    facility.kind = data.kind
    facility.address = (data.address or "").strip()[:200]
    facility.lat, facility.lon = float(data.lat), float(data.lon)
    facility.county_code = derived.get("county_code", "")
    facility.township_code = derived.get("township_code", "")
    facility.toilet_type = data.toilet_type
    facility.toilet_class = data.toilet_class
    facility.cubicles_male = data.cubicles_male
    facility.cubicles_female = data.cubicles_female
    facility.urinals = data.urinals
    facility.accessible = bool(data.accessible)
    facility.third_washroom = bool(data.third_washroom)
    facility.opening_hours = " ".join(data.opening_hours.split())
    facility.free = bool(data.free)
    facility.department = derived["department"]
    facility.inspection_interval_days = data.inspection_interval_days
    facility.is_active = bool(data.is_active)
    facility.note = data.note or ""
    facility.updated_at = now


def _save_services(facility: Facility, services: dict[str, bool]) -> None:
    existing = {s.service: s for s in facility.services.all()}
    for service, in_place in services.items():
        row = existing.pop(service, None)
        if row is None:
            FacilityService.objects.create(facility=facility, service=service, in_place=bool(in_place))
        elif row.in_place != bool(in_place):
            row.in_place = bool(in_place)
            row.save(update_fields=["in_place"])
    for row in existing.values():
        row.delete()


def facility_save(*, data: FacilityInput, actor=None, now: datetime) -> Facility:
    """Create or update the facility with ``data.code``; refuses with every problem named."""
    problems, derived = facility_problems(data, now=now)
    if problems:
        raise DomainError("; ".join(f"{f}: {m}" for f, m in problems), code="facility")
    with transaction.atomic():
        facility = Facility.objects.select_for_update().filter(code=data.code).first()
        if facility is None:
            facility = Facility(code=data.code, created_at=now)
        _apply(facility, data, derived, now)
        facility.save()
        _save_services(facility, data.services)
    return facility


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)


def facilities_import(*, content: bytes, actor=None, now: datetime) -> ImportResult:
    """Import the registry workbook: every row is checked first; one bad row and nothing is written."""
    from cityops.facilities import xlsx

    rows, errors = xlsx.read_registry(content)
    result = ImportResult(errors=list(errors))
    departments = {d.code: d for d in Department.objects.filter(is_active=True)}
    seen: dict[str, int] = {}
    checked: list[tuple[FacilityInput, dict]] = []
    for number, data in rows:
        if data.code in seen:
            result.errors.append(
                RowError(number, "code", _("Duplicate: also on row %(row)s.") % {"row": seen[data.code]})
            )
            continue
        seen[data.code] = number
        problems, derived = facility_problems(data, now=now, departments=departments)
        result.errors.extend(RowError(number, f, m) for f, m in problems)
        checked.append((data, derived))
    if result.errors:
        return result
    with transaction.atomic():
        existing = {f.code: f for f in Facility.objects.select_for_update().filter(code__in=list(seen))}
        for data, derived in checked:
            facility = existing.get(data.code)
            if facility is None:
                facility = Facility(code=data.code, created_at=now)
                result.created += 1
            else:
                result.updated += 1
            _apply(facility, data, derived, now)
            facility.save()
            _save_services(facility, data.services)
    return result


# ------------------------------------------------------------------------------------------------
# templates


@transaction.atomic
def templates_load(*, path: Path = TEMPLATES_FILE) -> int:
    """Create or update templates and their items by key from a YAML file. Returns the item count."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    n = 0
    for t in data.get("templates", []):
        kinds = list(t.get("kinds") or [])
        bad = [k for k in kinds if k not in FacilityKind.values]
        if bad:
            raise DomainError(
                _("Unknown facility kind: %(value)s.") % {"value": ", ".join(bad)}, code="kinds"
            )
        template, _created = InspectionTemplate.objects.update_or_create(
            key=t["key"],
            defaults={
                "name": t["name"],
                "kinds": kinds,
                "interval_days": int(t.get("interval_days", 7)),
                "is_active": bool(t.get("active", True)),
                "note": t.get("note", ""),
            },
        )
        for order, item in enumerate(t.get("items", []), 1):
            # An item switched on or off in the admin keeps that switch when the file is loaded again.
            row, _created = ChecklistItem.objects.get_or_create(
                template=template,
                key=item["key"],
                defaults={"order": order, "is_active": bool(item.get("active", True))},
            )
            row.name = item["name"]
            row.description = item.get("description", "")
            row.order = order
            row.core = bool(item.get("core", True))
            row.supplies = bool(item.get("supplies", False))
            row.condition_ref = item.get("condition", "")
            row.save()
            n += 1
    return n


# ------------------------------------------------------------------------------------------------
# inspections


@dataclass(frozen=True)
class ItemAnswer:
    item: str  # checklist item key
    passed: bool
    note: str = ""
    photo: Any = None  # an uploaded file


@dataclass
class InspectionOutcome:
    inspection: Inspection
    opened: list[str] = field(default_factory=list)  # new cases
    repeated: list[str] = field(default_factory=list)  # failures added to open cases
    checked: list[str] = field(default_factory=list)  # cases whose check this inspection passed
    noted: list[str] = field(default_factory=list)  # passes noted while the department holds the case


class _Upload:
    """A cleaned photo handed on to the case intake (which cleans it again, harmlessly)."""

    def __init__(self, data: bytes, name: str):
        self._data, self.size, self.name = data, len(data), name

    def read(self) -> bytes:
        return self._data


def _condition_for(item: ChecklistItem) -> str:
    refs = [c.ref for c in catalog.conditions_for(Kind.COMPONENT, TOILET_TYPE_CODE)]
    return item.condition_ref if item.condition_ref in refs else ""


def _open_case(facility: Facility, item: ChecklistItem, answer: ItemAnswer, photo: bytes | None, actor, now):
    description = _("Inspection of %(facility)s (%(code)s): %(item)s failed.") % {
        "facility": facility.name,
        "code": facility.code,
        "item": item.name,
    }
    if answer.note:
        description += " " + answer.note.strip()
    case = case_report(
        data=ReportInput(
            source=Source.INSPECTION,
            kind=Kind.COMPONENT,
            type_code=TOILET_TYPE_CODE,
            description=description[:2000],
            lat=facility.lat,
            lon=facility.lon,
            address=facility.address or facility.name,
        ),
        photos=[_Upload(photo, "failure.jpg")] if photo else [],
        actor=actor,
        now=now,
    )
    case_act(
        number=case.number,
        data=ActionInput(action="file", condition=_condition_for(item), inspector=actor.pk),
        actor=SYSTEM,
        now=now,
    )
    case_act(
        number=case.number,
        data=ActionInput(action="dispatch", department=facility.department.code),
        actor=SYSTEM,
        now=now,
    )
    return case


def template_for(facility: Facility) -> InspectionTemplate | None:
    """The active template for the facility's kind (the first by key when several apply)."""
    for t in InspectionTemplate.objects.filter(is_active=True).order_by("key"):
        if facility.kind in (t.kinds or []):
            return t
    return None


def inspection_submit(
    *,
    facility: str,
    answers: Iterable[ItemAnswer],
    actor,
    now: datetime,
    lat: float | None = None,
    lon: float | None = None,
    note: str = "",
) -> InspectionOutcome:
    """Record an inspection of the facility with code ``facility`` and run the case loop for its items."""
    if Role.INSPECTOR not in roles_of(actor):
        raise NotAllowed(_("Only inspectors inspect facilities."), code="not_inspector")
    answers = list(answers)
    # the photos of failed items and of the cases they open are removed if the inspection fails
    with files_removed_on_failure(), transaction.atomic():
        fac = (
            Facility.objects.select_for_update()
            .select_related("department")
            .filter(code=facility, is_active=True)
            .first()
        )
        if fac is None:
            raise DomainError(_("No facility %(code)s in service.") % {"code": facility}, code="not_found")
        template = template_for(fac)
        if template is None:
            raise DomainError(_("No inspection template applies to this facility."), code="no_template")
        items = {i.key: i for i in template.items.filter(is_active=True)}
        given = {a.item: a for a in answers}
        unknown = sorted(set(given) - set(items))
        if unknown:
            raise DomainError(
                _("Unknown checklist items: %(items)s.") % {"items": ", ".join(unknown)}, code="items"
            )
        missing = [i.name for k, i in items.items() if k not in given]
        if missing:
            raise DomainError(
                _("Answer every item: %(items)s.") % {"items": ", ".join(missing)}, code="items_missing"
            )
        # Photos are checked before anything is written.
        photos = {
            a.item: clean_image(a.photo, name=f"{fac.code}-{a.item}")
            for a in answers
            if a.photo is not None and not a.passed
        }
        ordered = sorted(items.values(), key=lambda i: (i.order, i.pk))
        compliant = all(given[i.key].passed for i in ordered if i.core)
        inspection = Inspection.objects.create(
            facility=fac,
            template=template,
            inspector=actor if getattr(actor, "pk", None) else None,
            inspector_name=getattr(actor, "display_name", "") or "",
            at=now,
            compliant=compliant,
            passed=all(given[i.key].passed for i in ordered),
            lat=lat,
            lon=lon,
            note=(note or "").strip(),
        )
        outcome = InspectionOutcome(inspection=inspection)
        open_issues = {
            i.item_id: i
            for i in FacilityIssue.objects.select_for_update().filter(facility=fac, resolved_at=None)
        }
        case_states = dict(
            Case.objects.filter(number__in=[i.case_number for i in open_issues.values()]).values_list(
                "number", "state"
            )
        )
        for item in ordered:
            answer = given[item.key]
            issue = open_issues.get(item.pk)
            state = case_states.get(issue.case_number) if issue else None
            img = photos.get(item.key)
            photo_bytes = None
            if img is not None:
                img.content.seek(0)
                photo_bytes = img.content.read()
            result = InspectionResult(
                inspection=inspection, item=item, passed=answer.passed, note=(answer.note or "").strip()[:500]
            )
            if photo_bytes:
                result.photo.save(img.content.name or f"{item.key}.jpg", ContentFile(photo_bytes), save=False)
                stored(result.photo)
            if issue is not None and (state is None or state in ENDED_STATES or state == State.TO_CLOSE):
                # The case ended or was checked elsewhere: the issue is over.
                issue.resolved_at = now
                issue.resolution = "case_ended" if state != State.TO_CLOSE else "case_checked"
                issue.save(update_fields=["resolved_at", "resolution"])
                issue = None
            if not answer.passed:
                if issue is None:
                    case = _open_case(fac, item, answer, photo_bytes, actor, now)
                    issue = FacilityIssue.objects.create(
                        facility=fac, item=item, case_number=case.number, opened_at=now, last_failed_at=now
                    )
                    outcome.opened.append(case.number)
                else:
                    if state == State.TO_CHECK:
                        case_act(
                            number=issue.case_number,
                            data=ActionInput(
                                action="check_fail",
                                note=answer.note
                                or _("Inspection: %(item)s failed again.") % {"item": item.name},
                            ),
                            actor=actor,
                            photos=[_Upload(photo_bytes, "recheck.jpg")] if photo_bytes else [],
                            now=now,
                        )
                    issue.fail_count += 1
                    issue.last_failed_at = now
                    issue.passing_since = None
                    issue.save(update_fields=["fail_count", "last_failed_at", "passing_since"])
                    outcome.repeated.append(issue.case_number)
                result.issue = issue
            elif issue is not None:
                result.issue = issue
                if state == State.TO_CHECK:
                    case_act(
                        number=issue.case_number,
                        data=ActionInput(
                            action="check_pass",
                            note=_("Inspection: %(item)s passes.") % {"item": item.name},
                        ),
                        actor=actor,
                        now=now,
                    )
                    issue.resolved_at = now
                    issue.resolution = "checked"
                    issue.save(update_fields=["resolved_at", "resolution"])
                    outcome.checked.append(issue.case_number)
                elif issue.passing_since is None:
                    issue.passing_since = now
                    issue.save(update_fields=["passing_since"])
                    outcome.noted.append(issue.case_number)
                else:
                    outcome.noted.append(issue.case_number)
            result.save()
        if fac.last_inspected_at is None or now >= fac.last_inspected_at:
            Facility.objects.filter(pk=fac.pk).update(last_inspection=inspection, last_inspected_at=now)
    return outcome
