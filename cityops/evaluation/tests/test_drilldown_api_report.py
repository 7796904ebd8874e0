"""Drill-down lists agree with their counts; the API, the monthly report and the commands."""

from __future__ import annotations

import io
from datetime import date

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from cityops.evaluation import formulas, metrics, selectors
from cityops.evaluation.models import CaseFact, MetricSnapshot, ObjectKind, ScoreWeight, Target
from cityops.evaluation.services import defaults_load, facts_rebuild, snapshot_compute, snapshots_update
from cityops.evaluation.tests.conftest import NOW

pytestmark = pytest.mark.django_db
MARCH = selectors.Query(start=date(2026, 3, 1), end=date(2026, 3, 31))


def test_every_drilldown_lists_exactly_the_cases_counted(history):
    p = MARCH.period(NOW)
    data = selectors.counters_by_object(None, ObjectKind.CITY, start=p.start, end=p.end, now=NOW)["city"]
    total = formulas.add_counters(*data.values())
    for key in selectors.PERIOD_COUNTERS:
        qs = selectors.drilldown(None, key=key, p=p)
        assert qs.count() == len(list(qs)) == total.get(key, 0), key
    values = formulas.indicators(total)
    for ind in formulas.INDICATORS:
        qs = selectors.drilldown(None, key=ind.key, p=p)
        rows = list(qs)
        if not ind.is_rate:
            assert len(rows) == values[ind.key], ind.key
        elif ind.numerator not in metrics.SUMS:
            counted = sum(1 for r in rows if r.counted)
            assert formulas.ratio(counted, len(rows)) == values[ind.key], ind.key


def test_a_drilldown_page_reads_its_keys_first_in_the_lists_order(history):
    """``core.db.KeysFirst``: every page is the same slice of the ordered list, with the numerator's
    mark and the relations loaded, in two queries whatever the page size."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from cityops.core.db import KeysFirst

    p = MARCH.period(NOW)
    qs = selectors.drilldown(None, key="handle_ontime_rate", p=p).order_by("-reported_at", "-pk")
    whole = [(f.case.number, f.counted) for f in qs.select_related("case")]
    assert len(whole) >= 5 and {c for _n, c in whole} == {True, False}
    listed = KeysFirst(qs, related=("case", "department"))
    assert listed.count() == len(listed) == len(whole)
    for size in (1, 2, 3, 50):
        paged = []
        for start in range(0, len(whole) + size, size):
            with CaptureQueriesContext(connection) as q:
                rows = listed[start : start + size]
                paged += [(f.case.number, f.counted, f.department_id and f.department.code) for f in rows]
            assert len(q.captured_queries) == (2 if rows else 1)
        assert [(n, c) for n, c, _d in paged] == whole, size
    assert KeysFirst(qs, count=7).count() == 7  # a count the caller already has is not asked again
    # by object: SQLite is told the object matches many facts, so the counter's period leads (its
    # anchor's index, not a busy department's); PostgreSQL weighs them by its statistics
    by_department = selectors.drilldown(None, key="close_rate", object_kind="departments", code="LZ-CGJ", p=p)
    assert ("likelihood" in str(by_department.query)) == (connection.vendor == "sqlite")
    assert (
        by_department.count()
        == selectors.drilldown(None, key="close_rate", p=p).filter(department__code="LZ-CGJ").count()
        > 0
    )


def test_people_counters_in_one_pass_equal_a_pass_per_step(history):
    """Each step's counters go to whoever took the step, as when each step was grouped on its own."""
    from cityops.evaluation.metrics import PERSON_COUNTERS

    p = MARCH.period(NOW)
    qs = selectors.fact_list_for(None)
    want: dict = {}
    for field, keys in PERSON_COUNTERS.items():
        for pk, by_kind in selectors._group(qs, f"{field}_id", p, keys).items():
            for kind, counters in by_kind.items():
                want.setdefault(int(pk), {}).setdefault(kind, {}).update(counters)
    got = selectors.counters_by_person(None, p)
    assert got == want and len(got) >= 3
    assert any(c.get("dispatched") for by_kind in got.values() for c in by_kind.values())


