"""Seed the working calendar from the chinese-calendar package; safe to run again."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cityops.core.calendar import package_years, seed_from_package


class Command(BaseCommand):
    help = "Seed official holidays and make-up working days from chinese-calendar, keeping hand edits."

    def add_arguments(self, parser):
        years = package_years()
        parser.add_argument("--first-year", type=int, default=years[0])
        parser.add_argument("--last-year", type=int, default=years[-1])

    def handle(self, *args, first_year, last_year, **options):
        if last_year < first_year:
            raise CommandError(_("The last year comes before the first year."))
        try:
            results = seed_from_package(range(first_year, last_year + 1))
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            _(
                "Calendar %(first)s-%(last)s: %(created)s days created, %(updated)s updated, "
                "%(removed)s removed, %(kept)s edited by hand kept."
            )
            % {
                "first": first_year,
                "last": last_year,
                "created": sum(r.created for r in results),
                "updated": sum(r.updated for r in results),
                "removed": sum(r.removed for r in results),
                "kept": sum(r.manual_kept for r in results),
            }
        )
