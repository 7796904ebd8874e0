"""System checks: warn operators when the working calendar lacks official data.

Tagged ``database`` as Django asks of checks that query: they run with ``check --database default``
and before ``migrate``, not on every management command.
"""

from __future__ import annotations

from django.core.checks import Tags, Warning, register
from django.db import DatabaseError

from cityops.core import calendar


@register(Tags.database)
def check_calendar_coverage(app_configs=None, databases=None, now=None, **kwargs):
    if not databases or "default" not in databases:
        return []
    try:
        current, following = calendar.calendar_gaps(now)
    except DatabaseError:
        # Tables not migrated yet (the check runs at the start of migrate): nothing to say.
        return []
    problems = []
    if current is not None:
        problems.append(
            Warning(calendar.current_year_message(current), hint=calendar.fix_hint(), id="cityops.W002")
        )
    if following is not None:
        problems.append(
            Warning(calendar.next_year_message(following), hint=calendar.fix_hint(), id="cityops.W001")
        )
    return problems
