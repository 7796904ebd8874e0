from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EvaluationConfig(AppConfig):
    name = "cityops.evaluation"
    verbose_name = _("Evaluation")

    def ready(self) -> None:
        # Every case event refreshes the case's evaluation facts in the same transaction.
        from django.db.models.signals import post_save

        from cityops.cases.models import CaseEvent
        from cityops.evaluation import services

        post_save.connect(services.on_case_event, sender=CaseEvent, dispatch_uid="evaluation_case_fact")
