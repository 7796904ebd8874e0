from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from cityops.public.services import figures_refresh


class Command(BaseCommand):
    help = (
        "Compute the public figures of each period ahead of the visitors, where they were computed "
        "longer ago than half of CITYOPS_PUBLIC_FIGURES_SECONDS; run on a timer, every minute."
    )

    def handle(self, *args, **options):
        ttl = settings.CITYOPS_PUBLIC_FIGURES_SECONDS
        if not ttl:
            self.stdout.write(_("The public figures are counted on every load: nothing to keep."))
            return
        done = figures_refresh(now=timezone.now(), older_than=timedelta(seconds=ttl / 2))
        self.stdout.write(
            _("Public figures computed: %(periods)s.") % {"periods": ", ".join(str(d) for d in done) or "-"}
        )
