"""Work queues that a small partial index answers: deadline order, reopen requests, departments.

A page in deadline order is read in two parts (the cases with a deadline, then those without); the
pages must join up into the one order the API and the exports give, on both databases, whatever the
page size. The reopen requests and the deadline order must come from their partial indexes even when a
busy type is also asked for (SQLite has no statistics to tell).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases.models import Case
from cityops.cases.selectors import CaseFilters, case_queue_for, case_queue_page
from cityops.cases.tests.test_services import report
from cityops.organization.models import Department
from cityops.organization.selectors import departments_changed_locally


@pytest.fixture
def mixed(loop_world):
    """Twelve cases: open ones with deadlines (two share one), and closed ones without."""
    people = loop_world
    base = timezone.now() - timedelta(days=2)
    cases = []
    for i in range(12):
        c = report(people, base + timedelta(minutes=i), type_code="07001" if i % 3 else "06010")
        cases.append(c)
    due = base + timedelta(days=1)
    for i, c in enumerate(cases):
        if i % 2:  # closed: no deadline
            Case.objects.filter(pk=c.pk).update(state="closed", due_at=None, closed_at=base)
        else:  # open, deadlines in an order unlike the report order; cases 4 and 8 share one
            when = due + timedelta(hours=(7 * i) % 11 if i not in (4, 8) else 3)
            Case.objects.filter(pk=c.pk).update(due_at=when)
    return people, [Case.objects.get(pk=c.pk) for c in cases]


def _reference(cases, sort: str) -> list[str]:
    dated = [c for c in cases if c.due_at is not None]
    undated = [c for c in cases if c.due_at is None]
    if sort == "due":
        dated.sort(key=lambda c: (c.due_at, c.pk))
        undated.sort(key=lambda c: c.pk)
    else:
        dated.sort(key=lambda c: (c.due_at, c.pk), reverse=True)
        undated.sort(key=lambda c: c.pk, reverse=True)
    return [c.number for c in dated + undated]


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["due", "-due"])
def test_deadline_order_puts_cases_without_one_last_and_pages_join_up(mixed, sort):
    people, cases = mixed
    now = timezone.now()
    for who, type_code in (("demo-dispatcher", ""), ("demo-dispatcher", "07001"), ("demo-chief", "")):
        user = people[who]
        mine = [c for c in cases if not type_code or c.type_code == type_code]
        want = _reference(mine, sort)
        filters = CaseFilters(queue="all", sort=sort, type_code=type_code)
        # the list behind the API and the exports
        assert list(case_queue_for(user, filters, now=now).values_list("number", flat=True)) == want
        # the queue page, at every page size: pages that end, straddle and start past the dated part
        for size in (1, 2, 3, 5, 50):
            got = []
            for offset in range(0, len(want) + size, size):
                got += [r.number for r in case_queue_page(user, filters, now=now, offset=offset, limit=size)]
            assert got == want, (who, type_code, size)


@pytest.mark.django_db
def test_deadline_order_for_a_handler_reads_through_the_orm_in_the_same_order(mixed):
    people, cases = mixed
    handler = people["demo-handler"]
    dept = Department.objects.get(code="LZ-CGJ")
    for c in cases[:6]:
        Case.objects.filter(pk=c.pk).update(department=dept)
    now = timezone.now()
    visible = list(case_queue_for(handler, CaseFilters(), now=now))
    assert {c.pk for c in visible} == {c.pk for c in cases[:6]}
    for sort in ("due", "-due"):
        want = _reference(visible, sort)
        filters = CaseFilters(sort=sort)
        pages = [case_queue_page(handler, filters, now=now, offset=o, limit=2) for o in range(0, 8, 2)]
        assert [r.number for page in pages for r in page] == want


@pytest.mark.django_db
def test_reopen_requests_are_exactly_the_pending_ones_in_every_order(mixed):
    people, cases = mixed
    closed = [c for c in cases if c.due_at is None]
    now = timezone.now()
    asked = closed[:3]
    for i, c in enumerate(asked):
        Case.objects.filter(pk=c.pk).update(reopen_requested_at=now - timedelta(minutes=i))
    # a reopened case keeps no request (services clear it), and one still open is not listed
    Case.objects.filter(pk=cases[0].pk).update(reopen_requested_at=now)
    chief = people["demo-chief"]
    for sort, key in (
        ("-reported", lambda c: (c.reported_at, c.pk)),
        ("reported", lambda c: (c.reported_at, c.pk)),
        ("number", lambda c: c.number),
        ("-number", lambda c: c.number),
    ):
        want = [c.number for c in sorted(asked, key=key, reverse=sort.startswith("-"))]
        filters = CaseFilters(queue="reopen_requests", sort=sort)
        page = case_queue_page(chief, filters, now=now, offset=0, limit=50)
        assert [r.number for r in page] == want, sort
    by_type = case_queue_page(
        chief, CaseFilters(queue="reopen_requests", type_code="06010"), now=now, offset=0, limit=50
    )
    assert {r.number for r in by_type} == {c.number for c in asked if c.type_code == "06010"}


@pytest.mark.django_db
def test_department_filter_by_code_also_finds_an_inactive_department(mixed):
    """The key comes from the active departments; an inactive one's code still filters (by a join)."""
    people, cases = mixed
    dept = Department.objects.get(code="LZ-CGJ")
    Case.objects.filter(pk__in=[c.pk for c in cases[:4]]).update(department=dept)
    user, now = people["demo-dispatcher"], timezone.now()
    filters = CaseFilters(department="LZ-CGJ")
    want = {c.number for c in cases[:4]}
    assert {c.number for c in case_queue_for(user, filters, now=now)} == want
    assert {r.number for r in case_queue_page(user, filters, now=now, offset=0, limit=50)} == want
    Department.objects.filter(pk=dept.pk).update(is_active=False)
    departments_changed_locally()
    try:
        assert {c.number for c in case_queue_for(user, filters, now=now)} == want
        assert {r.number for r in case_queue_page(user, filters, now=now, offset=0, limit=50)} == want
        assert not list(case_queue_for(user, CaseFilters(department="NO-SUCH"), now=now))
    finally:
        departments_changed_locally()


