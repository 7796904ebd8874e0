"""The case page's reads compiled once (``core.db.PreparedObjects``) give the ORM's objects.

The case by number, its timeline and the timeline's photos are read as plain rows and built into
instances: every field, every followed foreign key and every photo must equal what ``select_related``
and ``prefetch_related`` give, in the same order, in one query each.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityops.cases import selectors
from cityops.cases.models import Case, CaseEvent
from cityops.cases.services import ReportInput, case_report
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON
from cityops.cases.tests.test_services import FakePhoto, act, report
from cityops.core.db import PreparedObjects, prefetched
from cityops.organization.selectors import sees_whole_city


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields}


@pytest.fixture
def timeline(loop_world):
    """Cases at several points of the loop: one fresh, one handled with photos, one invalid."""
    now = timezone.now() - timedelta(days=1)
    fresh = report(loop_world, now)
    handled = case_report(
        data=ReportInput(source="inspector", type_code="07001", description="小广告", lat=LZ_LAT, lon=LZ_LON),
        actor=loop_world["demo-inspector"],
        photos=[FakePhoto()],
        now=now,
    )
    act(loop_world, handled, "demo-chief", "file", now)
    act(loop_world, handled, "demo-dispatcher", "dispatch", now)
    act(loop_world, handled, "demo-handler", "accept", now)
    act(loop_world, handled, "demo-handler", "report_done", now, photos=[FakePhoto(), FakePhoto()])
    dropped = report(loop_world, now, source="public")
    act(loop_world, dropped, "demo-operator", "invalidate", now, reason="重复上报")
    return loop_world, [fresh, handled, dropped]


@pytest.mark.django_db
def test_case_and_timeline_equal_the_orm_in_one_query_each(timeline):
    people, cases = timeline
    dispatcher = people["demo-dispatcher"]
    assert sees_whole_city(dispatcher)
    for made in cases:
        with CaptureQueriesContext(connection) as q:
            case = selectors.case_get_for(dispatcher, made.number)
        assert len(q.captured_queries) == 1
        orm = Case.objects.select_related("department", "inspector").get(number=made.number)
        assert _fields(case) == _fields(orm)
        for name in ("department", "inspector"):
            got, want = getattr(case, name), getattr(orm, name)
            assert (got and _fields(got)) == (want and _fields(want))

        with CaptureQueriesContext(connection) as q:
            events = selectors.case_events_for(dispatcher, case)
            photos = [[_fields(p) for p in e.photos.all()] for e in events]  # no query: filled
            actors = [e.actor and e.actor.username for e in events]
            departments = [e.department and e.department.code for e in events]
        assert len(q.captured_queries) == 1
        want = list(
            CaseEvent.objects.filter(case=orm)
            .select_related("actor", "department")
            .prefetch_related("photos")
            .order_by("at", "id")
        )
        assert [_fields(e) for e in events] == [_fields(e) for e in want]
        assert photos == [[_fields(p) for p in e.photos.order_by("created_at", "id")] for e in want]
        assert actors == [e.actor and e.actor.username for e in want]
        assert departments == [e.department and e.department.code for e in want]
        assert all(p.event is e for e in events for p in e.photos.all())
    assert sum(len(p) for p in photos) == 0  # the invalid one has no photos; the handled one did:
    handled_events = selectors.case_events_for(dispatcher, cases[1])
    assert sorted(len(e.photos.all()) for e in handled_events)[-2:] == [1, 2]


@pytest.mark.django_db
def test_a_filled_photo_set_filtered_further_keeps_to_its_own_event(timeline):
    people, cases = timeline
    events = selectors.case_events_for(people["demo-dispatcher"], cases[1])
    done = next(e for e in events if len(e.photos.all()) == 2)
    with CaptureQueriesContext(connection) as q:
        assert len(done.photos.all()) == 2 and done.photos.count() == 2 and done.photos.exists()
    assert len(q.captured_queries) == 0
    # a further filter is a new query, restricted to this event's photos as Django's would be
    first = done.photos.all()[0]
    assert list(done.photos.filter(pk__gte=0).order_by("id")) == list(done.photos.order_by("id"))
    assert list(done.photos.exclude(pk=first.pk)) == [p for p in done.photos.all() if p.pk != first.pk]
    other = next(e for e in events if not e.photos.all())
    assert list(other.photos.filter(pk__gte=0)) == []
    with pytest.raises(ValueError, match="not a reverse foreign key"):
        prefetched(done, "case", [])


@pytest.mark.django_db
def test_unknown_number_and_other_roles(timeline):
    people, cases = timeline
    assert selectors.case_get_for(people["demo-dispatcher"], "2099-01-000001") is None
    # a handler reads through the visibility rule (the ORM path) and sees only their department's
    handler = people["demo-handler"]
    assert not sees_whole_city(handler)
    assert selectors.case_get_for(handler, cases[1].number).pk == cases[1].pk
    assert selectors.case_get_for(handler, cases[0].number) is None


@pytest.mark.django_db
def test_prepared_objects_compile_once_per_shape_and_take_new_values(timeline):
    _people, cases = timeline
    reads = PreparedObjects(
        Case,
        lambda numbers, since: Case.objects.filter(number__in=numbers, reported_at__gte=since).order_by("id"),
        related=("department",),
    )
    since = timezone.now() - timedelta(days=30)
    first = reads.objects(numbers=[cases[0].number, cases[1].number], since=since)
    second = reads.objects(numbers=[cases[2].number, cases[1].number], since=since)
    assert [c.pk for c in first] == [cases[0].pk, cases[1].pk]
    assert [c.pk for c in second] == [cases[1].pk, cases[2].pk]
    assert len(reads._prepared._plans) == 1  # same shape: compiled once
    assert reads.objects(numbers=[cases[0].number], since=timezone.now() + timedelta(days=1)) == []
    by_int = PreparedObjects(
        CaseEvent, lambda case_id: CaseEvent.objects.filter(case_id=case_id).order_by("id")
    )
    assert [e.pk for e in by_int.objects(case_id=cases[2].pk)] == list(
        CaseEvent.objects.filter(case=cases[2]).order_by("id").values_list("pk", flat=True)
    )
    assert by_int.objects(case_id=10**12) == []


QUEUE_MIXES = [
    {},
    {"queue": "in_handling"},
    {"queue": "to_file", "type_code": "07001"},
    {"queue": "overdue"},
    {"queue": "all", "area": "140403", "sort": "due"},
    {"queue": "all", "department": "LZ-CGJ", "state": "handling", "sort": "-number"},
    {"queue": "all", "source": "public", "sort": "reported"},
    {"queue": "all", "type_code": "06010"},
    {"queue": "all", "type_code": "01001"},  # none of this type
    {"queue": "all", "q": "小广告"},  # a search: the ORM path
]


@pytest.mark.django_db
def test_queue_pages_equal_the_orm_for_every_mix_of_filters(timeline):
    from cityops.cases.selectors import _QUEUE_PAGE, CaseFilters, QueueRow, case_queue_for, case_queue_page

    _QUEUE_PAGE._plans.clear()  # other tests' pages compiled shapes too
    people, _cases = timeline
    now = timezone.now()
    later = now - timedelta(hours=30)
    for i in range(7):  # more cases, some in handling and some overdue by now
        c = report(people, later - timedelta(minutes=i), type_code="07001" if i % 2 else "06010")
        act(people, c, "demo-chief", "file", later)
        if i % 3:
            act(people, c, "demo-dispatcher", "dispatch", later)
    compared = 0
    for who in ("demo-dispatcher", "demo-handler"):
        user = people[who]
        for mix in QUEUE_MIXES:
            filters = CaseFilters(**mix)
            want = list(case_queue_for(user, filters, now=now).select_related("department"))
            for offset, limit in ((0, 50), (0, 3), (3, 3)):
                with CaptureQueriesContext(connection) as q:
                    page = case_queue_page(user, filters, now=now, offset=offset, limit=limit)
                # SQLite asks its text index first how many cases a search term is in (cases.search);
                # a page in deadline order reads the cases with a deadline, then (when the page is not
                # full) those without, counting the first ones when the page starts past them
                searched = 2 if mix.get("q") and connection.vendor == "sqlite" else 1
                # in number order SQLite first counts (up to a cap) what each filter with an index of
                # its own keeps (selectors._dense)
                if connection.vendor == "sqlite" and mix.get("sort") in ("number", "-number"):
                    searched += sum(bool(mix.get(k)) for k in ("type_code", "area", "department", "state"))
                expected = want[offset : offset + limit]
                if mix.get("sort") in ("due", "-due"):
                    dated = sum(c.due_at is not None for c in want)
                    full = offset + limit <= dated
                    # past the cases with a deadline (none read): counted, then the others
                    assert len(q.captured_queries) == (1 if full else 3 if offset and offset >= dated else 2)
                else:
                    assert len(q.captured_queries) == searched
                assert [c.number for c in page] == [c.number for c in expected], (who, mix, offset)
                for got, orm in zip(page, expected, strict=True):
                    assert isinstance(got, QueueRow)
                    assert got.department_name == (orm.department and orm.department.name)
                    shown = [f.name for f in fields(QueueRow) if f.name != "department_name"]
                    assert {f: getattr(got, f) for f in shown} == {f: getattr(orm, f) for f in shown}
                compared += len(page)
    assert compared > 60
    # every whole-city mix but the search ran compiled, none fell back to the ORM: eight shapes (the
    # two type filters share one) at three pages each, and one more for the page in deadline order
    # that also read cases without a deadline
    plans = _QUEUE_PAGE._plans
    assert len(plans) == 25 and None not in plans.values()
    # the department filter ran by the department's key, not by a join on its code
    assert any(dict(names).get("department_key") is int for _alias, _shape, names in plans)


# The timeline as the template wrote it before ``case_timeline``: the tag must give the same page.
OLD_TIMELINE = """{% load i18n %}{% for ev in events %}
    <li data-testid="event" data-action="{{ ev.action }}">
      <time datetime="{{ ev.at|date:'c' }}">{{ ev.at|date:"Y-m-d H:i" }}</time>
      <strong>{{ ev.action_label }}</strong>
      <span class="muted">{{ ev.actor.display_name|default:ev.actor_name|default:_("system") }}</span>
      {% if ev.from_state and ev.from_state != ev.to_state %}<span class="transition">{{ ev.from_label }} → {{ ev.to_label }}</span>
      {% elif not ev.from_state and ev.to_state %}<span class="transition">→ {{ ev.to_label }}</span>{% endif %}
      {% if ev.department and ev.action == "dispatch" %}<span class="pill">{{ ev.department.name }}</span>{% endif %}
      {% if ev.note %}<div class="note">{{ ev.note|linebreaksbr }}</div>{% endif %}
      {% if ev.photos.all %}<div class="photos small">{% for p in ev.photos.all %}<img src="{% url 'cases:photo' number p.pk %}" alt="{{ p.get_stage_display }}" loading="lazy" width="64">{% endfor %}</div>{% endif %}
    </li>
  {% endfor %}"""  # noqa: E501


def _words(html: str) -> str:
    """The markup with whitespace between tags collapsed (it renders the same)."""
    import re

    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_timeline_tag_writes_what_the_template_wrote(timeline, language):
    from django.template import Context, Template
    from django.utils import translation

    from cityops.cases.choices import Action, State
    from cityops.cases.templatetags.case_timeline import case_timeline

    people, cases = timeline
    handled = cases[1]
    CaseEvent.objects.filter(case=handled, action="report_done").update(
        note='已清理 <b>"干净"</b>\r\n第二行 & 完'
    )
    CaseEvent.objects.filter(case=handled, action="file").update(actor=None, actor_name="")
    with translation.override(language):
        events = selectors.case_events_for(people["demo-dispatcher"], handled)
        actions, states = dict(Action.choices), dict(State.choices)
        for ev in events:
            ev.action_label = actions.get(ev.action, ev.action)
            ev.from_label = states.get(ev.from_state, ev.from_state)
            ev.to_label = states.get(ev.to_state, ev.to_state)
        old = Template(OLD_TIMELINE).render(Context({"events": events, "number": handled.number}))
        new = case_timeline(events, handled.number)
    assert _words(new) == _words(old)
    assert "&lt;b&gt;" in new and "<br>" in new and "<img " in new and 'class="pill"' in new
