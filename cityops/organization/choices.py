from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Role(models.TextChoices):
    """Staff roles of the platform (citizens report without an account)."""

    INSPECTOR = "inspector", _("Inspector")
    OPERATOR = "operator", _("Operator")
    DUTY_CHIEF = "duty_chief", _("Duty chief")
    DISPATCHER = "dispatcher", _("Dispatcher")
    HANDLER = "handler", _("Department handler")
    LEADER = "leader", _("Leader")
    ADMIN = "admin", pgettext_lazy("role", "Administrator")


# The command centre sees the whole city; a department sees itself and what it oversees.
CITY_WIDE_ROLES = frozenset({Role.OPERATOR, Role.DUTY_CHIEF, Role.DISPATCHER, Role.LEADER, Role.ADMIN})

# When a person holds several roles, the home page follows the first in this order.
ROLE_PRIORITY = [
    Role.ADMIN,
    Role.LEADER,
    Role.DUTY_CHIEF,
    Role.DISPATCHER,
    Role.OPERATOR,
    Role.HANDLER,
    Role.INSPECTOR,
]


class DepartmentKind(models.TextChoices):
    CENTRE = "centre", _("Command centre")
    CITY_BUREAU = "city_bureau", _("City bureau")
    DISTRICT_BUREAU = "district_bureau", _("District or county bureau")
    DISTRICT_GOVERNMENT = "district_government", _("District or county government")
    STREET_OFFICE = "street_office", _("Street office or township")
    UTILITY = "utility", _("Utility company")
    CONTRACTOR = "contractor", _("Contractor")
