from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cityops.catalog.management.reporting import report
from cityops.catalog.services import workbook_import


class Command(BaseCommand):
    help = (
        "Import a catalogue and case standards workbook: replaces the standards, step limits and default "
        "limits and upserts the catalogue types, all or nothing. Re-importing the same file changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the .xlsx workbook")
        parser.add_argument("--dry-run", action="store_true", help="check and count, write nothing")

    def handle(self, *args, **options):
        try:
            content = Path(options["path"]).read_bytes()
        except OSError as exc:
            raise CommandError(str(exc)) from exc
        result = workbook_import(content=content, dry_run=options["dry_run"], actor="catalog_import_xlsx")
        report(self, result)
