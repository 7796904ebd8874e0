"""Writes to the catalogue and the standards: upserts, the atomic replacement of standards, imports.

Every entry point validates the whole input first (``dataset.validate``) and writes nothing when there is
any issue; the writes of one input happen in one transaction and bump the cache version once.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Literal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityops.catalog import cache, loaders, selectors, xlsx
from cityops.catalog.choices import FALLBACK_LIMITS, Kind
from cityops.catalog.dataset import (
    Dataset,
    Issue,
    LimitRow,
    MajorRow,
    StandardRow,
    TypeRow,
    validate,
)
from cityops.catalog.models import (
    CaseStandard,
    CatalogType,
    MajorClass,
    StandardCode,
    StandardCondition,
    StandardDefault,
    StepLimit,
)

log = logging.getLogger(__name__)

Mode = Literal["replace", "keep"]

SECTION_LABELS = {
    "majors": gettext_lazy("major classes"),
    "types": gettext_lazy("catalogue types"),
    "standards": gettext_lazy("case standards"),
    "step_limits": gettext_lazy("step limits"),
    "defaults": gettext_lazy("default limits"),
}


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    skipped: int = 0

    @property
    def changed(self) -> int:
        return self.created + self.updated + self.deleted

    def __str__(self) -> str:
        return _("created %(created)s, updated %(updated)s, unchanged %(unchanged)s, deleted %(deleted)s") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged + self.skipped,
            "deleted": self.deleted,
        }


@dataclass
class ApplyResult:
    issues: list[Issue] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def changed(self) -> int:
        return sum(c.changed for c in self.counts.values())


def stored_keys() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    majors = set(MajorClass.objects.values_list("kind", "code"))
    types = set(CatalogType.objects.values_list("kind", "code"))
    return majors, types


def dataset_check(*, data: Dataset) -> list[Issue]:
    """Validate ``data`` (converting it in place) against what is stored."""
    majors, types = stored_keys()
    return validate(data, stored_majors=majors, stored_types=types)


def dataset_apply(
    *,
    data: Dataset,
    mode: Mode = "replace",
    dry_run: bool = False,
    actor=None,
    read_issues: list[Issue] | None = None,
) -> ApplyResult:
    """Validate and write one input atomically.

    ``mode="replace"`` (a workbook import, ``catalog_load --force``): catalogue rows are updated to the
    input's values, and the standards, step limits and default limits sections replace what is stored.
    ``mode="keep"`` (``catalog_load``): only missing rows are created, and standards are written only when
    none exist, so a city's own edits survive a reload. ``dry_run`` does all the writes and rolls back.
    ``read_issues`` are problems the reader already found; they are reported with the value checks.
    """
    result = ApplyResult(dry_run=dry_run)
    with transaction.atomic():
        cache.lock_version()
        result.issues = list(read_issues or []) + dataset_check(data=data)
        if result.issues:
            return result
        with cache.batch():
            overwrite = mode == "replace"
            if data.majors is not None:
                result.counts["majors"] = majors_upsert(rows=data.majors, overwrite=overwrite)
            if data.types is not None:
                result.counts["types"] = types_upsert(rows=data.types, overwrite=overwrite)
            if data.standards is not None:
                if overwrite or not CaseStandard.objects.exists():
                    result.counts["standards"] = standards_replace(rows=data.standards)
                else:
                    result.counts["standards"] = Counts(skipped=CaseStandard.objects.count())
            if data.step_limits is not None:
                result.counts["step_limits"] = limits_replace(
                    model=StepLimit, field="step", rows=data.step_limits, overwrite=overwrite
                )
            if data.defaults is not None:
                result.counts["defaults"] = limits_replace(
                    model=StandardDefault, field="urgency", rows=data.defaults, overwrite=overwrite
                )
        if dry_run:
            transaction.set_rollback(True)
    if dry_run:
        cache.clear()
    elif result.changed:
        log.info(
            "catalogue changed by %s: %s", actor or "system", {k: asdict(v) for k, v in result.counts.items()}
        )
    return result


def majors_upsert(*, rows: list[MajorRow], overwrite: bool = True) -> Counts:
    counts = Counts()
    stored = {(m.kind, m.code): m for m in MajorClass.objects.all()}
    for row in rows:
        obj = stored.get((row.kind, row.code))
        if obj is None:
            MajorClass.objects.create(kind=row.kind, code=row.code, name=row.name, local=row.local)
            counts.created += 1
        elif not overwrite:
            counts.skipped += 1
        elif _assign(obj, {"name": row.name, "local": row.local}):
            obj.save()
            counts.updated += 1
        else:
            counts.unchanged += 1
    return counts


def types_upsert(*, rows: list[TypeRow], overwrite: bool = True) -> Counts:
    """Create or update types by (kind, code); fields absent from the input keep their stored values.

    Types are never deleted here: cases keep their codes; deactivate a type instead.
    """
    counts = Counts()
    majors = {(m.kind, m.code): m.pk for m in MajorClass.objects.all()}
    stored = {(t.kind, t.code): t for t in CatalogType.objects.all()}
    # Components first, so a matter can point at a component created by the same input.
    for kind in (Kind.COMPONENT, Kind.MATTER):
        new: list[CatalogType] = []
        for row in (r for r in rows if r.kind == kind):
            values = {
                "name": row.name,
                "major_id": majors[(row.kind, row.major)],
                "component_id": stored[(Kind.COMPONENT, row.component)].pk if row.component else None,
                "local": row.local,
                "is_public": row.is_public,
                "keywords": row.keywords,
                "is_active": row.is_active,
                "note": row.note,
            }
            obj = stored.get((row.kind, row.code))
            if obj is None:
                new.append(CatalogType(kind=row.kind, code=row.code, **values))
            elif not overwrite:
                counts.skipped += 1
            elif _assign(obj, {k: v for k, v in values.items() if k.removesuffix("_id") in row.given}):
                obj.save()
                counts.updated += 1
            else:
                counts.unchanged += 1
        for obj in CatalogType.objects.bulk_create(new):
            stored[(obj.kind, obj.code)] = obj
        counts.created += len(new)
    if counts.created:
        cache.mark_changed()
    return counts


def _assign(obj, values: dict) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _standard_canon(key, order, topic, file_when, note, sources, codes, conditions) -> tuple:
    return (
        key,
        order,
        topic,
        file_when,
        note,
        json.dumps(sources or [], ensure_ascii=False, sort_keys=True),
        tuple(codes),
        tuple(conditions),
    )


def _condition_canon(c) -> tuple:
    return (
        c.urgency,
        c.file_when,
        c.stage,
        Decimal(c.limit).normalize(),
        c.unit,
        c.close_when,
        c.basis,
        c.clock_starts,
        c.area_class,
    )


def standards_replace(*, rows: list[StandardRow]) -> Counts:
    """Make the stored standards exactly ``rows``; unchanged standards keep their rows (and ids)."""
    counts = Counts()
    stored = {s.key: s for s in CaseStandard.objects.prefetch_related("codes", "conditions")}
    for order, row in enumerate(rows, 1):
        canon = _standard_canon(
            row.key,
            order,
            row.topic,
            row.file_when,
            row.note,
            row.sources,
            row.codes,
            map(_condition_canon, row.conditions),
        )
        obj = stored.pop(row.key, None)
        if obj is not None:
            old = _standard_canon(
                obj.key,
                obj.order,
                obj.topic,
                obj.file_when,
                obj.note,
                obj.sources,
                [c.code for c in obj.codes.all()],
                map(_condition_canon, obj.conditions.all()),
            )
            if old == canon:
                counts.unchanged += 1
                continue
            obj.codes.all().delete()
            obj.conditions.all().delete()
            counts.updated += 1
        else:
            obj = CaseStandard(key=row.key)
            counts.created += 1
        obj.order, obj.topic, obj.file_when, obj.note, obj.sources = (
            order,
            row.topic,
            row.file_when,
            row.note,
            row.sources,
        )
        obj.save()
        StandardCode.objects.bulk_create(
            StandardCode(standard=obj, code=code, position=i) for i, code in enumerate(row.codes, 1)
        )
        StandardCondition.objects.bulk_create(
            StandardCondition(
                standard=obj,
                order=i,
                urgency=c.urgency,
                file_when=c.file_when,
                stage=c.stage,
                limit=c.limit,
                unit=c.unit,
                close_when=c.close_when,
                basis=c.basis,
                clock_starts=c.clock_starts,
                area_class=c.area_class,
            )
            for i, c in enumerate(row.conditions, 1)
        )
    for obj in stored.values():
        obj.delete()
        counts.deleted += 1
    if counts.changed:
        cache.mark_changed()
    return counts


def limits_replace(*, model, field: str, rows: list[LimitRow], overwrite: bool = True) -> Counts:
    """Step limits or default limits: the input's rows, keyed by step or urgency."""
    counts = Counts()
    stored = {getattr(o, field): o for o in model.objects.all()}
    for row in rows:
        obj = stored.pop(row.name, None)
        if obj is None:
            model.objects.create(**{field: row.name, "limit": row.limit, "unit": row.unit})
            counts.created += 1
        elif not overwrite:
            counts.skipped += 1
        elif obj.limit != row.limit or obj.unit != row.unit:
            obj.limit, obj.unit = row.limit, row.unit
            obj.save()
            counts.updated += 1
        else:
            counts.unchanged += 1
    if overwrite:
        for obj in stored.values():
            obj.delete()
            counts.deleted += 1
    return counts


