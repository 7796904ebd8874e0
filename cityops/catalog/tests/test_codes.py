"""The GB/T 47678.5 code rules, without a database."""

import pytest

from cityops.catalog.codes import (
    ComponentIdentifier,
    MatterCode,
    component_identifier,
    is_county_adcode,
    is_major_code,
    is_type_code,
    matter_code,
    parse_component_identifier,
    parse_matter_code,
)


@pytest.mark.parametrize("code", ["01001", "06052", "90003", "10002"])
def test_type_codes(code):
    assert is_type_code(code)


@pytest.mark.parametrize("code", ["1001", "010011", "00001", "01000", "0100A", "", None, 1001])
def test_bad_type_codes(code):
    assert not is_type_code(code)


def test_major_and_adcode():
    assert is_major_code("01") and is_major_code("90")
    assert not is_major_code("00") and not is_major_code("1") and not is_major_code("001")
    assert is_county_adcode("140403")
    assert not is_county_adcode("140400")  # the city, not a county
    assert not is_county_adcode("14040") and not is_county_adcode("14040x")


def test_component_identifier_round_trip():
    ident = component_identifier("140403", "01001", 42)
    assert ident == "14040301001000042"
    assert len(ident) == 17
    parsed = parse_component_identifier(ident)
    assert parsed == ComponentIdentifier("140403", "01001", 42)
    assert parsed.major == "01"
    assert str(parsed) == ident


@pytest.mark.parametrize(
    "args",
    [
        ("140400", "01001", 1),  # city-level adcode
        ("140403", "0100", 1),
        ("140403", "01001", 0),
        ("140403", "01001", 1_000_000),
        ("140403", "01001", True),
    ],
)
def test_component_identifier_rejects(args):
    with pytest.raises(ValueError):
        component_identifier(*args)


@pytest.mark.parametrize(
    "value",
    ["1404030100100004", "140403010010000421", "14040301001000000", "14040001001000001", "1404030100A000001"],
)
def test_parse_component_identifier_rejects(value):
    with pytest.raises(ValueError):
        parse_component_identifier(value)


def test_matter_code():
    code = matter_code("140404", "07001")
    assert code == "14040407001"
    assert parse_matter_code(code) == MatterCode("140404", "07001")
    assert parse_matter_code(" 14040407001 ").type_code == "07001"
    for bad in ("1404040700", "140400070011", "14040007001", "14040400000"):
        with pytest.raises(ValueError):
            parse_matter_code(bad)
