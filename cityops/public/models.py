"""What the public side keeps: the public figures of each period as last computed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FigureSet(models.Model):
    """The figures per department of the last ``days`` days (``selectors.department_figures``), as
    computed at ``computed_at``. One aggregate over up to a year of cases makes them (3M cases: 0.8 s
    on PostgreSQL, 1.5-2.5 s on SQLite); kept here, every worker reads them with one row, and the
    timer (``public_figures_refresh``) computes them before any visitor has to wait."""

    days = models.PositiveSmallIntegerField(_("days"), primary_key=True)
    computed_at = models.DateTimeField(_("computed at"))
    rows = models.JSONField(_("figures per department"))
    # What each row holds (``selectors.FIGURES_SHAPE``): figures kept by another release are computed
    # again, never read with fields missing or unknown
    shape = models.PositiveSmallIntegerField(_("shape"), default=0)

    class Meta:
        verbose_name = _("public figures")
        verbose_name_plural = _("public figures")

    def __str__(self) -> str:
        return f"{self.days}: {self.computed_at:%Y-%m-%d %H:%M}"
