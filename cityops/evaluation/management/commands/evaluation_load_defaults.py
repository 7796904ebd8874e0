from pathlib import Path

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from cityops.evaluation.services import DEFAULTS_FILE, defaults_load


class Command(BaseCommand):
    help = "Load the score weights, grade thresholds and targets (keeps the city's edits unless --replace)."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULTS_FILE))
        parser.add_argument("--replace", action="store_true", help="Overwrite rows that already exist.")

    def handle(self, *args, file=None, replace=False, **options):
        counts = defaults_load(path=Path(file), replace=replace)
        self.stdout.write(_("Weights: %(weights)s, grades: %(grades)s, targets: %(targets)s.") % counts)
