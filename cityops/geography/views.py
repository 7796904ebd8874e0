"""Small JSON endpoints for maps."""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from cityops.geography import selectors
from cityops.geography.choices import AreaLevel

# Public administrative outlines anyone may fetch; finer polygons come from the city's GIS and are
# shown to signed-in staff only.
PUBLIC_LEVELS = {AreaLevel.CITY.value, AreaLevel.COUNTY.value}


@require_GET
def areas_geojson(request: HttpRequest) -> HttpResponse:
    """Current boundaries of one level as a GeoJSON FeatureCollection (``?level=county``)."""
    level = request.GET.get("level", AreaLevel.COUNTY.value)
    if level not in AreaLevel.values:
        return JsonResponse(
            {"detail": _("Unknown level %(level)s.") % {"level": level[:20]}, "code": "invalid"}, status=400
        )
    if level not in PUBLIC_LEVELS and not request.user.is_authenticated:
        return JsonResponse(
            {"detail": _("Please sign in to see these boundaries."), "code": "forbidden"}, status=403
        )
    parts = []
    for row in selectors.boundaries_at(level=level):
        properties = {
            "code": row["area__code"],
            "name": row["area__name"],
            "level": row["area__level"],
            "parent_code": row["area__parent__code"],
            "area_class": row["area__area_class"],
            "version": row["version"],
            "valid_from": row["valid_from"].isoformat(),
        }
        # The stored geometry is already GeoJSON text: splice it in rather than parse and re-encode it.
        parts.append(
            '{"type":"Feature","properties":'
            + json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
            + ',"geometry":'
            + row["geometry"]
            + "}"
        )
    body = '{"type":"FeatureCollection","features":[' + ",".join(parts) + "]}"
    response = HttpResponse(body, content_type="application/geo+json; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300" if level in PUBLIC_LEVELS else "private, max-age=60"
    return response
