"""Choice labels as plain text in the active language, looked up once per language and process."""

from __future__ import annotations

from types import MappingProxyType

from django.db.models import Choices
from django.utils.translation import get_language

_LABELS: dict[tuple[type[Choices], str | None], MappingProxyType] = {}


def labels_of(choices: type[Choices]) -> MappingProxyType:
    """``{value: label}`` of a choices class, the labels translated into the active language.

    A choices label is a lazy text, translated again at each use through the thread's active language:
    a work queue page turned fifty state labels into text that way, ninety translations a page with
    the rest. A class's labels cannot change while the process runs, so each language's are kept
    (read-only: every caller shares them).
    """
    key = (choices, get_language())
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = MappingProxyType({value: str(label) for value, label in choices.choices})
    return found