def test_drilldown_per_object_and_kind(history):
    p = MARCH.period(NOW)
    lz = selectors.drilldown(None, key="overdue_open", object_kind="departments", code="LZ-CGJ", p=p)
    assert [f.number for f in lz] == [history.cases["C"]]
    comp = selectors.drilldown(None, key="closed", p=p, kind="component")
    assert [f.number for f in comp] == [history.cases["I"]]
    mine = selectors.drilldown(
        None, key="dispatch_accuracy_rate", object_kind="people", code="demo-dispatcher", p=p
    )
    assert {f.number: f.counted for f in mine}[history.cases["D"]] is False
    assert (
        selectors.drilldown(None, key="to_close", object_kind="people", code="demo-chief", p=p).count() == 0
    )
    overdue = selectors.drilldown(None, key="overdue_now", p=p)
    assert sorted(f.number for f in overdue) == sorted(history.cases[n] for n in "CFH")


def test_the_signal_and_the_rebuild_agree(history):
    before = {
        f.pk: {k: v for k, v in f.__dict__.items() if not k.startswith("_")} for f in CaseFact.objects.all()
    }
    CaseFact.objects.all().delete()
    out = io.StringIO()
    call_command("evaluation_rebuild_facts", stdout=out)
    call_command("evaluation_rebuild_facts", stdout=out)  # idempotent
    after = {
        f.pk: {k: v for k, v in f.__dict__.items() if not k.startswith("_")} for f in CaseFact.objects.all()
    }
    assert after == before
    assert facts_rebuild(stale_only=True) == 0


def test_snapshots_are_computed_incrementally_and_recomputed_on_a_version_bump(history, monkeypatch):
    done = snapshots_update(now=NOW, days=3)
    assert [d.isoformat() for d in done] == ["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"]
    monday = MetricSnapshot.objects.get(day=date(2026, 3, 2), object_kind="city", object_code="city")
    assert formulas.add_counters(*(monday.counters[k] for k in formulas.KIND_SPLIT))["reports"] == 9
    assert MetricSnapshot.objects.filter(
        day=date(2026, 3, 2), object_kind="department", object_code="LZ-CGJ"
    ).exists()
    today = MetricSnapshot.objects.get(day=date(2026, 3, 4), object_kind="city", object_code="city")
    assert today.counters["_stock"]["overdue_now"] == 3
    assert snapshots_update(now=NOW, days=3) == [date(2026, 3, 4)]  # past days are final, today moves
    monkeypatch.setattr(formulas, "FORMULA_VERSION", formulas.FORMULA_VERSION + 1)
    assert len(snapshots_update(now=NOW, days=3)) == 4  # a formula change recomputes
    assert snapshot_compute(day=date(2026, 3, 2), now=NOW) > 0


def test_trend_reads_snapshots_and_fills_gaps_live(history):
    live = selectors.trend(None, now=NOW, days=7)
    snapshots_update(now=NOW, days=7)
    from_snapshots = selectors.trend(None, now=NOW, days=7)
    assert live == from_snapshots
    assert live["reports"][-3:] == [9, 1, 0] and live["closed_flow"][-3:] == [3, 1, 0]


def test_weights_grades_and_targets_load_idempotently():
    first = defaults_load()
    assert defaults_load() == first
    assert ScoreWeight.objects.filter(object_kind="department").count() == 5
    assert Target.objects.get(key="toilet-supplies").target_value == 159
    w = ScoreWeight.objects.get(object_kind="department", indicator="close_rate")
    w.weight = 99
    w.save()
    defaults_load()
    assert ScoreWeight.objects.get(pk=w.pk).weight == 99  # the city's edit is kept
    call_command("evaluation_load_defaults", "--replace", stdout=io.StringIO())
    assert ScoreWeight.objects.get(pk=w.pk).weight == 20
    assert selectors.weights_for("department")["close_rate"] == 20


