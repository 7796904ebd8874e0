from pathlib import Path

from django.core.management.base import BaseCommand

from cityops.facilities.services import TEMPLATES_FILE, templates_load


class Command(BaseCommand):
    help = "Load the inspection templates (checklists) from YAML; updates by key, never deletes. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", default=str(TEMPLATES_FILE))

    def handle(self, *args, **options):
        n = templates_load(path=Path(options["path"]))
        self.stdout.write(f"checklist items: {n}")
