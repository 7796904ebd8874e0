from django.core.management.base import BaseCommand
from django.utils import timezone

from cityops.notifications.services import notifications_send


class Command(BaseCommand):
    help = "Deliver pending notifications from the outbox; failed ones are retried with back-off."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=500)

    def handle(self, *args, **options):
        sent, failed = notifications_send(now=timezone.now(), limit=options["limit"])
        self.stdout.write(f"sent: {sent}, failed attempts: {failed}")
