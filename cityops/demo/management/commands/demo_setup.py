from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cityops.cases.models import Case
from cityops.demo.cases import generate_cases
from cityops.demo.people import load_people
from cityops.demo.toilets import generate_toilets
from cityops.demo.townships import generate_townships
from cityops.open311.services import ensure_demo_key


class Command(BaseCommand):
    help = (
        "Set up the demo city: reference data (calendar, places, catalogue, standards, departments) "
        "and the demo people with their public log-ins. Idempotent. Refuses to run in production."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reference-only", action="store_true", help="Load the reference data only, no demo people."
        )
        parser.add_argument(
            "--cases", type=int, default=300, help="Demo cases to generate on an empty database."
        )
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, **options):
        if not options["reference_only"] and not (settings.DEBUG or settings.CITYOPS_DEMO):
            raise CommandError(
                "Demo people have public passwords: set CITYOPS_DEMO=true (or DEBUG) to create them."
            )
        verbosity = options["verbosity"]
        for command in (
            "core_calendar_seed",
            "geography_load",
            "catalog_load",
            "organization_load",
            "cases_load_dispatch_rules",
            "facilities_load_templates",
            "evaluation_load_defaults",
        ):
            call_command(command, verbosity=verbosity)
        if options["reference_only"]:
            return
        # before any case: a case's township is placed at its report
        towns = generate_townships(seed=options["seed"], now=timezone.now())
        self.stdout.write(f"demo township outlines: {towns}")
        n = load_people()
        self.stdout.write(f"demo people: {n}")
        ensure_demo_key()
        if options["cases"] and not Case.objects.exists():
            made = generate_cases(count=options["cases"], seed=options["seed"], now=timezone.now())
            self.stdout.write(f"demo cases: {made}")
        self.stdout.write(f"demo toilets: {generate_toilets(seed=options['seed'], now=timezone.now())}")
        call_command("evaluation_snapshot", verbosity=verbosity)
