from django.core.management.base import BaseCommand
from django.utils import timezone

from cityops.cases.services import cases_mark_overdue


class Command(BaseCommand):
    help = (
        "Record an overdue event once per deadline for open cases past due and notify the department. "
        "Run on a timer."
    )

    def handle(self, *args, **options):
        n = cases_mark_overdue(now=timezone.now())
        self.stdout.write(f"overdue cases noted: {n}")