def default_limit_rows() -> list[LimitRow]:
    """The built-in default limits as rows, for ``catalog_load`` to seed ``StandardDefault``."""
    return [
        LimitRow(name=str(urgency), limit=limit, unit=str(unit))
        for urgency, (limit, unit) in FALLBACK_LIMITS.items()
    ]


def workbook_import(*, content: bytes, dry_run: bool = False, actor=None) -> ApplyResult:
    """Read a bureau's workbook and replace the standards (and upsert the catalogue) with it, or nothing."""
    data, issues = xlsx.read_workbook(content)
    if issues and not data.sections():
        return ApplyResult(issues=issues, dry_run=dry_run)
    return dataset_apply(data=data, mode="replace", dry_run=dry_run, actor=actor, read_issues=issues)


def workbook_export() -> bytes:
    """The stored catalogue and standards as the workbook ``workbook_import`` reads back unchanged."""
    return xlsx.write_workbook(selectors.dataset_from_db())


def catalog_load(
    *,
    catalog_path=None,
    standards_path=None,
    keywords_path=None,
    force: bool = False,
    actor=None,
) -> ApplyResult:
    """Load the reference YAML files (the project's fixtures by default). Idempotent.

    Without ``force`` a city's edits survive: missing majors, types, step limits and default limits are
    created, existing rows are left alone, and the standards are loaded only when there are none. With
    ``force`` the files' values overwrite names, majors, links, flags, notes and keywords of the types
    (not whether a type is public or active), and the standards, step limits and defaults are replaced.
    """
    keywords, issues = loaders.read_keywords(keywords_path or loaders.KEYWORDS_FILE)
    catalog, more = loaders.read_catalog(catalog_path or loaders.CATALOG_FILE, keywords)
    issues += more
    standards, more = loaders.read_standards(standards_path or loaders.STANDARDS_FILE)
    issues += more
    if any(issue.row is None for issue in issues):
        # A file that cannot be read would only add noise (every code it holds looks unknown).
        return ApplyResult(issues=issues)
    data = Dataset(
        majors=catalog.majors,
        types=catalog.types,
        standards=standards.standards,
        step_limits=standards.step_limits,
        defaults=default_limit_rows(),
    )
    return dataset_apply(data=data, mode="replace" if force else "keep", actor=actor, read_issues=issues)