def _plan(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN QUERY PLAN " + sql, params)
        return " ".join(str(row[-1]) for row in cur.fetchall())


@pytest.mark.django_db
def test_deadline_pages_and_reopen_requests_read_their_partial_indexes(mixed):
    """SQLite has no statistics: the hints must make it start from the partial index whatever the
    filters. PostgreSQL weighs the filters by its statistics (at 1M cases it starts from the partial
    indexes); on a table of a dozen rows any of its plans is right."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics, which a test table cannot stand for")
    people, _cases = mixed
    user, now = people["demo-dispatcher"], timezone.now()
    for filters in (CaseFilters(sort="due"), CaseFilters(sort="-due", type_code="07001", area="140403")):
        assert "case_due" in _plan(case_queue_for(user, filters, now=now, part="dated")), filters
    for sort in ("-reported", "number", "-due"):
        filters = CaseFilters(queue="reopen_requests", type_code="07001", sort=sort)
        assert "case_reopen_requested" in _plan(case_queue_for(user, filters, now=now)), sort


@pytest.mark.django_db
def test_a_queue_of_one_state_in_number_order_is_read_from_its_index(mixed):
    """The parked cases grow with the years: SQLite read all of them to sort a page by number (3M
    cases: 140 ms), where ``case_state_number`` gives the page in order."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics, which a test table cannot stand for")
    people, _cases = mixed
    user, now = people["demo-dispatcher"], timezone.now()
    for queue, sort in (("parked", "number"), ("parked", "-number"), ("all", "number")):
        filters = CaseFilters(queue=queue, state="parked" if queue == "all" else "", sort=sort)
        plan = _plan(case_queue_for(user, filters, now=now, page=True))
        assert "case_state_number" in plan and "TEMP B-TREE" not in plan, (queue, sort, plan)


