"""The calendar tables: seeding, importing, the cached loader, warnings, the system check, the admin."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from cityops.core import calendar as cal_mod
from cityops.core import worktime as wt
from cityops.core.checks import check_calendar_coverage
from cityops.core.models import (
    CalendarDay,
    CalendarRevision,
    CalendarSource,
    CalendarYear,
    TimeUnit,
    WorkPeriod,
    WorkSchedule,
)
from cityops.core.tests.test_worktime import HOLIDAYS_2026, MAKE_UP_2026

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=SH)


def seed(*args):
    out = io.StringIO()
    call_command("core_calendar_seed", *args, stdout=out)
    return out.getvalue()


def package_day_count(first=2004, last=2026):
    return sum(len(cal_mod.package_days(y)) for y in range(first, last + 1))


@pytest.fixture
def seeded():
    seed()


# ---------------------------------------------------------------------------------------------
# Models and the fresh database


def test_time_unit_choices_match_the_pure_units():
    assert set(TimeUnit.values) == {u.value for u in wt.Unit}


def test_a_fresh_database_has_the_default_work_periods():
    schedule = WorkSchedule.objects.get()
    assert [(p.start, p.end) for p in schedule.periods.all()] == list(wt.DEFAULT_PERIODS)
    assert schedule.valid_from is None and schedule.valid_to is None


def test_the_package_matches_the_2026_schedule_written_out_by_hand():
    days = cal_mod.package_days(2026)
    holidays = {d for d, (is_workday, _) in days.items() if not is_workday}
    expected = set()
    for first, last in HOLIDAYS_2026.values():
        expected |= {first + timedelta(days=i) for i in range((last - first).days + 1)}
    assert holidays == expected
    assert {d: name for d, (is_workday, name) in days.items() if is_workday} == MAKE_UP_2026
    assert days[date(2026, 10, 1)] == (False, "国庆节")


# ---------------------------------------------------------------------------------------------
# Seeding


def test_seed_loads_2004_to_2026_and_is_idempotent():
    out = seed()
    total = package_day_count()
    assert CalendarDay.objects.count() == total
    assert f"{total} days created" in out
    assert set(CalendarYear.objects.filter(official=True).values_list("year", flat=True)) == set(
        range(2004, 2027)
    )
    assert CalendarYear.objects.get(year=2026).source.startswith("chinese-calendar")
    assert "0 days created, 0 updated, 0 removed" in seed()
    assert CalendarDay.objects.count() == total
    assert WorkSchedule.objects.count() == 1


def test_seed_never_overwrites_days_edited_by_hand_and_repairs_official_ones():
    seed()
    CalendarDay.objects.filter(date=date(2026, 2, 14)).update(
        is_workday=False, name="市里另行安排", source=CalendarSource.MANUAL
    )
    CalendarDay.objects.filter(date=date(2026, 10, 1)).update(name="wrong")
    CalendarDay.objects.create(date=date(2026, 3, 3), is_workday=False, name="stale", source="official")
    CalendarDay.objects.create(date=date(2026, 3, 4), is_workday=False, name="本市停工", source="manual")
    out = seed("--first-year", "2026", "--last-year", "2026")
    assert "0 days created, 1 updated, 1 removed, 2 edited by hand kept" in out
    kept = CalendarDay.objects.get(date=date(2026, 2, 14))
    assert (kept.is_workday, kept.name, kept.source) == (False, "市里另行安排", "manual")
    assert CalendarDay.objects.get(date=date(2026, 10, 1)).name == "国庆节"
    assert not CalendarDay.objects.filter(date=date(2026, 3, 3)).exists()
    assert CalendarDay.objects.filter(date=date(2026, 3, 4), source="manual").exists()


def test_seed_restores_the_default_schedule_when_there_is_none():
    WorkSchedule.objects.all().delete()
    seed("--first-year", "2026", "--last-year", "2026")
    assert [(p.start, p.end) for p in WorkPeriod.objects.order_by("start")] == list(wt.DEFAULT_PERIODS)


def test_seed_refuses_years_the_package_does_not_have():
    with pytest.raises(CommandError, match="2027"):
        seed("--first-year", "2026", "--last-year", "2027")
    with pytest.raises(CommandError):
        seed("--first-year", "2026", "--last-year", "2025")
    assert not CalendarDay.objects.exists()


def test_the_seeded_calendar_gives_the_done_when_deadlines(seeded):
    cal = cal_mod.load_calendar()
    assert wt.add(at(2026, 2, 13, 17), 4, wt.Unit.WORK_HOUR, cal) == at(2026, 2, 14, 11, 30)
    assert wt.add(at(2026, 2, 13, 17), 12, wt.Unit.WORK_HOUR, cal) == at(2026, 2, 24, 15)
    assert wt.add(at(2026, 9, 18, 17), 2, wt.Unit.WORK_DAY, cal) == at(2026, 9, 21, 18)
    assert cal.covers(date(2004, 1, 1)) and not cal.covers(date(2027, 1, 1))


# ---------------------------------------------------------------------------------------------
# Importing a year


YAML_2027 = """\
year: 2027
source: 国务院办公厅关于2027年部分节假日安排的通知
holidays:
  - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
  - {name: 春节, from: 2027-02-06, to: 2027-02-13}
