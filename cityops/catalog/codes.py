"""Code rules of GB/T 47678.5 (pure: no ORM, no settings).

* type code: 2-digit major class + 3-digit minor class = 5 digits (``01001``);
* component identifier: 6-digit county-level adcode (GB/T 2260) + 5-digit type code + 6-digit
  sequence number = 17 digits, one physical asset;
* matter code: 6-digit county-level adcode + 5-digit type code = 11 digits, a matter type in a county
  (not one occurrence).

Validators raise ``ValueError`` with a translated message so adapters can show it as it is.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from django.utils.translation import gettext as _

TYPE_CODE_LENGTH = 5
MAJOR_CODE_LENGTH = 2
ADCODE_LENGTH = 6
SEQUENCE_LENGTH = 6
COMPONENT_IDENTIFIER_LENGTH = ADCODE_LENGTH + TYPE_CODE_LENGTH + SEQUENCE_LENGTH  # 17
MATTER_CODE_LENGTH = ADCODE_LENGTH + TYPE_CODE_LENGTH  # 11

_DIGITS = re.compile(r"\d+")


def _digits(value: str, length: int) -> bool:
    return isinstance(value, str) and len(value) == length and bool(_DIGITS.fullmatch(value))


def is_major_code(value: str) -> bool:
    """Two digits, not ``00``."""
    return _digits(value, MAJOR_CODE_LENGTH) and value != "00"


def is_type_code(value: str) -> bool:
    """Five digits: a major class other than ``00`` and a minor class other than ``000``."""
    return _digits(value, TYPE_CODE_LENGTH) and value[:2] != "00" and value[2:] != "000"


def is_county_adcode(value: str) -> bool:
    """A county-level GB/T 2260 code: six digits, the last two not ``00`` (that is a city or province)."""
    return _digits(value, ADCODE_LENGTH) and value[:2] != "00" and value[4:] != "00"


def major_of(type_code: str) -> str:
    return type_code[:MAJOR_CODE_LENGTH]


def check_type_code(value: str) -> str:
    if not is_type_code(value):
        raise ValueError(
            _("%(value)r is not a catalogue code: expected 5 digits, e.g. 01001.") % {"value": value}
        )
    return value


def check_major_code(value: str) -> str:
    if not is_major_code(value):
        raise ValueError(
            _("%(value)r is not a major class code: expected 2 digits, e.g. 01.") % {"value": value}
        )
    return value


def _check_adcode(value: str) -> str:
    if not is_county_adcode(value):
        raise ValueError(
            _("%(value)r is not a county-level division code: expected 6 digits, e.g. 140403.")
            % {"value": value}
        )
    return value


class ComponentIdentifier(NamedTuple):
    adcode: str
    type_code: str
    sequence: int

    @property
    def major(self) -> str:
        return major_of(self.type_code)

    def __str__(self) -> str:
        return f"{self.adcode}{self.type_code}{self.sequence:0{SEQUENCE_LENGTH}d}"


class MatterCode(NamedTuple):
    adcode: str
    type_code: str

    @property
    def major(self) -> str:
        return major_of(self.type_code)

    def __str__(self) -> str:
        return f"{self.adcode}{self.type_code}"


def component_identifier(adcode: str, type_code: str, sequence: int) -> str:
    """The 17-digit identifier of one component (asset) in a county."""
    _check_adcode(adcode)
    check_type_code(type_code)
    if isinstance(sequence, bool) or not isinstance(sequence, int) or not 1 <= sequence <= 999_999:
        raise ValueError(_("The sequence number must be a whole number from 1 to 999999."))
    return str(ComponentIdentifier(adcode, type_code, sequence))


def parse_component_identifier(value: str) -> ComponentIdentifier:
    """Split and validate a 17-digit component identifier."""
    value = (value or "").strip()
    if not _digits(value, COMPONENT_IDENTIFIER_LENGTH):
        raise ValueError(
            _("%(value)r is not a component identifier: expected 17 digits (division, type, sequence).")
            % {"value": value}
        )
    adcode, type_code, seq = value[:6], value[6:11], int(value[11:])
    _check_adcode(adcode)
    check_type_code(type_code)
    if seq < 1:
        raise ValueError(_("The sequence number must be a whole number from 1 to 999999."))
    return ComponentIdentifier(adcode, type_code, seq)


def matter_code(adcode: str, type_code: str) -> str:
    """The 11-digit code of a matter type in a county."""
    _check_adcode(adcode)
    check_type_code(type_code)
    return str(MatterCode(adcode, type_code))


def parse_matter_code(value: str) -> MatterCode:
    """Split and validate an 11-digit matter code."""
    value = (value or "").strip()
    if not _digits(value, MATTER_CODE_LENGTH):
        raise ValueError(
            _("%(value)r is not a matter code: expected 11 digits (division, type).") % {"value": value}
        )
    adcode, type_code = value[:6], value[6:]
    _check_adcode(adcode)
    check_type_code(type_code)
    return MatterCode(adcode, type_code)
