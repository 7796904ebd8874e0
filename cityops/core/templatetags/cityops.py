from html import escape as quote

from django import template
from django.utils.safestring import mark_safe

from cityops.core.models import TimeUnit

register = template.Library()


@register.filter
def unit_label(value: str) -> str:
    """The translated name of a time-limit unit (work_hour -> 工作时)."""
    try:
        return TimeUnit(value).label
    except ValueError:
        return value


@register.simple_tag
def select(field, **attrs):
    """A ``<select>`` for a bound choice field without Django's per-option widget templates.

    Filter forms list hundreds of types, areas and departments; rendering each option through the
    widget template system cost most of a queue page's time.
    """
    current = field.value()
    current = "" if current is None else str(current)

    def options(choices) -> str:
        out = []
        for value, label in choices:
            if isinstance(label, list | tuple):
                out.append(f'<optgroup label="{quote(str(value))}">{options(label)}</optgroup>')
                continue
            value = str(value)
            mark = " selected" if value == current else ""
            out.append(f'<option value="{quote(value)}"{mark}>{quote(str(label))}</option>')
        return "".join(out)

    extra = "".join(f' {quote(str(k))}="{quote(str(v))}"' for k, v in attrs.items())
    return mark_safe(  # noqa: S308 (every value above is escaped)
        f'<select name="{quote(field.html_name)}" id="{quote(field.id_for_label)}"{extra}>'
        f"{options(field.field.choices)}</select>"
    )
