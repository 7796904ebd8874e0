"""Vocabularies of the case loop, declared once with translated labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from cityops.catalog.choices import Kind, Urgency  # declared once, with the catalogue

__all__ = ["Action", "Kind", "PhotoStage", "Rating", "Source", "Stage", "State", "Urgency"]


class Source(models.TextChoices):
    INSPECTOR = "inspector", _("Inspector")
    PUBLIC = "public", _("Public")
    HOTLINE = "hotline", _("Hotline")
    VIDEO = "video", _("Video")
    SUPERIOR = "superior", _("Superior")
    INSPECTION = "inspection", _("Facility inspection")


class State(models.TextChoices):
    TO_VERIFY = "to_verify", _("To verify")
    TO_FILE = "to_file", _("To file")
    TO_DISPATCH = "to_dispatch", _("To dispatch")
    DISPATCHED = "dispatched", _("Dispatched")
    HANDLING = "handling", _("In handling")
    PARKED = "parked", _("Parked")
    TO_CHECK = "to_check", _("To check")
    TO_CLOSE = "to_close", _("To close")
    CLOSED = "closed", pgettext_lazy("case state", "Closed")
    REJECTED = "rejected", _("Not filed")
    INVALID = "invalid", _("Invalidated")
    MERGED = "merged", _("Merged")


OPEN_STATES = frozenset(
    {
        State.TO_VERIFY,
        State.TO_FILE,
        State.TO_DISPATCH,
        State.DISPATCHED,
        State.HANDLING,
        State.PARKED,
        State.TO_CHECK,
        State.TO_CLOSE,
    }
)
# Open states in which a clock can run: a parked case is always paused. Overdue lists ask for these
# (with ``paused_at`` unset), so the parked cases a city accumulates are never read to be dropped.
CLOCK_STATES = OPEN_STATES - {State.PARKED}
ENDED_STATES = frozenset({State.CLOSED, State.REJECTED, State.INVALID, State.MERGED})
# States in which the responsible department owns the case.
DEPARTMENT_STATES = frozenset({State.DISPATCHED, State.HANDLING, State.PARKED})


class Action(models.TextChoices):
    REPORT = "report", _("Report")
    VERIFY = "verify", _("Verify")
    FILE = "file", _("File")
    REJECT = "reject", _("Reject")
    INVALIDATE = "invalidate", _("Invalidate")
    MERGE = "merge", _("Merge")
    DISPATCH = "dispatch", _("Dispatch")
    RETURN = "return", _("Return")
    ACCEPT = "accept", _("Accept")
    REQUEST_EXTENSION = "request_extension", _("Request extension")
    APPROVE_EXTENSION = "approve_extension", _("Approve extension")
    DENY_EXTENSION = "deny_extension", _("Deny extension")
    PARK = "park", _("Park")
    UNPARK = "unpark", _("Unpark")
    REPORT_DONE = "report_done", _("Report done")
    CHECK_PASS = "check_pass", _("Check passed")
    CHECK_FAIL = "check_fail", _("Check failed")
    CLOSE = "close", pgettext_lazy("action", "Close")
    URGE = "urge", _("Urge")
    REOPEN = "reopen", _("Reopen")
    OVERDUE = "overdue", _("Overdue")
    COMMENT = "comment", _("Comment")
    REPLY = "reply", _("Reply to the reporter")
    FOLLOW = "follow", _("Me too")
    RATE = "rate", _("Rated by the reporter")
    REOPEN_REQUEST = "reopen_request", _("Reopen requested")


class Stage(models.TextChoices):
    """Clocked steps of the loop; each has a step limit or (handling) the standard's limit."""

    VERIFY = "verify", _("Verification")
    FILE = "file", _("Filing")
    DISPATCH = "dispatch", _("Dispatch")
    HANDLE = "handle", _("Handling")
    CHECK = "check", _("Check")
    CLOSE = "close", _("Closing")


class Rating(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASIC = "basic", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Not satisfied")


class PhotoStage(models.TextChoices):
    REPORT = "report", _("Report")
    HANDLED = "handled", _("Handled")
    CHECKED = "checked", _("Checked")
