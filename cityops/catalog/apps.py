from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "cityops.catalog"
    label = "catalog"
    verbose_name = _("Catalogue and standards")

    def ready(self) -> None:
        from cityops.catalog import signals

        signals.connect()