@pytest.mark.django_db
def test_open_queues_oldest_first_are_sorted_after_filtering(mixed):
    """PostgreSQL would read the date or number index from the oldest case, through every closed one,
    before the first open case: a queue of several open states in those orders sorts its few cases
    instead (``SortedAfter``). A queue of one state reads its own index (``case_state_reported``,
    ``case_state_number``) in either order: the parked cases grow with the years."""
    people, cases = mixed
    user, now = people["demo-dispatcher"], timezone.now()
    open_ones = [c for c in cases if c.due_at is not None]  # to_file, as an inspector reports
    for sort, key, newest_end in (
        ("reported", lambda c: (c.reported_at, c.pk), False),
        ("number", lambda c: c.number, False),
        ("-reported", lambda c: (c.reported_at, c.pk), True),
    ):
        filters = CaseFilters(queue="to_file", sort=sort)
        want = [c.number for c in sorted(open_ones, key=key, reverse=newest_end)]
        assert [r.number for r in case_queue_page(user, filters, now=now, offset=0, limit=50)] == want
        assert list(case_queue_for(user, filters, now=now).values_list("number", flat=True)) == want
        order_by = str(case_queue_for(user, filters, now=now).query).rpartition("ORDER BY")[2]
        assert "COALESCE" not in order_by, (sort, order_by)  # one state: its own index
        several = CaseFilters(queue="in_handling", sort=sort)
        order_by = str(case_queue_for(user, several, now=now).query).rpartition("ORDER BY")[2]
        # from the newest end an index finds the open cases at once: only the oldest-first orders
        sorted_after = connection.vendor == "postgresql" and not newest_end
        assert ("COALESCE" in order_by) == sorted_after, (sort, order_by)
    # the whole list filtered by one open state reads that state's index, on the compiled page too
    # (whose SQL is built with a stand-in for the state)
    by_state = CaseFilters(state="to_file", sort="reported")
    want = [c.number for c in sorted(open_ones, key=lambda c: (c.reported_at, c.pk))]
    assert list(case_queue_for(user, by_state, now=now).values_list("number", flat=True)) == want
    order_by = str(case_queue_for(user, by_state, now=now).query).rpartition("ORDER BY")[2]
    assert "COALESCE" not in order_by
    with CaptureQueriesContext(connection) as q:
        page = case_queue_page(user, by_state, now=now, offset=0, limit=50)
    assert [r.number for r in page] == want
    assert "COALESCE" not in q.captured_queries[-1]["sql"].rpartition("ORDER BY")[2]
    closed = CaseFilters(state="closed", sort="reported")  # closed cases are most: their index is kept
    with CaptureQueriesContext(connection) as q:
        case_queue_page(user, closed, now=now, offset=0, limit=50)
    assert "COALESCE" not in q.captured_queries[-1]["sql"].rpartition("ORDER BY")[2]
    # the whole list is not an open queue: its orders stay on their indexes
    everything = str(case_queue_for(user, CaseFilters(sort="reported"), now=now).query)
    assert "COALESCE" not in everything.rpartition("ORDER BY")[2]


