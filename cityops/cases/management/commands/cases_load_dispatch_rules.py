from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from cityops.cases.services import dispatch_rules_load
from cityops.core.errors import DomainError

DEFAULT = Path(__file__).resolve().parents[3] / "demo" / "fixtures" / "dispatch_rules.yaml"


class Command(BaseCommand):
    help = "Create or update dispatch rules (type x area -> department) from a YAML file. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(DEFAULT))

    def handle(self, *args, **options):
        try:
            rows = yaml.safe_load(Path(options["file"]).read_text(encoding="utf-8"))["rules"]
            n = dispatch_rules_load(rows=rows)
        except (OSError, KeyError, DomainError) as exc:
            raise CommandError(str(getattr(exc, "message", exc))) from exc
        self.stdout.write(f"dispatch rules: {n}")
