"""URL path converters of the project."""

from __future__ import annotations


class KeyConverter:
    """A record's key in a URL (a case number, a facility code): any text without a slash or a NUL.

    Django's ``str`` lets a NUL through (``/cases/%00/``), and PostgreSQL refuses a NUL in any text
    parameter with an error: the lookup failed with a 500 where there is simply no such page. Such a
    path now matches no route and is answered 404.
    """

    regex = "[^/\x00]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value) -> str:
        return str(value)
