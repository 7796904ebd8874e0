from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cityops.facilities.services import facilities_import


class Command(BaseCommand):
    help = (
        "Import the facility registry from an xlsx workbook (the export's layout). Every row is checked "
        "first; with any error nothing is written. Updates by code, so running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")

    def handle(self, *args, **options):
        result = facilities_import(content=Path(options["path"]).read_bytes(), now=timezone.now())
        if result.errors:
            for e in result.errors:
                self.stderr.write(f"row {e.row} {e.column}: {e.message}")
            raise CommandError(f"{len(result.errors)} errors: nothing imported")
        self.stdout.write(f"created {result.created}, updated {result.updated}")
