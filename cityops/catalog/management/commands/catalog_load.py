from django.core.management.base import BaseCommand

from cityops.catalog import loaders
from cityops.catalog.management.reporting import report
from cityops.catalog.services import catalog_load


class Command(BaseCommand):
    help = (
        "Load the catalogue (component and matter types) and the default case standards from YAML. "
        "Idempotent; keeps the city's edits unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("--catalog", default=str(loaders.CATALOG_FILE), help="catalogue YAML file")
        parser.add_argument(
            "--standards", default=str(loaders.STANDARDS_FILE), help="case standards YAML file"
        )
        parser.add_argument(
            "--keywords", default=str(loaders.KEYWORDS_FILE), help="citizen keywords YAML file"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="overwrite edited types and replace the standards, step limits and default limits",
        )

    def handle(self, *args, **options):
        result = catalog_load(
            catalog_path=options["catalog"],
            standards_path=options["standards"],
            keywords_path=options["keywords"],
            force=options["force"],
            actor="catalog_load",
        )
        report(self, result)
