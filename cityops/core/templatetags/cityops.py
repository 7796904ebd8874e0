from django import template

from cityops.core.models import TimeUnit

register = template.Library()


@register.filter
def unit_label(value: str) -> str:
    """The translated name of a time-limit unit (work_hour -> 工作时)."""
    try:
        return TimeUnit(value).label
    except ValueError:
        return value
