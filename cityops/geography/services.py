"""Writes of the places app: areas, boundary versions, the reference load and the polygon import.

Boundaries are append-only history: a changed outline closes the current version and opens the next;
an unchanged one writes nothing, which makes every load and import safe to repeat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import shapely
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityops.core.errors import DomainError
from cityops.geography import geometry as geo
from cityops.geography import reference, selectors
from cityops.geography.choices import LEVEL_RANK, AreaClass, AreaKind, AreaLevel
from cityops.geography.gcj02 import geometry_gcj02_to_wgs84
from cityops.geography.models import Area, AreaBoundary

_KEEP: Any = object()  # "leave this field as it is" for updates


def _changed() -> None:
    selectors.clear_caches()
    transaction.on_commit(selectors.clear_caches)


def area_upsert(
    *,
    code: str,
    name: str,
    level: AreaLevel | str,
    parent: Area | None = None,
    kind: str = _KEEP,
    is_core: bool = _KEEP,
    area_class: str = _KEEP,
    department_code: str = _KEEP,
    active: bool = _KEEP,
) -> tuple[Area, bool]:
    """Create or update an area by code; fields not given keep their value. Returns (area, changed)."""
    if parent is not None and LEVEL_RANK[AreaLevel(parent.level)] >= LEVEL_RANK[AreaLevel(level)]:
        raise DomainError(
            _("%(parent)s cannot be the parent of %(name)s: it is not at a higher level.")
            % {"parent": parent.name, "name": name},
            code="invalid_parent",
        )
    area = Area.objects.filter(code=code).first()
    values: dict[str, Any] = {"name": name, "level": AreaLevel(level).value, "parent": parent}
    optional = {
        "kind": kind,
        "is_core": is_core,
        "area_class": area_class,
        "department_code": department_code,
        "active": active,
    }
    values.update({k: v for k, v in optional.items() if v is not _KEEP})
    if area is None:
        area = Area.objects.create(code=code, **values)
        _changed()
        return area, True
    dirty = [k for k, v in values.items() if k != "parent" and getattr(area, k) != v]
    if area.parent_id != (parent.pk if parent else None):
        dirty.append("parent")
    if dirty:
        for k in dirty:
            setattr(area, k, values[k])
        area.save(update_fields=[*dirty, "updated_at"])
        _changed()
    return area, bool(dirty)


@transaction.atomic
def area_boundary_set(
    *,
    area: Area,
    geometry: shapely.Geometry,
    source: str,
    now: datetime,
    valid_from: datetime | None = None,
) -> tuple[AreaBoundary, bool]:
    """Make ``geometry`` (WGS84) the area's current outline. Returns (version, created).

    The same shape again is a no-op; a different one closes the current version at ``valid_from``
    (default ``now``) and adds the next, so earlier versions keep answering for earlier moments.
    """
    geom = geo.rounded(geometry)
    geo.check_valid(geom)
    shape_digest = geo.digest(geom)
    current = AreaBoundary.objects.select_for_update().filter(area=area, valid_to__isnull=True).first()
    if current is not None and current.digest == shape_digest:
        return current, False
    start = valid_from or now
    if current is not None:
        if start <= current.valid_from:
            raise DomainError(
                _("The new boundary of %(area)s must start after its current one (%(start)s).")
                % {"area": area.name, "start": current.valid_from.isoformat()},
                code="boundary_start",
            )
        current.valid_to = start
        current.save(update_fields=["valid_to"])
    last = AreaBoundary.objects.filter(area=area).aggregate(v=Max("version"))["v"] or 0
    min_lon, min_lat, max_lon, max_lat = geo.bounds(geom)
    boundary = AreaBoundary.objects.create(
        area=area,
        version=last + 1,
        valid_from=start,
        geometry=geo.to_geojson_text(geom),
        digest=shape_digest,
        min_lat=min_lat,
        min_lon=min_lon,
        max_lat=max_lat,
        max_lon=max_lon,
        source=source[:200],
    )
    _changed()
    return boundary, True


@transaction.atomic
def area_retire(*, area: Area, now: datetime) -> None:
    """Retire an area: its current outline ends now (history stays) and it leaves the pickers."""
    AreaBoundary.objects.filter(area=area, valid_to__isnull=True).update(valid_to=now)
    area.active = False
    area.save(update_fields=["active", "updated_at"])
    _changed()


# -- reference load ------------------------------------------------------------------------------


@dataclass
class LoadResult:
    areas_created: int = 0
    areas_updated: int = 0
    boundaries_added: int = 0


@transaction.atomic
def reference_load(*, divisions: dict, boundaries: dict, now: datetime) -> LoadResult:
    """Load the city, its county-level units with outlines, and the townships of the reference data."""
    result = LoadResult()

    def count(changed_area: tuple[Area, bool], existed: bool) -> Area:
        area, changed = changed_area
        if changed:
            if existed:
                result.areas_updated += 1
            else:
                result.areas_created += 1
        return area

    existing = set(Area.objects.values_list("code", flat=True))
    city_data = divisions["city"]
    city = count(
        area_upsert(
            code=city_data["adcode"], name=city_data["name"], level=AreaLevel.CITY, kind=AreaKind.CITY
        ),
        city_data["adcode"] in existing,
    )
    counties = {}
    for c in divisions["counties"]:
        counties[c["adcode"]] = count(
            area_upsert(
                code=c["adcode"],
                name=c["name"],
                level=AreaLevel.COUNTY,
                parent=city,
                kind=AreaKind(c.get("kind", "county")),
                is_core=bool(c.get("core", False)),
            ),
            c["adcode"] in existing,
        )
    # The reference data lists the townships of 潞州区 only; other counties' come from the city's GIS.
    luzhou = counties.get("140403")
    for t in divisions.get("luzhou_townships", []) if luzhou else []:
        count(
            area_upsert(
                code=t["code"],
                name=t["name"],
                level=AreaLevel.TOWNSHIP,
                parent=luzhou,
                kind=reference.township_kind(t["code"], t["name"]),
            ),
            t["code"] in existing,
        )
    by_code = {city.code: city, **counties}
    has_outline = set(
        AreaBoundary.objects.filter(area__in=by_code.values()).values_list("area__code", flat=True).distinct()
    )
    for feature in boundaries["features"]:
        code = str(feature["properties"]["adcode"])
        area = by_code.get(code)
        if area is None:
            continue
        geom = geo.parse_polygonal(feature["geometry"])
        _boundary, created = area_boundary_set(
            area=area,
            geometry=geom,
            source=reference.BOUNDARY_SOURCE,
            now=now,
            valid_from=None if code in has_outline else reference.REFERENCE_VALID_FROM,
        )
        result.boundaries_added += int(created)
    return result


# -- import of a city's own polygons ---------------------------------------------------------------


class ImportRejected(DomainError):
    """The file has problems; ``errors`` lists them per feature and nothing was written."""

    code = "import_rejected"

    def __init__(self, errors: list[str]):
        super().__init__(
            ngettext(
                "%(count)d problem found; nothing was imported.",
                "%(count)d problems found; nothing was imported.",
                len(errors),
            )
            % {"count": len(errors)}
        )
        self.errors = errors


@dataclass
class ImportResult:
    areas_created: int = 0
    areas_updated: int = 0
    boundaries_added: int = 0
    boundaries_unchanged: int = 0
    codes: list[str] = field(default_factory=list)


@dataclass
class _Row:
    code: str
    name: str
    geom: shapely.Geometry
    parent: Area
    extra: dict[str, str]


# Share of a feature's area that must lie inside the city outline: city GIS data and the public
# outline disagree by some metres along the edge, so a small overhang is accepted.
MIN_SHARE_INSIDE_CITY = 0.5

IMPORT_LEVELS = (AreaLevel.TOWNSHIP, AreaLevel.COMMUNITY, AreaLevel.GRID)


def _text(props: dict, key: str) -> str:
    value = props.get(key)
    if value is None or isinstance(value, bool | dict | list):
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _kind_for(level: str, code: str, name: str) -> str:
    if level == AreaLevel.TOWNSHIP:
        return reference.township_kind(code, name)
    return AreaKind.COMMUNITY.value if level == AreaLevel.COMMUNITY else AreaKind.GRID.value


@transaction.atomic
def polygons_import(
    *,
    collection: dict,
    level: AreaLevel | str,
    now: datetime,
    source: str = "",
    parent_code: str | None = None,
    code_field: str = "code",
    name_field: str = "name",
    parent_field: str = "parent_code",
    class_field: str = "area_class",
    department_field: str = "department_code",
    gcj02: bool = False,
    valid_from: datetime | None = None,
) -> ImportResult:
    """Import a city's own township, community or unit grid polygons from a GeoJSON FeatureCollection.

    Every feature is checked first (geometry, code, name, parent, inside the city); any problem rejects
    the whole file with the list of problems (``ImportRejected``), so a file is imported entirely or not
    at all. The parent is ``parent_code``, else the feature's ``parent_field`` property, else the
    deepest higher area whose current outline covers the feature. Changed outlines become new versions.
    """
    level = AreaLevel(level)
    if level not in IMPORT_LEVELS:
        raise DomainError(_("Only townships, communities and unit grid cells can be imported."))
    rows = _validate(
        collection=collection,
        level=level,
        now=now,
        parent_code=parent_code,
        fields=(code_field, name_field, parent_field, class_field, department_field),
        gcj02=gcj02,
    )
    result = ImportResult()
    existing = {a.code: a for a in Area.objects.filter(code__in=[r.code for r in rows])}
    for row in rows:
        area, changed = area_upsert(
            code=row.code,
            name=row.name,
            level=level,
            parent=row.parent,
            kind=_kind_for(level, row.code, row.name),
            active=True,
            **row.extra,
        )
        if changed:
            if row.code in existing:
                result.areas_updated += 1
            else:
                result.areas_created += 1
        _boundary, created = area_boundary_set(
            area=area, geometry=row.geom, source=source, now=now, valid_from=valid_from
        )
        if created:
            result.boundaries_added += 1
        else:
            result.boundaries_unchanged += 1
        result.codes.append(row.code)
    return result


def _validate(
    *,
    collection: dict,
    level: AreaLevel,
    now: datetime,
    parent_code: str | None,
    fields: tuple[str, str, str, str, str],
    gcj02: bool,
) -> list[_Row]:
    code_field, name_field, parent_field, class_field, department_field = fields
    if isinstance(collection, dict) and collection.get("type") == "Feature":
        collection = {"type": "FeatureCollection", "features": [collection]}
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise ImportRejected([_("The file is not a GeoJSON FeatureCollection.")])
    features = collection.get("features")
    if not isinstance(features, list) or not features:
        raise ImportRejected([_("The file contains no features.")])

    index = selectors.area_index(at=now)
    city_geom = index.city_geometry
    if city_geom is None:
        raise ImportRejected([_("The city boundary is not loaded; run geography_load first.")])
    shapely.prepare(city_geom)
    city_label = index.city.name if index.city else ""
    fixed_parent = None
    if parent_code:
        fixed_parent = Area.objects.filter(code=parent_code).first()
        if fixed_parent is None:
            raise ImportRejected([_("The parent area %(code)s does not exist.") % {"code": parent_code}])
        if LEVEL_RANK[AreaLevel(fixed_parent.level)] >= LEVEL_RANK[level]:
            raise ImportRejected(
                [_("The parent area %(code)s is not above this level.") % {"code": parent_code}]
            )

    codes_in_file = [
        _text(f.get("properties") or {}, code_field) if isinstance(f, dict) else "" for f in features
    ]
    wanted = {c for c in codes_in_file if c}
    parent_codes = {
        _text(f.get("properties") or {}, parent_field) for f in features if isinstance(f, dict)
    } - {""}
    known = {a.code: a for a in Area.objects.filter(code__in=wanted | parent_codes)}
    valid_classes = {c.value for c in AreaClass}

    errors: list[str] = []
    rows: list[_Row] = []
    seen: set[str] = set()
    for number, feature in enumerate(features, start=1):
        problems: list[str] = []
        props = feature.get("properties") if isinstance(feature, dict) else None
        props = props if isinstance(props, dict) else {}
        code, name = _text(props, code_field), _text(props, name_field)
        label = (
            _("Feature %(number)d (%(code)s)") % {"number": number, "code": code}
            if code
            else _("Feature %(number)d") % {"number": number}
        )
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            errors.append(_("%(feature)s: not a GeoJSON Feature.") % {"feature": label})
            continue
        if not code:
            problems.append(_("the property %(field)s (code) is missing.") % {"field": code_field})
        elif len(code) > 32:
            problems.append(_("the code is longer than 32 characters."))
        elif code in seen:
            problems.append(_("the code appears more than once in the file."))
        elif code in known and known[code].level != level:
            problems.append(
                _("the code already belongs to an area of level %(level)s.")
                % {"level": AreaLevel(known[code].level).label}
            )
        seen.add(code)
        if not name:
            problems.append(_("the property %(field)s (name) is missing.") % {"field": name_field})
        elif len(name) > 100:
            problems.append(_("the name is longer than 100 characters."))
        extra: dict[str, str] = {}
        if class_field in props:
            area_class = _text(props, class_field).upper()
            if area_class and area_class not in valid_classes:
                problems.append(_("the area class %(value)s is not one of A, B, C.") % {"value": area_class})
            extra["area_class"] = area_class
        if department_field in props:
            extra["department_code"] = _text(props, department_field)[:32]

        geom = None
        try:
            geom = geo.parse_polygonal(feature.get("geometry"))
            if gcj02:
                geom = geometry_gcj02_to_wgs84(geom)
            geom = geo.rounded(geom)
            geo.check_valid(geom)
        except geo.GeometryProblem as exc:
            problems.append(str(exc)[0].lower() + str(exc)[1:])
            geom = None

        parent = None
        if geom is not None:
            share_inside = 1.0 if city_geom.covers(geom) else geom.intersection(city_geom).area / geom.area
            if share_inside < MIN_SHARE_INSIDE_CITY:
                problems.append(_("the polygon lies outside %(city)s.") % {"city": city_label})
            else:
                parent, parent_problem = _parent_for(
                    index=index,
                    geom=geom,
                    level=level,
                    fixed=fixed_parent,
                    named=_text(props, parent_field),
                    known=known,
                )
                if parent_problem:
                    problems.append(parent_problem)
        if problems:
            errors.extend(
                _("%(feature)s: %(problem)s") % {"feature": label, "problem": problem} for problem in problems
            )
        elif geom is not None and parent is not None:
            rows.append(_Row(code=code, name=name, geom=geom, parent=parent, extra=extra))
    if errors:
        raise ImportRejected(errors)
    return rows


def _parent_for(
    *,
    index,
    geom: shapely.Geometry,
    level: AreaLevel,
    fixed: Area | None,
    named: str,
    known: dict[str, Area],
) -> tuple[Area | None, str]:
    """The parent of an imported polygon, and a problem message when there is none."""
    point = geom.representative_point()
    if fixed is None and named:
        fixed = known.get(named)
        if fixed is None:
            return None, _("the parent area %(code)s does not exist.") % {"code": named}
        if LEVEL_RANK[AreaLevel(fixed.level)] >= LEVEL_RANK[level]:
            return None, _("the parent area %(code)s is not above this level.") % {"code": named}
    if fixed is not None:
        outline = index.geometry_of(fixed.code)
        if outline is not None and not outline.covers(point):
            return None, _("the polygon lies outside its parent %(parent)s.") % {"parent": fixed.name}
        return fixed, ""
    covering = index.covering(point)
    for candidate in sorted(AreaLevel, key=lambda lv: LEVEL_RANK[lv], reverse=True):
        if LEVEL_RANK[candidate] < LEVEL_RANK[level] and covering.get(candidate):
            code = covering[candidate][0]
            if code not in known:
                found = Area.objects.filter(code=code).first()
                if found is None:
                    continue
                known[code] = found
            return known[code], ""
    return None, _("no parent area covers the polygon; give a parent code.")
