from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

TEXT_SEARCH_MIGRATION = ("cases", "0009_text_search")


def _text_index_kept(sender, using: str = "default", **kwargs) -> None:
    """After every ``migrate``: SQLite drops the text index's triggers with the table whenever a
    migration rebuilds the cases table, so they are put back (and the index rebuilt) here."""
    from django.db import connections
    from django.db.migrations.recorder import MigrationRecorder

    from cityops.cases.search import ensure_text_index

    if TEXT_SEARCH_MIGRATION in MigrationRecorder(connections[using]).applied_migrations():
        ensure_text_index(using)


class CasesConfig(AppConfig):
    name = "cityops.cases"
    label = "cases"
    verbose_name = _("Cases")

    def ready(self) -> None:
        post_migrate.connect(_text_index_kept, sender=self, dispatch_uid="cases_text_index")
