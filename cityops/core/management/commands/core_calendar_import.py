"""Import one year's official holidays from a YAML or CSV file, e.g. once 2027 is published."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from cityops.core.calendar import import_year, parse_calendar_file


class Command(BaseCommand):
    help = "Import a year of holidays and make-up working days (YAML or CSV; see docs/worktime.md)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--provisional",
            action="store_true",
            help="Store the days but leave the year unofficial, so staff keep being warned.",
        )
        parser.add_argument(
            "--source", default="", help="Where the schedule comes from, e.g. the notice number."
        )

    def handle(self, *args, file, provisional, source, **options):
        path = Path(file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise CommandError(_("Cannot read %(file)s: %(error)s") % {"file": file, "error": exc}) from exc
        try:
            data = parse_calendar_file(path.name, text)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if source:
            data.source = source
        result = import_year(data, official=not provisional)
        self.stdout.write(
            _(
                "Calendar %(year)s: %(created)s days created, %(updated)s updated, %(removed)s removed, "
                "%(kept)s edited by hand kept."
            )
            % {
                "year": result.year,
                "created": result.created,
                "updated": result.updated,
                "removed": result.removed,
                "kept": result.manual_kept,
            }
        )
