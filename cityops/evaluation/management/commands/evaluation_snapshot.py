from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.evaluation.services import facts_rebuild_stale, snapshots_update


class Command(BaseCommand):
    help = (
        "Compute the daily metric snapshots that are missing, out of date (formula version) or still "
        "moving (today); run on a timer. Stale facts of the cases changed since the last run are "
        "rebuilt first."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=60, help="How many past days to keep complete.")
        parser.add_argument("--recompute", action="store_true", help="Recompute every day in the window.")

    def handle(self, *args, days=60, recompute=False, **options):
        facts, _every_case = facts_rebuild_stale(now=timezone.now())
        done = snapshots_update(now=timezone.now(), days=days, recompute=recompute)
        self.stdout.write(
            _("Facts refreshed: %(facts)s. Days computed: %(days)s.") % {"facts": facts, "days": len(done)}
        )