@pytest.mark.django_db
def test_an_inspectors_task_lists_are_the_whole_pool_without_the_rest_of_the_rule(mixed):
    """Within the task pool the visibility rule's other branches are left out of the query (SQLite read
    every case the inspector reported first); outside it they still decide."""
    people, cases = mixed
    inspector, now = people["demo-inspector"], timezone.now()
    other = cases[3]  # closed, reported by the demo inspector: hand it to nobody's view but staff
    Case.objects.filter(pk=other.pk).update(reported_by=None, inspector=None)
    someone_elses = report(people, now - timedelta(hours=1), source="public")  # waits for verification
    Case.objects.filter(pk=someone_elses.pk).update(reported_by=None)  # a citizen's, in truth
    assert someone_elses.state == "to_verify"
    for filters in (CaseFilters(queue="to_verify"), CaseFilters(queue="all", state="to_verify")):
        qs = case_queue_for(inspector, filters, now=now)
        assert "reported_by_id" not in str(qs.query).partition(" WHERE ")[2]
        assert someone_elses.number in {c.number for c in qs}
    mine = case_queue_for(inspector, CaseFilters(queue="all"), now=now)
    assert "reported_by_id" in str(mine.query).partition(" WHERE ")[2]
    if connection.vendor == "sqlite":
        # a page is walked in date order, not gathered through three indexes and sorted; a count is
        # gathered through them (a walk would read the whole table)
        plan = _plan(case_queue_for(inspector, CaseFilters(queue="all"), now=now, page=True))
        assert "MULTI-INDEX OR" not in plan and "reported_at" in plan, plan
        counted = str(mine.order_by().values("pk").query)
        assert "+(" not in counted and "MULTI-INDEX OR" in _plan(mine.order_by().values("pk"))
    numbers = {c.number for c in mine}
    assert someone_elses.number in numbers and other.number not in numbers
    closed = {c.number for c in case_queue_for(inspector, CaseFilters(state="closed"), now=now)}
    assert other.number not in closed and closed  # their own closed cases only
    tasks = {
        r.number
        for r in case_queue_page(inspector, CaseFilters(queue="to_verify"), now=now, offset=0, limit=50)
    }
    assert someone_elses.number in tasks


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["due", "-due"])
def test_the_staff_api_pages_the_deadline_order_in_two_parts_that_join_up(mixed, sort):
    from rest_framework.test import APIClient

    people, cases = mixed
    client = APIClient()
    client.force_authenticate(people["demo-dispatcher"])
    want = _reference(cases, sort)
    for size in (1, 4, 5, 100):
        got, page, count = [], 1, None
        while True:
            r = client.get("/api/v1/cases", {"sort": sort, "page_size": size, "page": page})
            assert r.status_code == 200, r.content
            body = r.json()
            count = body["count"]
            got += [c["number"] for c in body["results"]]
            if not body["next"]:
                break
            page += 1
        assert count == len(want) and got == want, size
    r = client.get("/api/v1/cases", {"sort": sort, "page_size": 5, "page": 9})
    assert r.status_code == 404  # past the end, as any list


@pytest.mark.django_db
def test_a_handler_sees_their_department_and_every_one_under_it_active_or_not(mixed):
    """The handler's rule goes by department keys from the process's copy of the tree: departments
    under theirs (made after the copy was read, or since made inactive) count, a sibling whose code
    starts the same does not."""
    from cityops.cases.selectors import case_get_for, case_list_for
    from cityops.organization.services import department_upsert

    people, cases = mixed
    handler, now = people["demo-handler"], timezone.now()
    assert case_list_for(handler).count() == 0  # the copy of the departments is read here
    own = Department.objects.get(code="LZ-CGJ")
    under = department_upsert(code="LZ-CGJ-T1", name="一中队", kind=own.kind, parent=own)
    gone = department_upsert(code="LZ-CGJ-T2", name="二中队", kind=own.kind, parent=under)
    gone.is_active = False
    gone.save()
    sibling = department_upsert(code="LZ-CGJX", name="同名前缀", kind=own.kind, parent=own.parent)
    other = Department.objects.get(code="CGJ-HW")
    for i, dept in enumerate((own, own, under, under, gone, gone, sibling, sibling, other)):
        Case.objects.filter(pk=cases[i].pk).update(department=dept)
    want = {c.number for c in cases[:6]}

    assert case_list_for(handler).count() == 6
    assert set(case_list_for(handler).values_list("number", flat=True)) == want
    for sort in ("", "reported", "due", "-due", "number"):
        filters = CaseFilters(queue="all", sort=sort)
        assert {c.number for c in case_queue_for(handler, filters, now=now)} == want, sort
        page = case_queue_page(handler, filters, now=now, offset=0, limit=50)
        assert {r.number for r in page} == want, sort
    for i, c in enumerate(cases[:9]):
        assert (case_get_for(handler, c.number) is not None) == (i < 6), c.number


