"""Shared output of the catalogue commands: counts per section, or every issue with its place."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityops.catalog.services import SECTION_LABELS


def report(command, result) -> None:
    if result.issues:
        for issue in result.issues:
            command.stderr.write(str(issue))
        count = len(result.issues)
        raise CommandError(
            ngettext(
                "%(count)s problem found; nothing was changed.",
                "%(count)s problems found; nothing was changed.",
                count,
            )
            % {"count": count}
        )
    for section, counts in result.counts.items():
        command.stdout.write(f"{SECTION_LABELS.get(section, section)}: {counts}")
    if result.dry_run:
        command.stdout.write(_("Dry run: nothing was changed."))
