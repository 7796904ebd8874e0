from pathlib import Path

from django.core.management.base import BaseCommand

from cityops.catalog.services import workbook_export


class Command(BaseCommand):
    help = (
        "Write the catalogue and case standards to an xlsx workbook (the format catalog_import_xlsx reads)."
    )

    def add_arguments(self, parser):
        parser.add_argument("out", help="path of the .xlsx file to write")

    def handle(self, *args, **options):
        out = Path(options["out"])
        out.write_bytes(workbook_export())
        self.stdout.write(str(out))
