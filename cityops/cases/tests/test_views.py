"""The staff workbench through the Django test client: queues, case page, actions, exports, report form."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cityops.cases import services
from cityops.cases.choices import Action, Source, State
from cityops.cases.models import Attachment, Case

LAT, LON = 36.195, 113.117


def jpeg(name="photo.jpg", color=(200, 40, 40)):
    from django.core.files.uploadedfile import SimpleUploadedFile

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/jpeg")


def report(people, **kw):
    data = services.ReportInput(
        source=kw.pop("source", Source.INSPECTOR),
        kind="matter",
        type_code=kw.pop("type_code", "07001"),
        description=kw.pop("description", "电线杆上贴满小广告"),
        lat=LAT,
        lon=LON,
        address=kw.pop("address", "英雄中路 1 号"),
        reporter_phone=kw.pop("reporter_phone", ""),
    )
    return services.case_report(
        data=data, photos=kw.pop("photos", ()), actor=people["demo-inspector"], now=timezone.now()
    )


def act(people, case, action, who, **kw):
    photos = kw.pop("photos", ())
    return services.case_act(
        number=case.number,
        data=services.ActionInput(action=action, **kw),
        actor=people[who],
        photos=photos,
        now=timezone.now(),
    )


def login(client, people, username):
    client.force_login(people[username])
    return client


def clone(case, n, digit="9"):
    """``n`` more cases like ``case`` (test data, written directly for speed)."""
    rows = []
    for i in range(n):
        c = Case.objects.get(pk=case.pk)
        c.pk = None
        c.number = f"{case.number[:8]}{digit}{i:05d}"
        rows.append(c)
    Case.objects.bulk_create(rows)


# ------------------------------------------------------------------------------------------------
# queues


@pytest.mark.django_db
def test_queue_lists_filters_and_pages(client, loop_world):
    first = report(loop_world)
    second = report(loop_world, description="占道经营", address="太行西街")
    act(loop_world, second, Action.FILE, "demo-chief")
    login(client, loop_world, "demo-chief")

    r = client.get(reverse("cases:queue"), {"queue": "to_file"})
    assert r.status_code == 200
    numbers = [row.number for row in r.context["rows"]]
    assert numbers == [first.number]

    r = client.get(reverse("cases:queue"), {"queue": "all", "q": "太行"})
    assert [row.number for row in r.context["rows"]] == [second.number]

    r = client.get(reverse("cases:queue"), {"queue": "all", "q": second.number})
    assert [row.number for row in r.context["rows"]] == [second.number]

    r = client.get(reverse("cases:queue"), {"queue": "all"})
    assert [row.number for row in r.context["rows"]] == [second.number, first.number]
    assert '<option value="-reported" selected>' in r.content.decode()
    r = client.get(reverse("cases:queue"), {"queue": "all", "sort": "number"})
    assert [row.number for row in r.context["rows"]] == [first.number, second.number]

    # Unknown sort keys and queues are not passed on: the defaults apply.
    r = client.get(reverse("cases:queue"), {"queue": "nope", "sort": "description; drop table", "type": "x"})
    assert r.status_code == 200
    assert r.context["filters"].queue == "all"
    assert r.context["filters"].sort == "-reported"
    assert r.context["filters"].type_code == ""

    r = client.get(reverse("cases:queue"), {"queue": "to_dispatch", "department": "LZ-CGJ"})
    assert r.context["rows"] == []
    r = client.get(reverse("cases:queue"), {"queue": "all", "area": "140403", "source": "inspector"})
    assert len(r.context["rows"]) == 2
    today = timezone.localdate().isoformat()
    r = client.get(reverse("cases:queue"), {"queue": "all", "from": today, "to": today})
    assert len(r.context["rows"]) == 2
    r = client.get(reverse("cases:queue"), {"queue": "all", "from": "2000-01-01", "to": "2000-01-02"})
    assert r.context["rows"] == []

    clone(first, 25)
    r = client.get(reverse("cases:queue"), {"queue": "to_file", "size": 20})
    assert len(r.context["rows"]) == 20 and r.context["has_next"]
    assert b'data-testid="next-page"' in r.content
    r = client.get(reverse("cases:queue"), {"queue": "to_file", "size": 20, "page": 2})
    assert len(r.context["rows"]) == 6 and not r.context["has_next"] and r.context["has_prev"]


@pytest.mark.django_db
def test_queue_marks_overdue_cases(client, loop_world):
    case = report(loop_world)
    Case.objects.filter(pk=case.pk).update(due_at=timezone.now() - timezone.timedelta(hours=1))
    login(client, loop_world, "demo-chief")
    r = client.get(reverse("cases:queue"), {"queue": "overdue"})
    assert [c.number for c in r.context["rows"]] == [case.number]
    assert b'data-testid="overdue"' in r.content


def _queue_queries(client, size: int) -> int:
    with CaptureQueriesContext(connection) as ctx:
        r = client.get(reverse("cases:queue"), {"queue": "all", "size": 50})
    assert r.status_code == 200
    assert len(r.context["rows"]) == size
    return len(ctx.captured_queries)


@pytest.mark.django_db
@pytest.mark.parametrize("username", ["demo-chief", "demo-handler", "demo-inspector"])
def test_queue_query_count_does_not_grow_with_page_size(client, loop_world, username):
    case = report(loop_world)
    act(loop_world, case, Action.FILE, "demo-chief")
    act(loop_world, case, Action.DISPATCH, "demo-dispatcher")
    login(client, loop_world, username)
    clone(case, 4)
    client.get(reverse("cases:queue"))  # warm the per-process caches (catalogue, calendar)
    small = _queue_queries(client, 5)
    clone(case, 35, digit="8")
    large = _queue_queries(client, 40)
    assert small == large
    assert large <= 12


@pytest.mark.django_db
def test_queue_never_counts_the_whole_table(client, loop_world):
    report(loop_world)
    login(client, loop_world, "demo-chief")
    with CaptureQueriesContext(connection) as ctx:
        client.get(reverse("cases:queue"), {"queue": "all"})
    assert not [q for q in ctx.captured_queries if "COUNT(" in q["sql"].upper() and "cases_case" in q["sql"]]


@pytest.mark.django_db
def test_queue_needs_a_staff_role(client, loop_world, django_user_model):
    nobody = django_user_model.objects.create_user(username="nobody", password="x")
    client.force_login(nobody)
    assert client.get(reverse("cases:queue")).status_code == 404
    client.logout()
    assert client.get(reverse("cases:queue")).status_code == 302


# ------------------------------------------------------------------------------------------------
# case page and actions


@pytest.mark.django_db
def test_case_page_shows_details_deadlines_map_timeline_and_allowed_actions(client, loop_world):
    case = report(loop_world, photos=[jpeg()])
    login(client, loop_world, "demo-chief")
    r = client.get(reverse("cases:detail", args=[case.number]))
    assert r.status_code == 200
    assert [t.name for t in r.templates] == ["cases/case_detail.html"]  # a Jinja2 page (config/jinja_env)
    html = r.content.decode()
    assert 'data-testid="case-map"' in html and 'data-lat="36.195' in html
    assert [a["action"] for a in r.context["actions"]] == ["file", "reject", "invalidate", "merge", "urge"]
    assert 'data-testid="action-file"' in html
    assert [e.action for e in r.context["events"]] == ["report"]
    # the choice labels, in the page's language (zh-hans by default)
    assert r.context["labels"] == {
        "state": "待立案",
        "source": "监督员",
        "kind": "事项",
        "urgency": "一般",
    }
    assert 'data-state="to_file">待立案</span>' in html and "<dd>监督员</dd>" in html
    assert r.context["deadlines"] and r.context["deadlines"][0]["due_at"] == case.due_at
    photo = Attachment.objects.get(case=case)
    assert reverse("cases:photo", args=[case.number, photo.pk]) in html
    assert client.get(reverse("cases:photo", args=[case.number, photo.pk])).status_code == 200

    # The handler's department does not hold the case: not visible, nor its photos.
    login(client, loop_world, "demo-handler")
    assert client.get(reverse("cases:detail", args=[case.number])).status_code == 404
    assert client.get(reverse("cases:photo", args=[case.number, photo.pk])).status_code == 404


@pytest.mark.django_db
def test_dispatch_form_preselects_the_proposed_department(client, loop_world):
    case = report(loop_world)
    act(loop_world, case, Action.FILE, "demo-chief")
    login(client, loop_world, "demo-dispatcher")
    r = client.get(reverse("cases:detail", args=[case.number]))
    (form,) = [a for a in r.context["actions"] if a["action"] == "dispatch"]
    assert form["proposal"] == "LZ-CGJ"
    assert '<option value="LZ-CGJ" selected>' in r.content.decode()
    r = client.post(reverse("cases:act", args=[case.number]), {"action": "dispatch", "department": "LZ-CGJ"})
    assert r.status_code == 302 and r["Location"] == reverse("cases:detail", args=[case.number])
    case.refresh_from_db()
    assert case.state == State.DISPATCHED and case.department.code == "LZ-CGJ"
    r = client.get(r["Location"])
    assert [m.level_tag for m in r.context["messages"]] == ["success"]
    assert [d["label"] for d in r.context["deadlines"]]


@pytest.mark.django_db
def test_refused_action_shows_the_reason_and_changes_nothing(client, loop_world):
    case = report(loop_world)
    login(client, loop_world, "demo-dispatcher")
    r = client.post(reverse("cases:act", args=[case.number]), {"action": "file"})
    assert r.status_code == 403
    assert [m.level_tag for m in r.context["messages"]] == ["error"]
    case.refresh_from_db()
    assert case.state == State.TO_FILE and case.events.count() == 1

    login(client, loop_world, "demo-chief")
    r = client.post(reverse("cases:act", args=[case.number]), {"action": "reject"})
    assert r.status_code == 400  # a reason is required
    r = client.post(reverse("cases:act", args=[case.number]), {"action": "close"})
    assert r.status_code == 409
    r = client.post(reverse("cases:act", args=[case.number]), {"action": "bogus"})
    assert r.status_code == 400
    r = client.post(
        reverse("cases:act", args=[case.number]), {"action": "merge", "original": "2000-01-000001"}
    )
    assert r.status_code == 400
    case.refresh_from_db()
    assert case.state == State.TO_FILE and case.events.count() == 1
    assert client.get(reverse("cases:act", args=[case.number])).status_code == 405


@pytest.mark.django_db
def test_handler_reports_done_with_a_photo_through_the_page(client, loop_world):
    case = report(loop_world)
    act(loop_world, case, Action.FILE, "demo-chief")
    act(loop_world, case, Action.DISPATCH, "demo-dispatcher")
    login(client, loop_world, "demo-handler")
    url = reverse("cases:act", args=[case.number])
    assert client.post(url, {"action": "accept"}).status_code == 302
    r = client.get(reverse("cases:detail", args=[case.number]))
    forms = {a["action"]: a for a in r.context["actions"]}
    assert forms["report_done"]["photos_required"] and forms["request_extension"]["until"]
    assert client.post(url, {"action": "report_done"}).status_code == 400  # photos are required
    r = client.post(url, {"action": "report_done", "note": "已清理", "photos": [jpeg()]})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.state == State.TO_CHECK
    assert Attachment.objects.filter(case=case, stage="handled").count() == 1


@pytest.mark.django_db
def test_extension_request_with_a_bad_date_is_refused(client, loop_world):
    case = report(loop_world)
    act(loop_world, case, Action.FILE, "demo-chief")
    act(loop_world, case, Action.DISPATCH, "demo-dispatcher")
    act(loop_world, case, Action.ACCEPT, "demo-handler")
    login(client, loop_world, "demo-handler")
    url = reverse("cases:act", args=[case.number])
    r = client.post(url, {"action": "request_extension", "reason": "等材料", "until": "not a date"})
    assert r.status_code == 400
    r = client.post(url, {"action": "request_extension", "reason": "等材料", "until": "2000-01-01T10:00"})
    assert r.status_code == 400
    r = client.post(url, {"action": "request_extension", "reason": "等材料", "until": "2099-01-01T10:00"})
    assert r.status_code == 400  # at most a year ahead
    until = (timezone.localtime() + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M")
    r = client.post(url, {"action": "request_extension", "reason": "等材料", "until": until})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.extension_pending


# ------------------------------------------------------------------------------------------------
# exports


@pytest.mark.django_db
def test_csv_export_streams_the_filtered_list_and_hides_phones_from_departments(client, loop_world):
    case = report(loop_world, reporter_phone="13800000000", source=Source.INSPECTOR)
    other = report(loop_world, description="another")
    act(loop_world, case, Action.FILE, "demo-chief")
    act(loop_world, case, Action.DISPATCH, "demo-dispatcher")
    login(client, loop_world, "demo-chief")
    r = client.get(reverse("cases:export_csv"), {"queue": "in_handling"})
    assert r.status_code == 200 and r.streaming
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == 2 and rows[1][0] == case.number
    assert "13800000000" in rows[1]
    assert other.number not in text

    login(client, loop_world, "demo-handler")
    r = client.get(reverse("cases:export_csv"))
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert [row[0] for row in rows[1:]] == [case.number]
    assert "13800000000" not in text


@pytest.mark.django_db
def test_xlsx_export(client, loop_world):
    from openpyxl import load_workbook

    case = report(loop_world, description="bad \x01 char")
    login(client, loop_world, "demo-chief")
    r = client.get(reverse("cases:export_xlsx"), {"queue": "to_file"})
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment")
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)), read_only=True)
    rows = list(wb.active.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][0] == case.number


# ------------------------------------------------------------------------------------------------
# inspector pages


@pytest.mark.django_db
def test_inspector_reports_from_the_phone_form(client, loop_world):
    login(client, loop_world, "demo-inspector")
    r = client.get(reverse("cases:report"))
    assert r.status_code == 200
    assert 'capture="environment"' in r.content.decode()
    assert 'value="matter:07001"' in r.content.decode()
    r = client.post(
        reverse("cases:report"),
        {
            "type": "matter:07001",
            "description": "电线杆上的小广告",
            "lat": "36.195",
            "lon": "113.117",
            "address": "英雄中路",
            "urgency": "normal",
            "photos": [jpeg(), jpeg("b.jpg", (0, 90, 200))],
        },
    )
    assert r.status_code == 302
    case = Case.objects.get()
    assert r["Location"] == reverse("cases:detail", args=[case.number])
    assert case.source == Source.INSPECTOR and case.state == State.TO_FILE and case.type_code == "07001"
    assert case.reported_by == loop_world["demo-inspector"]
    assert case.attachments.filter(stage="report").count() == 2


@pytest.mark.django_db
def test_report_form_refusals(client, loop_world):
    login(client, loop_world, "demo-inspector")
    base = {"type": "matter:07001", "description": "x", "lat": "39.9", "lon": "116.4", "urgency": "normal"}
    r = client.post(reverse("cases:report"), base)  # Beijing: outside the city
    assert r.status_code == 400
    assert [m.level_tag for m in r.context["messages"]] == ["error"]
    r = client.post(reverse("cases:report"), {**base, "lat": "north"})
    assert r.status_code == 400
    r = client.post(
        reverse("cases:report"), {**base, "lat": "36.195", "lon": "113.117", "type": "matter:99999"}
    )
    assert r.status_code == 400
    assert not Case.objects.exists()
    login(client, loop_world, "demo-handler")
    assert client.get(reverse("cases:report")).status_code == 404


@pytest.mark.django_db
def test_type_search_returns_options(client, loop_world):
    login(client, loop_world, "demo-inspector")
    r = client.get(reverse("cases:type_options"), {"q": "07001"})
    assert r.status_code == 200 and 'value="matter:07001"' in r.content.decode()


@pytest.mark.django_db
def test_inspector_task_list_and_home(client, loop_world):
    case = report(loop_world)
    act(loop_world, case, Action.FILE, "demo-chief")
    act(loop_world, case, Action.DISPATCH, "demo-dispatcher")
    act(loop_world, case, Action.ACCEPT, "demo-handler")
    act(loop_world, case, Action.REPORT_DONE, "demo-handler", photos=[jpeg()])
    login(client, loop_world, "demo-inspector")
    r = client.get(reverse("cases:tasks"))
    assert r.status_code == 200
    sections = {s["name"]: s for s in r.context["sections"]}
    assert [c.number for c in sections["to_check"]["rows"]] == [case.number]
    assert sections["to_verify"]["rows"] == []
    r = client.get(reverse("accounts:role_home", args=["inspector"]))
    html = r.content.decode()
    assert reverse("cases:report") in html and reverse("cases:tasks") in html
    counts = {q["name"]: q["count"] for q in r.context["queues"]}
    assert counts["to_check"] == 1 and counts["to_verify"] == 0
    login(client, loop_world, "demo-chief")
    assert client.get(reverse("cases:tasks")).status_code == 404


@pytest.mark.django_db
def test_role_homes_show_queue_counts(client, loop_world):
    report(loop_world)
    login(client, loop_world, "demo-chief")
    r = client.get(reverse("accounts:role_home", args=["duty-chief"]))
    assert 'data-testid="queue-count-to_file">1<' in r.content.decode()
    login(client, loop_world, "demo-dispatcher")
    r = client.get(reverse("accounts:role_home", args=["dispatcher"]))
    assert 'data-testid="queue-count-to_dispatch">0<' in r.content.decode()
