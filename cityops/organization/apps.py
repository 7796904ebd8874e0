from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrganizationConfig(AppConfig):
    name = "cityops.organization"
    label = "organization"
    verbose_name = _("Organisation")

    def ready(self):
        from django.db import transaction
        from django.db.models.signals import post_delete, post_save

        from cityops.organization.models import Department
        from cityops.organization.selectors import departments_changed_locally

        def changed(**_kwargs):
            # Now, so this transaction reads its own change, and again once it is committed: another
            # thread may have read the tree in between (a handler's reach comes from this copy).
            departments_changed_locally()
            transaction.on_commit(departments_changed_locally)

        for signal in (post_save, post_delete):
            signal.connect(changed, sender=Department, weak=False, dispatch_uid=f"departments-{signal}")
