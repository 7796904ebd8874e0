"""Import a city's own township, community or unit grid polygons from a GeoJSON file."""

from __future__ import annotations

import json
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from cityops.geography.services import IMPORT_LEVELS, ImportRejected, polygons_import


def _moment(value: str) -> datetime:
    """A date (midnight, local time) or a datetime; naive values are taken in the platform's time zone."""
    parsed = parse_datetime(value)
    if parsed is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(_("--valid-from must be a date (2026-05-01) or a date and time."))
        parsed = datetime.combine(day, time.min)
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


class Command(BaseCommand):
    help = _(
        "Import township, community or unit grid polygons (GeoJSON, WGS84). Every feature is checked first; "
        "if any has a problem nothing is written. Changed boundaries become new versions."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("GeoJSON FeatureCollection of Polygon or MultiPolygon features"))
        parser.add_argument("--level", required=True, choices=[lv.value for lv in IMPORT_LEVELS])
        parser.add_argument("--parent-code", default=None, help=_("Parent area of every feature"))
        parser.add_argument("--code-field", default="code")
        parser.add_argument("--name-field", default="name")
        parser.add_argument("--parent-field", default="parent_code")
        parser.add_argument("--class-field", default="area_class")
        parser.add_argument("--department-field", default="department_code")
        parser.add_argument(
            "--gcj02", action="store_true", help=_("The coordinates are GCJ-02; convert them")
        )
        parser.add_argument("--valid-from", default=None, help=_("When changed boundaries take effect"))
        parser.add_argument(
            "--source", default=None, help=_("Where the polygons come from (default: file name)")
        )

    def handle(self, *args, **opts):
        try:
            with open(opts["file"], encoding="utf-8") as fh:
                collection = json.load(fh)
        except OSError as exc:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": opts["file"], "error": exc}
            ) from None
        except ValueError as exc:
            raise CommandError(
                _("%(file)s is not valid JSON: %(error)s") % {"file": opts["file"], "error": exc}
            ) from None
        try:
            result = polygons_import(
                collection=collection,
                level=opts["level"],
                now=timezone.now(),
                source=opts["source"] or str(opts["file"]).rsplit("/", 1)[-1],
                parent_code=opts["parent_code"],
                code_field=opts["code_field"],
                name_field=opts["name_field"],
                parent_field=opts["parent_field"],
                class_field=opts["class_field"],
                department_field=opts["department_field"],
                gcj02=opts["gcj02"],
                valid_from=_moment(opts["valid_from"]) if opts["valid_from"] else None,
            )
        except ImportRejected as exc:
            for line in exc.errors:
                self.stderr.write(line)
            raise CommandError(exc.message) from None
        self.stdout.write(
            _(
                "Areas created: %(created)d, updated: %(updated)d; boundary versions added: %(added)d, "
                "unchanged: %(unchanged)d."
            )
            % {
                "created": result.areas_created,
                "updated": result.areas_updated,
                "added": result.boundaries_added,
                "unchanged": result.boundaries_unchanged,
            }
        )
