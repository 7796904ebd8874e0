from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from cityops.evaluation.services import facts_rebuild


class Command(BaseCommand):
    help = "Rebuild the evaluation facts of every case from its events (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--stale", action="store_true", help="Only cases whose facts are missing or out of date."
        )

    def handle(self, *args, stale=False, **options):
        n = facts_rebuild(stale_only=stale)
        self.stdout.write(_("Case facts rebuilt: %(n)s.") % {"n": n})
