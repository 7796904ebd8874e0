from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cityops.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.urls import register_converter

        from cityops.core import checks  # noqa: F401  (registers the system checks)
        from cityops.core.calendar import connect_signals
        from cityops.core.converters import KeyConverter

        connect_signals()
        register_converter(KeyConverter, "key")  # before any URLconf is read
