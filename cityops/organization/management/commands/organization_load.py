from django.core.management.base import BaseCommand, CommandError

from cityops.organization.loaders import DEFAULT_FILE, TreeError, load_departments


class Command(BaseCommand):
    help = "Load (create or update) the department tree from a YAML file. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT_FILE))

    def handle(self, *args, **options):
        try:
            n = load_departments(options["file"])
        except (TreeError, OSError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"departments: {n}")