def test_api_returns_indicators_score_and_grade_per_object(history, api_for):
    r = api_for("demo-leader").get(
        "/api/v1/evaluation/departments", {"from": "2026-03-01", "to": "2026-03-31"}
    )
    assert r.status_code == 200, r.content
    body = r.json()
    rows = {row["code"]: row for row in body["results"]}
    # "now" is the real clock here: every step of the history is long done or long overdue
    lz = rows["LZ-CGJ"]
    assert set(lz) >= {"code", "name", "indicators", "by_kind", "score", "grade", "rank"}
    assert set(lz["indicators"]) == {i.key for i in formulas.INDICATORS}
    assert lz["indicators"]["handle_ontime_rate"] == 80.0 and lz["grade"] == "C"
    r = api_for("demo-leader").get(
        "/api/v1/evaluation/areas", {"from": "2026-03-01", "to": "2026-03-31", "level": "county"}
    )
    assert {row["code"]: row for row in r.json()["results"]}["140403"]["indicators"]["reports"] == 10
    r = api_for("demo-leader").get("/api/v1/evaluation/people", {"from": "2026-03-01", "to": "2026-03-31"})
    people = {row["code"]: row for row in r.json()["results"]}
    assert (
        people["demo-dispatcher"]["indicators"]["dispatched"] == 7
        and people["demo-dispatcher"]["grade"] == "B"
    )


def test_api_visibility_and_errors(history, api_for, client):
    handler = api_for("demo-handler")
    r = handler.get("/api/v1/evaluation/departments", {"from": "2026-03-01", "to": "2026-03-31"})
    assert next(row["code"] for row in r.json()["results"]).startswith("LZ")
    assert "CGJ-SZ" not in {row["code"] for row in r.json()["results"]}
    r = handler.get("/api/v1/evaluation/areas", {"from": "2026-03-01", "to": "2026-03-31"})
    assert {row["code"]: row for row in r.json()["results"]}["140403"]["indicators"]["reports"] == 6
    assert handler.get("/api/v1/evaluation/planets").status_code == 404
    r = handler.get("/api/v1/evaluation/areas", {"from": "2026-13-01"})
    assert r.status_code == 400 and "from" in str(r.json())
    assert (
        handler.get("/api/v1/evaluation/areas", {"from": "2026-03-02", "to": "2026-03-01"}).status_code == 400
    )
    assert handler.get("/api/v1/evaluation/areas", {"level": "planet"}).status_code == 400
    assert client.get("/api/v1/evaluation/areas").status_code in (401, 403)


