"""Jinja2 for the busiest staff pages (the work queue and the case page), next to Django's templates.

Those two pages are opened hundreds of times an hour by every dispatcher, and the Django template
language spent a third of their time walking its nodes and resolving variables one lookup at a time.
Jinja2 compiles a template to Python once, which renders the same markup several times faster.

The environment offers what those templates use from Django: ``_`` (Django's ``gettext``, so the
active language and the project's catalogue apply; written as ``{{ _("...") }}`` so ``makemessages``
extracts it), ``url``, ``static``, the project's ``select``, ``case_rows`` and ``case_timeline``, and
Django's filters under their own names, with ``date`` showing local time as Django's does. The
template backend (``cityops.core.templates.Jinja2``, with this module's ``environment``) adds the
context processors' values, as for every Django template.
"""

from __future__ import annotations

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils.timezone import template_localtime
from django.utils.translation import gettext
from jinja2 import Environment

from cityops.cases.templatetags.case_rows import case_rows
from cityops.cases.templatetags.case_timeline import case_timeline
from cityops.core.templatetags.cityops import select, unit_label


def url(name: str, *args, **kwargs) -> str:
    """``{% url %}``: the path of a named route."""
    return reverse(name, args=args or None, kwargs=kwargs or None)


def date(value, fmt: str | None = None) -> str:
    """Django's ``date`` filter, in the current time zone (as the template language converts first)."""
    return defaultfilters.date(template_localtime(value), fmt)


def linebreaksbr(value) -> str:
    """Django's ``linebreaksbr``: the text escaped, line breaks as ``<br>``."""
    return defaultfilters.linebreaksbr(value, autoescape=True)


def environment(**options) -> Environment:
    options.setdefault("keep_trailing_newline", True)  # as Django templates end
    env = Environment(**options)  # noqa: S701 (the backend passes autoescape=True)
    env.globals.update(
        {
            # only as ``{{ _("...") }}``: makemessages finds a text there and nowhere else
            "_": gettext,
            "url": url,
            "static": static,
            "select": select,
            "case_rows": case_rows,
            "case_timeline": case_timeline,
        }
    )
    env.filters.update(
        {
            "date": date,
            "floatformat": defaultfilters.floatformat,
            "stringformat": defaultfilters.stringformat,
            "linebreaksbr": linebreaksbr,
            "unit_label": unit_label,
        }
    )
    return env
