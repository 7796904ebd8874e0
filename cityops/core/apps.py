from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "cityops.core"
    label = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from cityops.core import checks  # noqa: F401  (registers the system checks)
        from cityops.core.calendar import connect_signals

        connect_signals()
