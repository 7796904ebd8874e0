from html import escape as quote

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from cityops.core.models import TimeUnit

register = template.Library()


@register.filter
def unit_label(value: str) -> str:
    """The translated name of a time-limit unit (work_hour -> 工作时)."""
    try:
        return TimeUnit(value).label
    except ValueError:
        return value


_OPTIONS: dict[tuple, str] = {}  # options markup by (language, choices); filter lists rarely change
_OPTIONS_MAX = 64


def _options(choices) -> str:
    out = []
    for value, label in choices:
        if isinstance(label, list | tuple):
            out.append(f'<optgroup label="{quote(str(value))}">{_options(label)}</optgroup>')
            continue
        out.append(f'<option value="{quote(str(value))}">{quote(str(label))}</option>')
    return "".join(out)


class SharedChoices(list):
    """A choice list reused from page to page (the queue filters' types and areas, cases.forms):
    ``select`` keeps its option markup on it, per language, rather than find it by the list's content."""

    __slots__ = ("markup",)

    def __init__(self, items=()):
        super().__init__(items)
        self.markup: dict[str, str] = {}


def _options_markup(choices) -> str:
    language = get_language()
    kept = choices.markup if isinstance(choices, SharedChoices) else None
    if kept is not None and language in kept:
        return kept[language]
    try:
        key = (language, tuple((str(v), str(label)) for v, label in choices))
    except (TypeError, ValueError):  # grouped choices: not cached
        return _options(choices)
    markup = _OPTIONS.get(key)
    if markup is None:
        if len(_OPTIONS) >= _OPTIONS_MAX:
            _OPTIONS.pop(next(iter(_OPTIONS)))
        markup = _OPTIONS[key] = _options(choices)
    if kept is not None:
        kept[language] = markup
    return markup


@register.simple_tag
def select(field, **attrs):
    """A ``<select>`` for a bound choice field without Django's per-option widget templates.

    Filter forms list hundreds of types, areas and departments; rendering each option through the
    widget template system cost most of a queue page's time. The options' markup is kept per language
    and list, and the current value marked in it.
    """
    current = field.value()
    current = "" if current is None else str(current)
    markup = _options_markup(field.field.choices)
    needle = f'<option value="{quote(current)}">'
    markup = markup.replace(needle, f'<option value="{quote(current)}" selected>', 1)
    extra = "".join(f' {quote(str(k))}="{quote(str(v))}"' for k, v in attrs.items())
    return mark_safe(  # noqa: S308 (every value above is escaped)
        f'<select name="{quote(field.html_name)}" id="{quote(field.id_for_label)}"{extra}>{markup}</select>'
    )
