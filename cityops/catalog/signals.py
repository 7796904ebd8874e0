"""Any saved or deleted row of the reference data makes every process's cached copy stale."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save


def _changed(sender, **kwargs) -> None:
    from cityops.catalog.cache import bump_version

    bump_version()


def connect() -> None:
    from cityops.catalog import models

    for model in (
        models.MajorClass,
        models.CatalogType,
        models.CaseStandard,
        models.StandardCode,
        models.StandardCondition,
        models.StepLimit,
        models.StandardDefault,
    ):
        post_save.connect(_changed, sender=model, dispatch_uid=f"catalog_changed_save_{model.__name__}")
        post_delete.connect(_changed, sender=model, dispatch_uid=f"catalog_changed_delete_{model.__name__}")
