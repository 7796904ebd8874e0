"""Pure rules: opening hours, distances, schedules and the figures' formulas (no database)."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from cityops.facilities import rules
from cityops.geography import distance

TZ = ZoneInfo("Asia/Shanghai")


def at(day, hh, mm=0):
    # 2026-03-09 is a Monday.
    return datetime(2026, 3, 9 + day, hh, mm, tzinfo=TZ)


@pytest.mark.parametrize("spec", ["24h", "24/7", "00:00-24:00", "Mo-Su 00:00-24:00"])
def test_always_open(spec):
    assert rules.parse_hours(spec).always
    assert rules.is_open(spec, at(6, 3))
    assert rules.is_24h(spec)


def test_daily_range_ends_exclusive():
    spec = "06:00-22:00"
    assert not rules.is_open(spec, at(0, 5, 59))
    assert rules.is_open(spec, at(0, 6, 0))
    assert rules.is_open(spec, at(0, 21, 59))
    assert not rules.is_open(spec, at(0, 22, 0))
    assert not rules.is_24h(spec)


def test_weekday_rules_and_off_days():
    spec = "Mo-Fr 06:00-22:00; Sa-Su 07:00-21:00"
    assert rules.is_open(spec, at(4, 6, 30))  # Friday
    assert not rules.is_open(spec, at(5, 6, 30))  # Saturday opens at 7
    assert rules.is_open(spec, at(6, 20, 59))
    assert not rules.is_open("Mo-Sa 06:00-22:00; Su off", at(6, 12))
    assert rules.is_open("Mo,We,Fr 08:00-12:00,14:00-18:00", at(2, 15))
    assert not rules.is_open("Mo,We,Fr 08:00-12:00,14:00-18:00", at(2, 13))
    assert not rules.is_open("Mo,We,Fr 08:00-12:00,14:00-18:00", at(1, 9))


def test_later_rule_replaces_earlier_and_ranges_past_midnight():
    assert not rules.is_open("06:00-22:00; Su off", at(6, 12))
    spec = "Fr-Sa 20:00-02:00"
    assert rules.is_open(spec, at(4, 23))  # Friday night
    assert rules.is_open(spec, at(5, 1, 30))  # early Saturday, from Friday's range
    assert rules.is_open(spec, at(6, 1, 30))  # early Sunday, from Saturday's range
    assert not rules.is_open(spec, at(0, 1, 30))  # early Monday: Sunday has no range
    assert rules.is_open("Su-Mo 10:00-11:00", at(0, 10, 30))  # wrapping day range


def test_utc_instants_are_judged_in_local_time():
    utc = datetime(2026, 3, 9, 22, 30, tzinfo=ZoneInfo("UTC"))  # 06:30 Tuesday in 长治
    assert rules.is_open("06:00-22:00", utc)


@pytest.mark.parametrize(
    "spec", ["", "6-22", "06:00-25:00", "Xx 06:00-22:00", "Mo-Fr", "06:00-06:00", "06:60-07:00"]
)
def test_bad_specs_raise_and_count_as_closed(spec):
    with pytest.raises(rules.OpeningHoursError):
        rules.parse_hours(spec)
    assert not rules.is_open(spec, at(0, 12))


def test_haversine_and_bbox():
    # One degree of latitude is about 111.2 km.
    assert distance.haversine_m(36.0, 113.0, 37.0, 113.0) == pytest.approx(111_195, rel=1e-3)
    assert distance.haversine_m(36.195, 113.117, 36.195, 113.117) == 0
    d = distance.haversine_m(36.195, 113.117, 36.195, 113.127)  # 0.01 degree east at 36 N
    assert d == pytest.approx(899, abs=3)
    lo_lat, hi_lat, lo_lon, hi_lon = distance.bbox(36.195, 113.117, 1000)
    assert distance.haversine_m(36.195, 113.117, hi_lat, 113.117) == pytest.approx(1000, rel=0.01)
    assert distance.haversine_m(36.195, 113.117, 36.195, hi_lon) == pytest.approx(1000, rel=0.01)
    assert lo_lat < 36.195 < hi_lat and lo_lon < 113.117 < hi_lon


def test_inspection_status():
    now = at(2, 12)
    assert rules.inspection_status(None, 7, now) == "never"
    assert rules.inspection_status(now - timedelta(days=3), 7, now) == "ok"
    assert rules.inspection_status(now - timedelta(days=6, hours=1), 7, now) == "due"
    assert rules.inspection_status(now - timedelta(days=7), 7, now) == "late"
    assert rules.next_due(now, 7) == now + timedelta(days=7)


def test_figures_formulas():
    assert rules.compliance(9, 10).rate == Decimal("90.0")
    assert rules.compliance(2, 3).rate == Decimal("66.7")
    assert rules.compliance(0, 0).rate is None
    assert str(rules.compliance(159, 159)) == "159/159"
    cov = rules.supplies_coverage(
        {"a": {"soap": True, "paper": True}, "b": {"soap": True, "paper": False}, "c": None}
    )
    assert (cov.part, cov.whole) == (1, 3)
    done = rules.station_completion([True, True, False, True])
    assert (done.part, done.whole, done.rate) == (3, 4, Decimal("75.0"))


def test_open_state_parses_each_text_once_and_bad_hours_stay_closed():
    rules._parsed.cache_clear()
    for _ in range(3):
        assert rules.is_open("06:00-22:00", at(0, 12))
        assert not rules.is_24h("06:00-22:00")
        assert not rules.is_open("whenever", at(0, 12))  # unparseable: closed, never an error
        assert not rules.is_24h("whenever")
    info = rules._parsed.cache_info()
    assert (info.misses, info.hits) == (2, 10)
    with pytest.raises(rules.OpeningHoursError):  # the parser itself still explains the mistake
        rules.parse_hours("whenever")
