"""Loads the editable working calendar from the database for the pure ``worktime`` module."""


def calendar_warnings() -> list[str]:
    return []
