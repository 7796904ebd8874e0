"""Reads of the catalogue and the case standards, served from the per-process cache.

Rules the case loop relies on:

* a standard applies to its codes in both kinds (component 01001 and matter 01001 alike);
* ``conditions_for`` at an urgency the code's standards do not list returns the conditions of the
  other level (a standard that only lists "normal" applies to urgent cases as well, and vice versa);
* a code no standard covers gets the ``StandardDefault`` row of the urgency, or the built-in
  ``FALLBACK_LIMITS`` (5 working days normal, 1 working day urgent) when the city has none; those
  conditions carry ``fallback=True``.
"""

from __future__ import annotations

from cityops.catalog.cache import Condition, Limit, TypeInfo, snapshot
from cityops.catalog.choices import FALLBACK_LIMITS, AreaClass, Kind, Step, Urgency
from cityops.catalog.dataset import (
    TYPE_FIELDS,
    ConditionRow,
    Dataset,
    LimitRow,
    MajorRow,
    Source,
    StandardRow,
    TypeRow,
)
from cityops.catalog.models import (
    CaseStandard,
    CatalogType,
    MajorClass,
    StandardDefault,
    StepLimit,
)

__all__ = [
    "Condition",
    "Limit",
    "TypeInfo",
    "catalog_type",
    "condition_by_ref",
    "conditions_for",
    "dataset_from_db",
    "default_limit",
    "step_limit",
    "type_list",
    "type_search",
]

FALLBACK_KEY = "default"


def catalog_type(kind: str, code: str) -> TypeInfo | None:
    return snapshot().types.get((Kind(kind), code))


def type_choices() -> list[tuple[str, str]]:
    """(code, "code name") of the active types in code order, for filter pickers: one list kept with
    the catalogue snapshot, so every queue page shares it until the catalogue changes."""
    snap = snapshot()
    found = snap.pickers.get("types")
    if found is None:
        active = (t for t in snap.types.values() if t.is_active)
        found = snap.pickers["types"] = [(t.code, f"{t.code} {t.name}") for t in active]
    return found


def type_list(
    kind: str | None = None, *, public_only: bool = False, active_only: bool = True
) -> list[TypeInfo]:
    """Types in code order (components first), for pickers and the public report form."""
    return [
        t
        for t in snapshot().types.values()
        if (kind is None or t.kind == kind)
        and (t.is_public or not public_only)
        and (t.is_active or not active_only)
    ]


def type_search(
    text: str, *, kind: str | None = None, public_only: bool = False, limit: int = 20
) -> list[TypeInfo]:
    """Active types whose code starts with ``text`` or whose name or keywords contain it.

    Exact keyword matches come first, then name matches, then code prefixes and partial keywords.
    """
    needle = (text or "").strip()
    if not needle:
        return []
    ranked: list[tuple[int, int, str, TypeInfo]] = []
    for t in type_list(kind, public_only=public_only):
        if needle in t.keywords:
            rank = 0
        elif needle in t.name:
            rank = 1
        elif t.code.startswith(needle) or any(needle in w or w in needle for w in t.keywords):
            rank = 2
        else:
            continue
        ranked.append((rank, 0 if t.kind == Kind.MATTER else 1, t.code, t))  # problems before assets
    ranked.sort(key=lambda r: r[:3])
    return [r[3] for r in ranked[:limit]]


def conditions_for(
    kind: str, code: str, urgency: str | None = None, area_class: str | None = None
) -> list[Condition]:
    """The filing conditions with limits that apply to a case of (kind, code).

    Ordered by standard, then by the conditions' order, so staged milestones come in sequence (a missing
    manhole cover: make safe in 2 hours, then repair in 24). ``area_class`` picks, per condition, the
    variant of that class, else the one without a class, else class B (general), else the first.
    """
    Kind(kind)  # unknown kinds are a programming error
    if urgency is not None:
        urgency = Urgency(urgency)
    if area_class:
        area_class = AreaClass(area_class)
    snap = snapshot()
    conds = list(snap.conditions_by_code.get(code, ()))
    if not conds:
        return _fallback(snap.defaults, urgency)
    if urgency is not None:
        matching = [c for c in conds if c.urgency == urgency]
        conds = matching or conds
    return _pick_area_class(conds, area_class or "")


