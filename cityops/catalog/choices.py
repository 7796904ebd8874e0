"""Vocabularies of the catalogue and the case standards, declared once.

The values (``component``, ``work_hour``, ...) are stored in the database, written to the xlsx
workbook and read by other modules, so they never change; the labels are for people. Time units are
the working-time module's own (``core.worktime.Unit``, labelled in ``core.models.TimeUnit``): the
limits stored here are computed there.
"""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cityops.core.worktime import Unit


class Kind(models.TextChoices):
    """Components (管理部件, physical assets) and matters (管理事项, problems) share one code space."""

    COMPONENT = "component", _("Component")
    MATTER = "matter", _("Matter")


class Urgency(models.TextChoices):
    NORMAL = "normal", pgettext_lazy("urgency", "Normal")
    URGENT = "urgent", pgettext_lazy("urgency", "Urgent")


class Step(models.TextChoices):
    """The command centre's own workflow steps, each with a time limit of its own."""

    ACCEPT = "accept", _("Accept a report")
    VERIFY = "verify", _("Verify on site")
    FILE = "file", _("File the case")
    DISPATCH = "dispatch", _("Dispatch")
    CHECK = "check", _("Check on site")
    CLOSE = "close", _("Close")


class AreaClass(models.TextChoices):
    """Optional area class of a grid cell: some cities give each class its own limits."""

    A = "A", _("A (core area)")
    B = "B", _("B (general area)")
    C = "C", _("C (outer area)")


# Chinese words a bureau's workbook may use instead of the stored values.
KIND_ALIASES = {
    "部件": Kind.COMPONENT,
    "管理部件": Kind.COMPONENT,
    "事项": Kind.MATTER,
    "管理事项": Kind.MATTER,
}
URGENCY_ALIASES = {"一般": Urgency.NORMAL, "普通": Urgency.NORMAL, "紧急": Urgency.URGENT}
UNIT_ALIASES = {
    "工作时": Unit.WORK_HOUR,
    "工作小时": Unit.WORK_HOUR,
    "工作日": Unit.WORK_DAY,
    "小时": Unit.HOUR,
    "自然时": Unit.HOUR,
    "自然小时": Unit.HOUR,
    "日": Unit.DAY,
    "天": Unit.DAY,
    "自然日": Unit.DAY,
    "分钟": Unit.MINUTE,
}
STEP_ALIASES = {
    "受理": Step.ACCEPT,
    "核实": Step.VERIFY,
    "立案": Step.FILE,
    "派遣": Step.DISPATCH,
    "核查": Step.CHECK,
    "结案": Step.CLOSE,
}

# The limit used for a catalogue code no standard covers, until a city sets its own
# ``StandardDefault`` rows. Lenient on purpose: an unknown category should not make a department late
# by a guess; the urgent level is one working day, the shortest "repair" limit the defaults use.
FALLBACK_LIMITS: dict[str, tuple[Decimal, str]] = {
    Urgency.NORMAL: (Decimal("5"), Unit.WORK_DAY),
    Urgency.URGENT: (Decimal("1"), Unit.WORK_DAY),
}