def test_monthly_report_page_and_workbook(history, client, loop_world):
    client.force_login(loop_world["demo-leader"])
    r = client.get("/evaluation/report/", {"month": "2026-03"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'data-testid="report-departments"' in html and 'data-code="LZ-CGJ"' in html
    r = client.get("/evaluation/report.xlsx", {"month": "2026-03"})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(r.content))
    ws = wb.worksheets[0]
    header = [c.value for c in ws[3]]
    rows = {row[1]: row for row in ws.iter_rows(min_row=4, values_only=True)}
    assert rows["CGJ-SZ"][0] == 1 and rows["CGJ-SZ"][4] == "A"
    assert (
        rows["LZ-CGJ"][
            header.index(
                next(
                    h for h in header if h and h.startswith(str(formulas.INDICATOR_BY_KEY["to_handle"].name))
                )
            )
        ]
        == 5
    )
    assert len(wb.worksheets) == 2
    client.force_login(loop_world["demo-handler"])
    assert client.get("/evaluation/report/", {"month": "bad"}).status_code == 200  # falls back to this month


def test_report_needs_a_role(client, db):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(username="nobody", password="x")
    client.force_login(user)
    assert client.get("/evaluation/report/").status_code == 404


def test_the_snapshot_command_computes_only_what_is_missing(history):
    out = io.StringIO()
    call_command("evaluation_snapshot", "--days", "2", stdout=out)
    first = MetricSnapshot.objects.count()
    assert first > 0
    call_command("evaluation_snapshot", "--days", "2", stdout=out)
    assert MetricSnapshot.objects.count() == first
    assert MetricSnapshot.objects.filter(object_kind="city", object_code="city").count() == 3


def test_a_long_visible_list_checks_each_fact_against_its_case(history, loop_world, monkeypatch):
    """Past ``EXISTS_FROM`` visible cases SQLite checks each fact's case (``EXISTS``) instead of
    gathering an ``IN`` list: the same facts either way, and the same rankings."""
    from django.db import connection

    handler, inspector = loop_world["demo-handler"], loop_world["demo-inspector"]
    by_in = {u: set(selectors.fact_list_for(u).values_list("pk", flat=True)) for u in (handler, inspector)}
    assert by_in[handler] and by_in[inspector] and by_in[handler] != by_in[inspector]
    rows_in = selectors.department_rows(handler, MARCH, now=NOW)
    monkeypatch.setattr(selectors, "EXISTS_FROM", 2)
    for user, facts in by_in.items():
        qs = selectors.fact_list_for(user)
        assert ("EXISTS" in str(qs.query)) == (connection.vendor == "sqlite")
        assert set(qs.values_list("pk", flat=True)) == facts
    assert selectors.department_rows(handler, MARCH, now=NOW) == rows_in
    monkeypatch.setattr(selectors, "EXISTS_FROM", 10_000)
    assert "EXISTS" not in str(selectors.fact_list_for(handler).query)


def test_a_handler_sees_the_facts_of_the_cases_their_departments_hold(history, loop_world):
    """``fact_list_for`` gives a handler exactly the facts of the cases the case rule lets them see:
    through a return (no department holds the case, ``held`` false), a dispatch again, a case held
    by a department other than its last dispatch's, and for a department above another (``CGJ``
    holds what ``CGJ-SZ`` does); someone with no role sees none."""
    from django.contrib.auth import get_user_model

    from cityops.cases.models import Case
    from cityops.cases.selectors import case_list_for
    from cityops.evaluation.services import fact_refresh
    from cityops.evaluation.tests.conftest import at
    from cityops.organization.models import Department, Membership

    # K: dispatched, then returned: its facts keep the department, which no longer holds it
    history.report("K", at(3, "09:00")).loop("K", [
        ("file", "demo-chief", "09:05"), ("dispatch", "demo-dispatcher", "09:10"),
        ("return", "demo-handler", "09:20"),
    ], day=3)  # fmt: skip
    # L: to municipal works, returned, then to the handler's department
    history.report("L", at(3, "09:00"), kind="component", type_code="01002").loop("L", [
        ("file", "demo-chief", "09:05"), ("dispatch", "demo-dispatcher", "09:10"),
        ("return", "handler-sz", "09:20"),
    ], day=3)  # fmt: skip
    lz = Department.objects.get(code="LZ-CGJ")
    history.act("L", "dispatch", "demo-dispatcher", at(3, "09:30"), department=lz.code)
    # M: to municipal works, then held by the handler's department without a dispatch (as a transfer
    # would): its facts keep the last dispatch's department, and the case is the one to ask
    history.report("M", at(3, "10:00"), kind="component", type_code="01002").loop("M", [
        ("file", "demo-chief", "10:05"), ("dispatch", "demo-dispatcher", "10:10"),
    ], day=3)  # fmt: skip
    Case.objects.filter(number=history.cases["M"]).update(department=lz)
    fact_refresh(case=Case.objects.get(number=history.cases["M"]))
    people = get_user_model().objects
    boss = people.create_user(username="cgj-head")
    Membership.objects.create(user=boss, role="handler", department=Department.objects.get(code="CGJ"))
    held = dict(CaseFact.objects.values_list("case__number", "held"))
    assert held[history.cases["K"]] is False and held[history.cases["L"]] is True
    assert held[history.cases["M"]] is False
    assert not all(held.values())
    seen = 0
    for user in [loop_world[u] for u in ("demo-handler", "handler-sz", "handler-hw")] + [boss]:
        cases = set(case_list_for(user).values_list("pk", flat=True))
        facts = selectors.fact_list_for(user)
        assert set(facts.values_list("case_id", flat=True)) == cases, user.username
        seen += len(cases)
    assert seen
    nobody = people.create_user(username="no-roles")
    assert not selectors.fact_list_for(nobody).exists()


def test_the_timer_reads_the_cases_changed_since_its_last_look_for_stale_facts(history, monkeypatch):
    """``facts_rebuild_stale``: the first look reads every case; the next ones only the cases changed
    since the previous look (less an hour), through their ``updated_at``; new rules, new formulas, a
    look dated after the clock and one a day read every case again (an overdue event writes a fact
    and leaves ``updated_at`` as it was)."""
    from datetime import timedelta

    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from cityops.cases.models import Case
    from cityops.evaluation import services
    from cityops.evaluation.models import FactCheck

    def spoil(name: str) -> int:
        """A fact as an earlier release left it (no type name), its case as it was."""
        pk = Case.objects.get(number=history.cases[name]).pk
        CaseFact.objects.filter(pk=pk).update(type_name=None)
        return pk

    def rebuilt(pk: int) -> bool:
        return CaseFact.objects.get(pk=pk).type_name is not None

    first = NOW - timedelta(hours=12)
    old = Case.objects.get(number=history.cases["A"]).updated_at
    a = spoil("A")
    assert services.facts_rebuild_stale(now=first) == (1, True)  # no look before: every case
    assert rebuilt(a)
    assert FactCheck.objects.get().started_at == first
    # A changed long before the last look, B within its hour of overlap, C after it
    Case.objects.filter(number=history.cases["B"]).update(updated_at=first - timedelta(minutes=30))
    Case.objects.filter(number=history.cases["C"]).update(updated_at=first + timedelta(hours=2))
    a, b, c = spoil("A"), spoil("B"), spoil("C")
    with CaptureQueriesContext(connection) as q:
        assert services.facts_rebuild_stale(now=NOW) == (2, False)
    assert (rebuilt(a), rebuilt(b), rebuilt(c)) == (False, True, True)
    assert "updated_at" in q.captured_queries[1]["sql"]
    assert FactCheck.objects.get().started_at == NOW
    assert Case.objects.get(pk=a).updated_at == old
    # new rules: every case again
    monkeypatch.setattr(services, "STALE_RULES", services.STALE_RULES + 1)
    assert services.facts_rebuild_stale(now=NOW) == (1, True)
    assert rebuilt(a)
    assert services.facts_rebuild_stale(now=NOW) == (0, False)
    # new formulas: the same
    monkeypatch.setattr(formulas, "FORMULA_VERSION", formulas.FORMULA_VERSION + 1)
    assert services.facts_rebuild_stale(now=NOW)[1] is True
    assert services.facts_rebuild_stale(now=NOW)[1] is False
    # a look dated after the clock (the clock set back): every case
    spoil("A")
    assert services.facts_rebuild_stale(now=NOW - timedelta(hours=1)) == (1, True)
    # an overdue event rewrites a fact, the case's ``updated_at`` left as it was: one look a day reads
    # every case (here a fact as an earlier release's overdue timer would leave it)
    assert services.facts_rebuild_stale(now=NOW) == (0, False)
    full_at = FactCheck.objects.get().full_at
    assert full_at == NOW - timedelta(hours=1)
    spoil("A")
    day = services.STALE_FULL_EVERY
    assert services.facts_rebuild_stale(now=full_at + day - timedelta(minutes=1)) == (0, False)
    assert services.facts_rebuild_stale(now=full_at + day) == (1, True)
    assert FactCheck.objects.get().full_at == full_at + day
    FactCheck.objects.update(started_at=NOW, full_at=timezone.now())  # the command looks at the clock
    # the timer's command goes the same way, and says how many it rebuilt
    spoil("A")
    out = io.StringIO()
    call_command("evaluation_snapshot", "--days", "1", stdout=out)
    assert not rebuilt(a)  # changed long before the last look: left to the full rebuild
    call_command("evaluation_rebuild_facts", "--stale", stdout=out)
    assert rebuilt(a)
