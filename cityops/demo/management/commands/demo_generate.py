import time
from datetime import datetime

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cityops.cases.models import Case
from cityops.demo.generate import Reference, plan_cases, run_bulk, run_services


class Command(BaseCommand):
    help = (
        "Generate demo cases with realistic patterns (arrivals by hour, weekday and season, places, "
        "types, departments of different diligence). Seeded and deterministic. Small scales go through "
        "the services; --bulk writes large scales in batches. Idempotent: does nothing when the "
        "database already holds at least --cases cases."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=1000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--bulk", action="store_true", help="write rows built in memory, in batches (large scales)"
        )
        parser.add_argument("--batch", type=int, default=2000)
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="--bulk: helper processes that build rows besides this one (default: one per further "
            "core, at most one; 0 builds everything here). The rows written do not depend on it.",
        )
        parser.add_argument("--now", default="", help="ISO time to generate up to (default: now)")
        parser.add_argument("--reference", action="store_true", help="run demo_setup --cases 0 first")

    def handle(self, *args, **options):
        if not (settings.DEBUG or settings.CITYOPS_DEMO):
            raise CommandError("Demo data: set CITYOPS_DEMO=true (or DEBUG) to generate it.")
        if options["reference"]:
            call_command("demo_setup", cases=0, verbosity=options["verbosity"])
        now = datetime.fromisoformat(options["now"]) if options["now"] else timezone.now()
        if timezone.is_naive(now):
            now = timezone.make_aware(now)
        have = Case.objects.count()
        if have >= options["cases"]:
            self.stdout.write(f"demo cases: {have} already there, nothing to do")
            return
        started = time.monotonic()
        ref = Reference(now)
        plans = plan_cases(
            count=options["cases"] - have,
            days=options["days"],
            seed=options["seed"],
            now=now,
            calendar=ref.calendar,
        )
        verbose = options["verbosity"] > 1

        def progress(done, total):
            if verbose or done == total or done % 50000 < options["batch"]:
                rate = done / max(time.monotonic() - started, 1e-6)
                self.stdout.write(f"  {done}/{total} cases, {rate:.0f}/s")

        if options["bulk"]:
            made = run_bulk(
                plans=plans,
                now=now,
                batch=options["batch"],
                ref=ref,
                progress=progress,
                workers=options["workers"],
            )
        else:
            made = run_services(plans=plans, now=now, ref=ref)
        self.stdout.write(f"demo cases: {made} in {time.monotonic() - started:.1f}s")
