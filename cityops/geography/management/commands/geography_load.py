"""Load the reference places: the city, its 12 county-level units with outlines, 潞州区's townships."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.geography import reference
from cityops.geography.services import reference_load


class Command(BaseCommand):
    help = _("Load the reference places: the city, its counties with boundaries, and townships (idempotent).")

    def add_arguments(self, parser):
        parser.add_argument("--divisions", type=Path, default=reference.DIVISIONS_FILE)
        parser.add_argument("--boundaries", type=Path, default=reference.BOUNDARIES_FILE)

    def handle(self, *args, divisions: Path, boundaries: Path, **options):
        result = reference_load(
            divisions=reference.read_divisions(divisions),
            boundaries=reference.read_boundaries(boundaries),
            now=timezone.now(),
        )
        self.stdout.write(
            _("Areas created: %(created)d, updated: %(updated)d; boundary versions added: %(added)d.")
            % {
                "created": result.areas_created,
                "updated": result.areas_updated,
                "added": result.boundaries_added,
            }
        )