@pytest.mark.django_db
@pytest.mark.parametrize("sort", ["", "reported", "due", "-due", "number", "-number"])
def test_a_handlers_api_pages_join_up_into_the_queue_order_and_are_counted_whole(mixed, sort):
    """The staff API counts by the whole list's query and reads pages by the queue page's (which SQLite
    walks in order): both must describe the same list, for a handler as for the command centre."""
    from cityops.cases.selectors import case_queue_list

    people, cases = mixed
    dept = Department.objects.get(code="LZ-CGJ")
    Case.objects.filter(pk__in=[c.pk for c in cases[1:10]]).update(department=dept)
    Case.objects.filter(pk=cases[11].pk).update(reported_by=None, inspector=None)  # not the inspector's
    now = timezone.now()
    for who, seen in (("demo-handler", cases[1:10]), ("demo-inspector", cases[:11])):
        user, filters = people[who], CaseFilters(sort=sort)
        want = list(case_queue_for(user, filters, now=now).values_list("number", flat=True))
        assert sorted(want) == sorted(c.number for c in seen), who
        listed = case_queue_list(user, filters, now=now)
        assert listed.count() == len(listed) == len(seen)
        for size in (1, 2, 4, 9, 20):
            got = [c.number for start in range(0, 14, size) for c in listed[start : start + size]]
            assert got == want, (who, size)
        assert [c.number for c in listed[3:7]] == want[3:7] and listed[8].number == want[8]


@pytest.mark.django_db
def test_a_handlers_lists_count_from_the_department_index_and_pages_walk_in_order(mixed):
    """SQLite without statistics: a handler's count starts from their departments' index; a page walks
    its order's index (from the department's it sorted half the city), and a list a partial index holds
    starts from that index."""
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics, which a test table cannot stand for")
    people, _cases = mixed
    handler, now = people["demo-handler"], timezone.now()
    whole = case_queue_for(handler, CaseFilters(), now=now).order_by()
    assert "INDEX case_dept" in _plan(whole.values("pk")), _plan(whole.values("pk"))
    for sort, index in (("", "reported_at"), ("number", "autoindex")):  # the number's unique index
        plan = _plan(case_queue_for(handler, CaseFilters(sort=sort), now=now, page=True))
        assert "INDEX case_dept" not in plan and index in plan and "TEMP B-TREE" not in plan, (sort, plan)
    dated = case_queue_for(handler, CaseFilters(sort="due"), now=now, part="dated")
    assert "case_due" in _plan(dated) and "case_due" in _plan(dated.order_by().values("pk"))
    reopen = case_queue_for(handler, CaseFilters(queue="reopen_requests"), now=now)
    assert "case_reopen_requested" in _plan(reopen)


@pytest.mark.django_db
def test_a_page_in_number_order_walks_the_numbers_past_a_dense_filter_and_sorts_a_rare_ones_cases(
    mixed, monkeypatch
):
    """No index holds a filter and the number together: SQLite is told which filters keep many cases
    (counted through their own index up to ``DENSE_AT``) and walks the number's index past those; a
    rare filter keeps its index. The pages are the same either way."""
    from cityops.cases import selectors

    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL chooses by its statistics")
    people, cases = mixed
    monkeypatch.setattr(selectors, "DENSE_AT", 5)  # 07001: 8 of the 12 cases; 06010: 4
    user, now = people["demo-dispatcher"], timezone.now()
    for sort in ("number", "-number"):
        busy, rare = CaseFilters(type_code="07001", sort=sort), CaseFilters(type_code="06010", sort=sort)
        assert selectors._dense(busy) == {"type"} and selectors._dense(rare) == set()
        assert "autoindex" in _plan(case_queue_for(user, busy, now=now, page=True))
        assert "case_type" in _plan(case_queue_for(user, rare, now=now, page=True))
        for filters, kind in ((busy, "07001"), (rare, "06010")):
            want = sorted((c.number for c in cases if c.type_code == kind), reverse=sort == "-number")
            with CaptureQueriesContext(connection) as q:
                page = case_queue_page(user, filters, now=now, offset=0, limit=50)
            assert [r.number for r in page] == want
            assert ("likelihood" in q.captured_queries[-1]["sql"]) == (kind == "07001")
    assert selectors._dense(CaseFilters(type_code="07001", sort="-reported")) == set()  # case_type holds it