def _pick_area_class(conds: list[Condition], area_class: str) -> list[Condition]:
    slots: dict[tuple, list[Condition]] = {}
    for c in conds:
        slots.setdefault((c.standard_key, c.urgency, c.file_when, c.stage), []).append(c)
    if all(len(v) == 1 and not v[0].area_class for v in slots.values()):
        return conds
    chosen = []
    for variants in slots.values():
        by_class = {v.area_class: v for v in variants}
        pick = by_class.get(area_class) if area_class else None
        chosen.append(pick or by_class.get("") or by_class.get(AreaClass.B) or variants[0])
    return [c for c in conds if c in chosen]


def _fallback(defaults: dict[str, Limit], urgency: str | None) -> list[Condition]:
    levels = [urgency] if urgency else list(Urgency.values)
    out = []
    for i, level in enumerate(levels, 1):
        limit = defaults.get(level) or Limit(*FALLBACK_LIMITS[level])
        out.append(
            Condition(
                ref=f"{FALLBACK_KEY}#{level}",
                standard_key=FALLBACK_KEY,
                topic="",
                standard_file_when="",
                order=i,
                urgency=level,
                file_when="",
                stage="",
                limit=limit.limit,
                unit=limit.unit,
                close_when="",
                basis="",
                clock_starts="",
                area_class="",
                fallback=True,
            )
        )
    return out


def condition_by_ref(ref: str) -> Condition | None:
    """A condition by its stable reference (``S009#2``, or ``default#urgent`` for the fallback)."""
    key, _sep, rest = ref.partition("#")
    if key == FALLBACK_KEY and rest in Urgency.values:
        return _fallback(snapshot().defaults, rest)[0]
    return snapshot().conditions_by_ref.get(ref)


def step_limit(step: str) -> Limit | None:
    """The limit of a command-centre step, or None when the city set none (the step is then not timed)."""
    return snapshot().step_limits.get(Step(step))


def default_limit(urgency: str) -> Limit:
    """The limit for codes no standard covers."""
    level = Urgency(urgency)
    return snapshot().defaults.get(level) or Limit(*FALLBACK_LIMITS[level])


def dataset_from_db() -> Dataset:
    """Everything stored, as the rows the workbook writer and the canonical comparisons use."""
    data = Dataset(majors=[], types=[], standards=[], step_limits=[], defaults=[])
    for m in MajorClass.objects.order_by("kind", "code"):
        data.majors.append(MajorRow(kind=m.kind, code=m.code, name=m.name, local=m.local))
    types = CatalogType.objects.select_related("major", "component").order_by("kind", "code")
    for t in types:
        data.types.append(
            TypeRow(
                kind=t.kind,
                code=t.code,
                name=t.name,
                major=t.major.code,
                component=t.component.code if t.component_id else "",
                local=t.local,
                is_public=t.is_public,
                keywords=t.keywords,
                is_active=t.is_active,
                note=t.note,
                given=TYPE_FIELDS,
            )
        )
    standards = CaseStandard.objects.prefetch_related("codes", "conditions").order_by("order", "key")
    for s in standards:
        data.standards.append(
            StandardRow(
                key=s.key,
                topic=s.topic,
                codes=[c.code for c in s.codes.all()],
                file_when=s.file_when,
                note=s.note,
                sources=s.sources or [],
                conditions=[
                    ConditionRow(
                        urgency=c.urgency,
                        limit=c.limit,
                        unit=c.unit,
                        file_when=c.file_when,
                        stage=c.stage,
                        close_when=c.close_when,
                        basis=c.basis,
                        clock_starts=c.clock_starts,
                        area_class=c.area_class,
                        src=Source("", None),
                    )
                    for c in s.conditions.all()
                ],
            )
        )
    step_order = {s: i for i, s in enumerate(Step.values)}
    for r in sorted(StepLimit.objects.all(), key=lambda r: step_order.get(r.step, 99)):
        data.step_limits.append(LimitRow(name=r.step, limit=r.limit, unit=r.unit))
    urgency_order = {u: i for i, u in enumerate(Urgency.values)}
    for r in sorted(StandardDefault.objects.all(), key=lambda r: urgency_order.get(r.urgency, 99)):
        data.defaults.append(LimitRow(name=r.urgency, limit=r.limit, unit=r.unit))
    return data