workdays:
  - {name: 春节调休上班, date: 2027-02-14}
"""


def import_file(tmp_path, name, text, *args):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    out = io.StringIO()
    call_command("core_calendar_import", str(path), *args, stdout=out)
    return out.getvalue()


def test_import_a_published_year_from_yaml(tmp_path):
    out = import_file(tmp_path, "2027.yaml", YAML_2027)
    assert "Calendar 2027: 12 days created" in out
    year = CalendarYear.objects.get(year=2027)
    assert year.official and year.source.startswith("国务院办公厅")
    cal = cal_mod.load_calendar()
    assert cal.covers(date(2027, 2, 10)) and cal.day_name(date(2027, 2, 14)) == "春节调休上班"
    outcome = wt.add_detailed(at(2027, 2, 5, 17), 2, wt.Unit.WORK_DAY, cal)
    assert outcome.at == at(2027, 2, 15, 18) and not outcome.assumed
    assert "0 days created, 0 updated, 0 removed" in import_file(tmp_path, "2027.yaml", YAML_2027)


def test_import_replaces_official_days_but_keeps_hand_edits(tmp_path):
    import_file(tmp_path, "2027.yaml", YAML_2027)
    CalendarDay.objects.filter(date=date(2027, 1, 3)).update(is_workday=True, source="manual")
    text = YAML_2027.replace("to: 2027-02-13", "to: 2027-02-12")
    out = import_file(tmp_path, "2027.yaml", text)
    assert "0 days created, 0 updated, 1 removed, 1 edited by hand kept" in out
    assert CalendarDay.objects.get(date=date(2027, 1, 3)).is_workday


def test_import_from_csv_and_provisional_years(tmp_path):
    text = "date,is_workday,name\n2028-01-01,false,元旦\n2028-01-29,yes,春节调休上班\n"
    import_file(tmp_path, "2028.csv", text, "--provisional", "--source", "draft")
    year = CalendarYear.objects.get(year=2028)
    assert not year.official and year.source == "draft"
    cal = cal_mod.load_calendar()
    assert not cal.covers(date(2028, 1, 1)) and not cal.is_workday(date(2028, 1, 1))
    assert not cal.is_assumed(date(2028, 1, 1)) and cal.is_assumed(date(2028, 1, 3))


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("x.yaml", "year: 2027\nholidays:\n  - {name: a, date: 2028-01-01}\n", "one year"),
        (
            "x.yaml",
            "holidays:\n  - {name: a, date: 2027-01-01}\nworkdays:\n  - {name: b, date: 2027-01-01}\n",
            "both",
        ),
        ("x.yaml", "holidays: [{name: a}]\n", "from/to"),
        ("x.yaml", "holidays:\n  - {name: a, date: 2027-13-01}\n", "not a date"),
        ("x.yaml", "- just\n- a list\n", "mapping"),
        ("x.yaml", "year: 2027\n", "no days"),
        ("x.yaml", "holidays: [\n", "not valid YAML"),
        ("x.csv", "day,kind\n2027-01-01,x\n", "columns"),
        ("x.csv", "date,is_workday,name\n2027-01-01,maybe,x\n", "yes/no"),
    ],
)
def test_import_refuses_bad_files(tmp_path, name, text, message):
    with pytest.raises(CommandError, match=message):
        import_file(tmp_path, name, text)
    assert not CalendarDay.objects.exists()


def test_import_of_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("core_calendar_import", str(tmp_path / "nope.yaml"))


# ---------------------------------------------------------------------------------------------
# The cached loader


def test_the_loader_caches_and_checks_with_one_query(seeded, django_assert_num_queries, settings):
    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 0  # check on every use
    first = cal_mod.load_calendar()
    with django_assert_num_queries(1):
        assert cal_mod.load_calendar() is first


def test_edits_through_the_orm_invalidate_the_cache(seeded):
    before = cal_mod.load_calendar()
    assert before.is_workday(date(2026, 2, 14))
    day = CalendarDay.objects.get(date=date(2026, 2, 14))
    day.is_workday = False
    day.save()
    after = cal_mod.load_calendar()
    assert after is not before and not after.is_workday(date(2026, 2, 14))
    day.delete()
    assert not cal_mod.load_calendar().is_workday(date(2026, 2, 14))  # an ordinary Saturday again
    CalendarYear.objects.filter(year=2026).delete()
    assert not cal_mod.load_calendar().covers(date(2026, 1, 1))


def test_an_edit_in_another_process_is_seen_through_the_revision_token(seeded, settings):
    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 0
    before = cal_mod.load_calendar()
    # Another process changes the data and the token; nothing is signalled here.
    CalendarDay.objects.filter(date=date(2026, 10, 8)).delete()
    CalendarDay.objects.bulk_create([CalendarDay(date=date(2026, 10, 8), is_workday=False, name="x")])
    CalendarRevision.objects.filter(pk=1).update(token="from-another-process")
    after = cal_mod.load_calendar()
    assert after is not before and not after.is_workday(date(2026, 10, 8))


def test_work_schedules_from_the_database(seeded):
    summer = WorkSchedule.objects.create(
        name="夏季作息", valid_from=date(2026, 5, 1), valid_to=date(2026, 9, 30)
    )
    WorkPeriod.objects.create(schedule=summer, start=time(8), end=time(12))
    WorkPeriod.objects.create(schedule=summer, start=time(15), end=time(18, 30))
    WorkSchedule.objects.create(name="unfinished", valid_from=date(2026, 6, 1))  # no periods: ignored
    cal = cal_mod.load_calendar()
    assert cal.periods_for(date(2026, 7, 1)) == ((time(8), time(12)), (time(15), time(18, 30)))
    assert cal.periods_for(date(2026, 10, 8)) == wt.DEFAULT_PERIODS
    assert cal.time_zone == "Asia/Shanghai"


def test_without_any_schedule_the_loader_uses_the_default_periods():
    WorkSchedule.objects.all().delete()
    assert cal_mod.load_calendar().periods_for(date(2026, 3, 2)) == wt.DEFAULT_PERIODS


def test_schedule_validation():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        WorkSchedule(name="x", valid_from=date(2026, 2, 1), valid_to=date(2026, 1, 1)).full_clean()
    with pytest.raises(ValidationError):
        WorkSchedule(name="second default").full_clean()  # the default already starts "since always"
    with pytest.raises(ValidationError):
        WorkPeriod(schedule=WorkSchedule.objects.get(), start=time(12), end=time(8)).full_clean()


# ---------------------------------------------------------------------------------------------
# Warnings and the system check


@pytest.mark.parametrize(
    ("now", "years"),
    [
        (datetime(2026, 6, 1, 4), []),
        (datetime(2026, 9, 30, 15, 59), []),  # 23:59 in Shanghai
        (datetime(2026, 9, 30, 16, 0), [2027]),  # October 1st in Shanghai
        (datetime(2026, 11, 28), [2027]),
        (datetime(2027, 3, 1), [2027]),
        (datetime(2027, 11, 1), [2027, 2028]),
    ],
)
def test_calendar_warnings_follow_the_date(seeded, now, years):
    messages = cal_mod.calendar_warnings(now.replace(tzinfo=UTC))
    assert len(messages) == len(years)
    for message, year in zip(messages, years, strict=True):
        assert str(year) in message


def test_warnings_stop_once_next_year_is_official(seeded):
    CalendarYear.objects.create(year=2027, official=True)
    assert cal_mod.calendar_warnings(at(2026, 11, 28)) == []


def test_a_provisional_year_still_warns(seeded):
    CalendarYear.objects.create(year=2027, official=False)
    assert len(cal_mod.calendar_warnings(at(2026, 11, 28))) == 1


def test_system_check_warns_about_next_and_current_year(seeded):
    assert check_calendar_coverage(databases=["default"], now=at(2026, 6, 1)) == []
    [warning] = check_calendar_coverage(databases=["default"], now=at(2026, 10, 2))
    assert warning.id == "cityops.W001" and "2027" in warning.msg and warning.hint
    ids = [w.id for w in check_calendar_coverage(databases=["default"], now=at(2027, 10, 2))]
    assert ids == ["cityops.W002", "cityops.W001"]
    assert check_calendar_coverage(databases=None, now=at(2027, 10, 2)) == []


def test_system_check_runs_with_the_database_tag():
    # No calendar years at all: the current year is always missing, whatever today is.
    err = io.StringIO()
    call_command("check", databases=["default"], stderr=err, stdout=io.StringIO())
    assert "cityops.W002" in err.getvalue()


# ---------------------------------------------------------------------------------------------
# Admin


@pytest.fixture
def admin_client_en(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw-for-tests-only")
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_admin_pages_render_and_show_the_coverage_banner(seeded, admin_client_en):
    CalendarYear.objects.filter(year=2026).update(official=False)
    for model in ("calendaryear", "calendarday", "workschedule"):
        response = admin_client_en.get(reverse(f"admin:core_{model}_changelist"))
        assert response.status_code == 200
        assert "no official holiday schedule for 2026" in response.content.decode()
    response = admin_client_en.get(reverse("admin:core_calendaryear_changelist"))
    row = next(y for y in response.context["cl"].result_list if y.year == 2026)
    assert (row.holidays, row.workdays) == (33, 6)


def test_a_day_saved_in_the_admin_becomes_manual_and_survives_the_seed(seeded, admin_client_en):
    day = CalendarDay.objects.get(date=date(2026, 2, 28))
    url = reverse("admin:core_calendarday_change", args=[day.pk])
    response = admin_client_en.post(url, {"date": "2026-02-28", "name": "不调休", "note": ""})
    assert response.status_code == 302
    day.refresh_from_db()
    assert (day.is_workday, day.source) == (False, "manual")
    seed("--first-year", "2026", "--last-year", "2026")
    day.refresh_from_db()
    assert not day.is_workday
    assert not cal_mod.load_calendar().is_workday(date(2026, 2, 28))


def _schedule_form(periods):
    data = {
        "name": "夏季作息",
        "valid_from": "2026-05-01",
        "valid_to": "2026-09-30",
        "note": "",
        "periods-TOTAL_FORMS": str(len(periods)),
        "periods-INITIAL_FORMS": "0",
        "periods-MIN_NUM_FORMS": "1",
        "periods-MAX_NUM_FORMS": "1000",
    }
    for i, (start, end) in enumerate(periods):
        data[f"periods-{i}-start"], data[f"periods-{i}-end"] = start, end
    return data


def test_the_admin_adds_a_summer_schedule_and_refuses_overlaps(admin_client_en):
    url = reverse("admin:core_workschedule_add")
    bad = admin_client_en.post(url, _schedule_form([("08:00", "12:00"), ("11:00", "18:00")]))
    assert bad.status_code == 200 and "must not overlap" in bad.content.decode()
    good = admin_client_en.post(url, _schedule_form([("08:00", "12:00"), ("15:00", "18:30")]))
    assert good.status_code == 302
    assert cal_mod.load_calendar().periods_for(date(2026, 7, 1))[-1] == (time(15), time(18, 30))


def test_between_rechecks_the_cached_calendar_costs_no_query(
    seeded, settings, monkeypatch, django_assert_num_queries
):
    """Another process's edit shows once the recheck interval has passed, not before."""
    from cityops.core import refcache

    settings.CITYOPS_REFERENCE_RECHECK_SECONDS = 60
    clock = {"t": 1000.0}
    monkeypatch.setattr(refcache.time, "monotonic", lambda: clock["t"])
    before = cal_mod.load_calendar()
    CalendarRevision.objects.filter(pk=1).update(token="from-another-process")
    with django_assert_num_queries(0):
        assert cal_mod.load_calendar() is before
    clock["t"] += 61
    assert cal_mod.load_calendar() is not before
