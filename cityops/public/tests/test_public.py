"""The public pages through the Django test client: report, me too, track, rate, reopen, reply,
photos, map, figures, and the rule that a citizen's phone number never shows on the public side."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from cityops.cases import services
from cityops.cases.choices import Action, Rating, Source, State
from cityops.cases.models import Attachment, Case, CaseEvent, Follow, LoopSettings
from cityops.cases.selectors import CaseFilters, case_queue_for
from cityops.cases.tests.conftest import LZ_LAT, LZ_LON, jpeg_with_gps
from cityops.core.errors import Conflict, DomainError, NotAllowed
from cityops.core.redact import redact_phones
from cityops.notifications.models import Notification
from cityops.public import selectors
from cityops.public import views as public_views
from cityops.public.forms import mask_phone

PHONE = "13800000001"
OTHER_PHONE = "13900000002"


def upload(data: bytes, name="p.jpg", content_type="image/jpeg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type=content_type)


def jpeg(color=(200, 40, 40)):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), color).save(buf, "JPEG")
    return upload(buf.getvalue())


def post_report(client, **kw):
    data = {
        "type": "matter:06010",
        "description": "路边有一堆暴露垃圾",
        "lat": str(LZ_LAT),
        "lon": str(LZ_LON),
        "address": "英雄中路 1 号",
        "phone": PHONE,
        "is_public": "on",
    }
    data.update(kw)
    return client.post(reverse("public:report"), data)


def staff(people, case, who, action, now, photos=(), **kw):
    return services.case_act(
        number=case.number,
        data=services.ActionInput(action=action, **kw),
        actor=people[who],
        photos=photos,
        now=now,
    )


def run_to_closed(people, case, now=None):
    now = now or timezone.now()
    staff(people, case, "demo-inspector", "verify", now)
    staff(people, case, "demo-chief", "file", now)
    staff(people, case, "demo-dispatcher", "dispatch", now)
    staff(people, case, "demo-handler", "accept", now)
    staff(people, case, "demo-handler", "report_done", now, photos=[jpeg((40, 160, 40))], note="已清理")
    staff(people, case, "demo-inspector", "check_pass", now)
    return staff(people, case, "demo-chief", "close", now)


def public_report(people, phone=PHONE, is_public=True, **kw):
    data = services.ReportInput(
        source=Source.PUBLIC,
        type_code=kw.pop("type_code", "06010"),
        description=kw.pop("description", "垃圾"),
        lat=kw.pop("lat", LZ_LAT),
        lon=kw.pop("lon", LZ_LON),
        reporter_phone=phone,
        is_public=is_public,
    )
    return services.case_report(data=data, photos=kw.pop("photos", ()), actor=None, now=timezone.now())


# ------------------------------------------------------------------------------------------------
# reporting


def test_report_form_renders_grouped_public_types(client, loop_world):
    r = client.get(reverse("public:report"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "<optgroup" in body and 'value="matter:06010"' in body
    assert 'data-testid="no-map"' in body  # the typed-address path


@pytest.mark.parametrize("word", ["小广告", "井盖", "垃圾", "公厕"])
def test_type_search_matches_common_words(client, loop_world, word):
    r = client.get(reverse("public:type_options"), {"q": word})
    assert r.status_code == 200
    assert (
        r.content.decode().count('<option value="matter:')
        + r.content.decode().count('<option value="component:')
        >= 1
    )


def test_report_gives_a_number_and_a_private_link(client, loop_world):
    r = client.post(
        reverse("public:report"),
        {
            "type": "matter:06010",
            "description": "路边有一堆暴露垃圾",
            "lat": str(LZ_LAT),
            "lon": str(LZ_LON),
            "phone": "138 0000 0001",
            "is_public": "on",
            "photos": [upload(jpeg_with_gps())],
        },
    )
    assert r.status_code == 302 and r["Location"] == reverse("public:thanks")
    case = Case.objects.get()
    assert (case.source, case.state, case.reporter_phone) == (Source.PUBLIC, State.TO_VERIFY, PHONE)
    assert case.reported_by is None and case.is_public
    assert Follow.objects.filter(case=case, phone=PHONE).exists()  # the reporter gets the updates
    photo = Attachment.objects.get(case=case)
    with Image.open(photo.file.path) as img:
        assert not img.getexif()  # GPS and camera stripped
    page = client.get(r["Location"]).content.decode()
    assert case.number in page
    assert f"/track/{case.number}/?t={case.tracking_token}" in page
    assert "138****0001" in page and PHONE not in page


def test_anonymous_report_keeps_no_phone(client, loop_world):
    r = post_report(client, anonymous="on")
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.reporter_phone == "" and not Follow.objects.filter(case=case).exists()


def test_private_report_stays_off_the_public_side(client, loop_world):
    assert post_report(client, is_public="").status_code == 302
    case = Case.objects.get()
    assert not case.is_public
    other = type(client)()
    assert other.get(reverse("public:track_case", args=[case.number])).status_code == 404
    # the reporter (same browser session) still sees it
    assert client.get(reverse("public:track_case", args=[case.number])).status_code == 200


def test_report_needs_a_position_or_an_address_with_district(client, loop_world):
    r = post_report(client, lat="", lon="", address="")
    assert r.status_code == 400
    assert "We need to know where the problem is" in r.content.decode()
    r = post_report(client, lat="", lon="", address="英雄中路与太行街交叉口", district="140403")
    assert r.status_code == 302
    case = Case.objects.get()
    assert case.county_code == "140403" and case.address == "英雄中路与太行街交叉口"


def test_bad_phone_and_bad_photo_are_refused_clearly(client, loop_world):
    r = post_report(client, phone="12345")
    assert r.status_code == 400 and "11-digit mobile number" in r.content.decode()
    r = post_report(client, photos=[upload(b"not an image", "x.jpg")])
    assert r.status_code == 400 and "not a readable image" in r.content.decode()
    r = post_report(client, lat="30.0", lon="100.0")
    assert r.status_code == 400
    assert not Case.objects.exists()


def test_reports_are_rate_limited_per_address(client, loop_world, monkeypatch):
    monkeypatch.setattr(public_views, "REPORTS_PER_HOUR", 2)
    assert post_report(client).status_code == 302
    assert post_report(client).status_code == 302
    r = post_report(client)
    assert r.status_code == 429 and "Too many reports" in r.content.decode()
    assert Case.objects.count() == 2


def test_nearby_lists_open_public_cases_and_me_too_counts(client, loop_world):
    original = public_report(loop_world, phone=OTHER_PHONE)
    hidden = public_report(loop_world, phone=OTHER_PHONE, is_public=False)
    r = client.get(reverse("public:nearby"), {"type": "matter:06010", "lat": LZ_LAT, "lon": LZ_LON})
    body = r.content.decode()
    assert original.number in body and hidden.number not in body
    assert OTHER_PHONE not in body
    r = client.post(reverse("public:follow"), {"follow": original.number, "phone": PHONE})
    assert r.status_code == 302 and r["Location"] == reverse("public:track_case", args=[original.number])
    original.refresh_from_db()
    assert original.followers == 1
    assert Follow.objects.filter(case=original, phone=PHONE).exists()
    # the follower sees the public timeline: not the reporter's view, rating or reopening
    page = client.get(reverse("public:track_case", args=[original.number])).content.decode()
    assert 'data-testid="private"' not in page and original.tracking_token not in page
    assert original.number not in client.session.get("cityops_track", {})
    # a private case cannot be followed from the public side
    r = client.post(reverse("public:follow"), {"follow": hidden.number, "phone": PHONE})
    hidden.refresh_from_db()
    assert hidden.followers == 0


# ------------------------------------------------------------------------------------------------
# tracking, rating, reopening


def test_timeline_in_plain_words_with_before_and_after_photos(client, loop_world):
    case = public_report(loop_world, photos=[jpeg()])
    run_to_closed(loop_world, case)
    r = client.get(reverse("public:track_case", args=[case.number]))
    body = r.content.decode()
    for sentence in (
        "We received your report.",
        "Verified on site.",
        "Filed as a case.",
        "Sent to 潞州区城市管理局.",
        "Handled.",
        "Checked on site: done.",
        "Closed.",
    ):
        assert sentence in body, sentence
    assert 'data-testid="photos-before"' in body and 'data-testid="photos-after"' in body
    assert 'data-testid="private"' not in body  # no token, no phone: the public view only
    assert "已清理" not in body  # staff notes stay internal
    for p in Attachment.objects.filter(case=case):
        assert client.get(reverse("public:photo", args=[case.number, p.pk])).status_code == 200


def test_non_public_photo_and_private_case_photos_are_not_served(client, loop_world):
    case = public_report(loop_world, photos=[jpeg()])
    p = Attachment.objects.get(case=case)
    Attachment.objects.filter(pk=p.pk).update(is_public=False)
    assert client.get(reverse("public:photo", args=[case.number, p.pk])).status_code == 404
    private = public_report(loop_world, is_public=False, photos=[jpeg()])
    p2 = Attachment.objects.get(case=private)
    assert client.get(reverse("public:photo", args=[private.number, p2.pk])).status_code == 404
    # a photo id of another case through this case's address
    assert client.get(reverse("public:photo", args=[case.number, p2.pk])).status_code == 404


def test_tracking_link_moves_the_token_into_the_session(client, loop_world):
    case = public_report(loop_world)
    r = client.get(reverse("public:track_case", args=[case.number]) + f"?t={case.tracking_token}")
    assert r.status_code == 302 and "?t=" not in r["Location"]
    body = client.get(r["Location"]).content.decode()
    assert 'data-testid="private"' in body and "138****0001" in body and PHONE not in body
    # a wrong token opens nothing private
    other = type(client)()
    other.get(reverse("public:track_case", args=[case.number]) + "?t=" + "x" * 24)
    body = other.get(reverse("public:track_case", args=[case.number])).content.decode()
    assert 'data-testid="private"' not in body


def test_phone_unlocks_the_reporters_view_and_a_stranger_gets_the_public_one(client, loop_world):
    case = public_report(loop_world)
    r = client.post(reverse("public:track"), {"number": case.number, "phone": PHONE})
    assert r.status_code == 302
    assert 'data-testid="private"' in client.get(r["Location"]).content.decode()
    stranger = type(client)()
    r = stranger.post(reverse("public:track"), {"number": case.number, "phone": OTHER_PHONE})
    assert r.status_code == 302
    assert 'data-testid="private"' not in stranger.get(r["Location"]).content.decode()
    r = stranger.post(reverse("public:track"), {"number": "2020-01-000001"})
    assert r.status_code == 404


def test_rate_once_after_closing_and_ask_to_reopen_within_the_window(client, loop_world):
    case = public_report(loop_world)
    client.get(reverse("public:track_case", args=[case.number]) + f"?t={case.tracking_token}")
    rate_url = reverse("public:rate", args=[case.number])
    reopen_url = reverse("public:reopen", args=[case.number])
    client.post(rate_url, {"rating": "satisfied"})
    case.refresh_from_db()
    assert case.rating == ""  # not closed yet
    run_to_closed(loop_world, case)
    client.post(rate_url, {"rating": Rating.UNSATISFIED, "comment": "垃圾还在"})
    client.post(rate_url, {"rating": Rating.SATISFIED})  # only once per closing
    case.refresh_from_db()
    assert (case.rating, case.rating_comment) == (Rating.UNSATISFIED, "垃圾还在")
    rate_event = CaseEvent.objects.get(case=case, action=Action.RATE)
    assert not rate_event.is_public and rate_event.actor_name == "the reporter"
    r = client.post(reopen_url, {"reason": "垃圾还在原地"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.reopen_requested_at is not None
    queue = case_queue_for(loop_world["demo-chief"], CaseFilters(queue="reopen_requests"), now=timezone.now())
    assert list(queue) == [case]
    body = client.get(reverse("public:track_case", args=[case.number])).content.decode()
    assert 'data-testid="reopen-asked"' in body and "垃圾还在" in body  # their own comment, to them
    assert (
        "垃圾还在"
        not in type(client)().get(reverse("public:track_case", args=[case.number])).content.decode()
    )
    # the duty chief reopens; the request is cleared
    staff(loop_world, case, "demo-chief", "reopen", timezone.now(), reason="市民反映未解决")
    case.refresh_from_db()
    assert case.reopen_requested_at is None and case.state == State.TO_DISPATCH


def test_rate_and_reopen_need_the_reporter(client, loop_world):
    case = public_report(loop_world)
    run_to_closed(loop_world, case)
    assert client.post(reverse("public:rate", args=[case.number]), {"rating": "satisfied"}).status_code == 404
    assert client.post(reverse("public:reopen", args=[case.number]), {"reason": "x"}).status_code == 404


def test_reopen_window_and_rating_rules_in_the_services(loop_world):
    case = public_report(loop_world)
    with pytest.raises(Conflict):
        services.case_rate(number=case.number, rating="satisfied", now=timezone.now())
    closed_at = timezone.now()
    run_to_closed(loop_world, case, now=closed_at)
    with pytest.raises(DomainError):
        services.case_rate(number=case.number, rating="great", now=closed_at)
    days = LoopSettings.current().reopen_days
    with pytest.raises(Conflict) as exc:
        services.case_reopen_request(
            number=case.number, reason="没修好", now=closed_at + timedelta(days=days, minutes=1)
        )
    assert exc.value.code == "too_late"
    services.case_reopen_request(number=case.number, reason="没修好", now=closed_at + timedelta(days=1))
    with pytest.raises(Conflict):
        services.case_reopen_request(number=case.number, reason="again", now=closed_at + timedelta(days=1))


# ------------------------------------------------------------------------------------------------
# staff replies


def test_staff_reply_is_public_and_notifies_followers(client, loop_world):
    case = public_report(loop_world)
    with pytest.raises(NotAllowed):
        services.case_reply(
            number=case.number, text="x", actor=loop_world["demo-inspector"], now=timezone.now()
        )
    client.force_login(loop_world["demo-operator"])
    page = client.get(reverse("cases:detail", args=[case.number])).content.decode()
    assert 'data-testid="reply-form"' in page
    r = client.post(
        reverse("cases:reply", args=[case.number]), {"text": "已安排环卫人员今天清理，电话 13911112222"}
    )
    assert r.status_code == 302
    ev = CaseEvent.objects.get(case=case, action=Action.REPLY)
    assert ev.is_public
    assert Notification.objects.filter(
        recipient=PHONE, channel="sms", body__contains="已安排环卫人员"
    ).exists()
    client.logout()
    body = client.get(reverse("public:track_case", args=[case.number])).content.decode()
    assert "已安排环卫人员今天清理" in body
    assert "13911112222" not in body and "139****2222" in body  # a number in free text is masked
    # the responsible department may reply; another department may not
    run_to_closed(loop_world, case)
    services.case_reply(
        number=case.number, text="已处理", actor=loop_world["demo-handler"], now=timezone.now()
    )
    with pytest.raises(DomainError):
        services.case_reply(number=case.number, text="x", actor=loop_world["handler-hw"], now=timezone.now())


def test_reporter_gets_an_sms_at_each_public_step(loop_world):
    case = public_report(loop_world)
    run_to_closed(loop_world, case)
    bodies = list(Notification.objects.filter(recipient=PHONE).values_list("body", flat=True))
    assert len(bodies) >= 4  # verified, filed, dispatched, handled, closed
    assert any("closed" in b for b in bodies)


# ------------------------------------------------------------------------------------------------
# map and figures


def test_map_and_geojson_show_public_fields_only(client, loop_world, django_assert_max_num_queries):
    shown = public_report(loop_world, lat=36.1951234, lon=113.1171234)
    hidden = public_report(loop_world, is_public=False)
    assert client.get(reverse("public:map")).status_code == 200
    with django_assert_max_num_queries(3):
        r = client.get(reverse("public:map_geojson"))
    data = r.json()
    numbers = [f["properties"]["number"] for f in data["features"]]
    assert shown.number in numbers and hidden.number not in numbers
    f = data["features"][0]
    assert f["geometry"]["coordinates"] == [113.1171, 36.1951]
    assert set(f["properties"]) == {"number", "type", "state", "state_label", "reported", "url"}
    assert r["Content-Type"] == "application/geo+json; charset=utf-8"
    assert f["properties"]["url"] == reverse("public:track_case", args=[f["properties"]["number"]])
    assert f["properties"]["state"] == "received" and f["properties"]["state_label"] in {"Received", "已受理"}
    assert f["properties"]["reported"] == timezone.localdate(shown.reported_at).isoformat()
    assert client.get(reverse("public:map_geojson"), {"state": "closed"}).json()["features"] == []
    assert client.get(reverse("public:map_geojson"), {"type": "07001"}).json()["features"] == []
    assert len(client.get(reverse("public:map_geojson"), {"area": "140403"}).json()["features"]) == 1
    assert (
        len(client.get(reverse("public:map_geojson"), {"state": "bogus", "days": "x"}).json()["features"])
        == 1
    )


def test_figures_per_department(client, loop_world, django_assert_max_num_queries):
    a = public_report(loop_world)
    b = public_report(loop_world)
    run_to_closed(loop_world, a)
    services.case_rate(number=a.number, rating="basic", now=timezone.now())
    now = timezone.now()
    staff(loop_world, b, "demo-inspector", "verify", now)
    staff(loop_world, b, "demo-chief", "file", now)
    staff(loop_world, b, "demo-dispatcher", "dispatch", now)
    Case.objects.filter(pk=b.pk).update(handle_due_at=now - timedelta(hours=1))  # overdue, still open
    with django_assert_max_num_queries(6):
        r = client.get(reverse("public:figures"))
    body = r.content.decode()
    row = re.search(r'data-department="LZ-CGJ".*?</tr>', body, re.S).group(0)
    assert re.search(r'fig-cases">2<', row)
    assert re.search(r'fig-ontime">50%', row)  # 1 on time of (1 closed + 1 overdue open)
    assert re.search(r'fig-satisfaction">100%', row)
    assert 'data-testid="definitions"' in body
    # the average handling time, worked out by the database, is the cases' own to the millisecond
    base = now - timedelta(days=2)
    Case.objects.filter(pk=a.pk).update(
        dispatched_at=base, handled_at=base + timedelta(hours=3, microseconds=5)
    )
    Case.objects.filter(pk=b.pk).update(dispatched_at=base, handled_at=base + timedelta(hours=6, seconds=1))
    (lz,) = [f for f in selectors.department_figures(since=base, until=now, now=now) if f.code == "LZ-CGJ"]
    want = timedelta(hours=4, minutes=30, seconds=0.5)
    assert abs(lz.avg_handling - want) < timedelta(milliseconds=1), lz.avg_handling


def test_figures_are_counted_again_only_after_their_interval(client, loop_world, settings):
    """The page aggregates up to a year of cases: it is computed once per period and interval, and
    says as of when; a case dispatched meanwhile shows once the interval has passed."""
    settings.CITYOPS_PUBLIC_FIGURES_SECONDS = 300
    a = public_report(loop_world)
    now = timezone.now()
    staff(loop_world, a, "demo-inspector", "verify", now)
    staff(loop_world, a, "demo-chief", "file", now)
    staff(loop_world, a, "demo-dispatcher", "dispatch", now)

    def cases_of_lz_cgj(body: str) -> str:
        return re.search(r'data-department="LZ-CGJ".*?fig-cases">(\d+)<', body, re.S).group(1)

    first = client.get(reverse("public:figures")).content.decode()
    assert cases_of_lz_cgj(first) == "1"
    assert "counted again at most every 5 minutes" in first
    b = public_report(loop_world)
    staff(loop_world, b, "demo-inspector", "verify", now)
    staff(loop_world, b, "demo-chief", "file", now)
    staff(loop_world, b, "demo-dispatcher", "dispatch", now)
    with CaptureQueriesContext(connection) as q:
        again = client.get(reverse("public:figures")).content.decode()
    assert cases_of_lz_cgj(again) == "1"  # within the interval: the figures computed before
    assert not any("COUNT(" in x["sql"].upper() for x in q.captured_queries)
    other_period = client.get(reverse("public:figures") + "?days=30").content.decode()
    assert cases_of_lz_cgj(other_period) == "2"  # each period is computed on its own
    later = timezone.now() + timedelta(seconds=301)
    with mock.patch("cityops.public.views._now", return_value=later):
        fresh = client.get(reverse("public:figures")).content.decode()
    assert cases_of_lz_cgj(fresh) == "2"
    settings.CITYOPS_PUBLIC_FIGURES_SECONDS = 0  # counted on every load
    c = public_report(loop_world)
    staff(loop_world, c, "demo-inspector", "verify", now)
    staff(loop_world, c, "demo-chief", "file", now)
    staff(loop_world, c, "demo-dispatcher", "dispatch", now)
    every_load = client.get(reverse("public:figures")).content.decode()
    assert cases_of_lz_cgj(every_load) == "3"
    assert "Figures as of" in every_load and "counted again" not in every_load
    zh = client.get(reverse("public:figures"), headers={"accept-language": "zh-hans"}).content.decode()
    assert "数据截至" in zh


def test_figures_are_kept_for_every_worker_and_computed_ahead_by_the_timer(client, loop_world, settings):
    """The figures one load computes are kept in the database: another worker (its own memory empty)
    reads them with one row instead of aggregating the cases again. The timer computes each period
    again once half of the interval has passed, so a visitor finds them ready; figures dated after
    the clock (a clock set back) are computed again."""
    from django.core.cache import cache
    from django.core.management import call_command

    from cityops.public import services as public_services
    from cityops.public.models import FigureSet

    settings.CITYOPS_PUBLIC_FIGURES_SECONDS = 300

    def dispatched():
        case = public_report(loop_world)
        now = timezone.now()
        staff(loop_world, case, "demo-inspector", "verify", now)
        staff(loop_world, case, "demo-chief", "file", now)
        staff(loop_world, case, "demo-dispatcher", "dispatch", now)

    def load(at=None, days=""):
        url = reverse("public:figures") + (f"?days={days}" if days else "")
        moment = mock.patch("cityops.public.views._now", return_value=at or timezone.now())
        with moment, CaptureQueriesContext(connection) as q:
            body = client.get(url).content.decode()
        counted = any("COUNT(" in x["sql"].upper() for x in q.captured_queries)
        return re.search(r'data-department="LZ-CGJ".*?fig-cases">(\d+)<', body, re.S).group(1), counted

    dispatched()
    assert load() == ("1", True)
    kept = FigureSet.objects.get(days=90)
    assert [r["code"] for r in kept.rows if r["cases"]] == ["LZ-CGJ"]
    dispatched()
    cache.clear()  # another worker: nothing in its memory, the kept figures read in one row
    assert load() == ("1", False)
    # within the first half of the interval the timer leaves them; past it, computes every period
    out = io.StringIO()
    call_command("public_figures_refresh", stdout=out)
    assert FigureSet.objects.get(days=90).computed_at == kept.computed_at
    assert sorted(FigureSet.objects.values_list("days", flat=True)) == [30, 90, 365]  # never kept: computed
    later = kept.computed_at + timedelta(seconds=151)
    assert public_services.figures_refresh(now=later, older_than=timedelta(seconds=150)) == [30, 90, 365]
    assert public_services.figures_refresh(now=later, older_than=timedelta(seconds=150)) == []
    cache.clear()
    assert load(later + timedelta(seconds=200)) == ("2", False)  # ready before the visitor came
    assert load(later + timedelta(seconds=200), days="365") == ("2", False)
    # past the interval with no timer, the visitor's load computes them, and keeps them for the others
    dispatched()
    cache.clear()
    assert load(later + timedelta(seconds=301)) == ("3", True)
    assert FigureSet.objects.get(days=90).computed_at == later + timedelta(seconds=301)
    # figures dated after the clock (set back) are not trusted, and are replaced
    assert public_services.figures_refresh(now=later, older_than=timedelta(seconds=150)) == [90]
    assert FigureSet.objects.get(days=90).computed_at == later
    # figures computed meanwhile by another (the timer) stay: a slower load does not write over them
    public_services.figures_store(days=90, now=later - timedelta(seconds=5))
    assert FigureSet.objects.get(days=90).computed_at == later
    # a clock up to a minute behind the timer's reads its figures without counting again
    cache.clear()
    assert load(later - timedelta(seconds=59)) == ("3", False)
    cache.clear()
    assert load(later - timedelta(seconds=61)) == ("3", True)  # more than a minute: counted again
    # figures kept by a release that kept other fields are computed again, never read
    FigureSet.objects.filter(days=90).update(shape=0, rows=[{"code": "LZ-CGJ", "other": 1}])
    cache.clear()
    assert selectors.stored_figures(90) is None
    assert load(later + timedelta(seconds=10)) == ("3", True)
    assert FigureSet.objects.get(days=90).shape == selectors.FIGURES_SHAPE
    # the average handling time comes back as it was computed
    now = timezone.now()
    assert selectors.stored_figures(90)[1] == public_services.figures_store(days=90, now=now)[1]
    assert selectors.stored_figures(90)[0] == now
    settings.CITYOPS_PUBLIC_FIGURES_SECONDS = 0
    call_command("public_figures_refresh", stdout=out)
    assert "counted on every load" in out.getvalue()


def test_the_figures_interval_is_declared_in_the_settings_schema():
    from config.env import EnvError, load_env

    assert load_env({}).public_figures_seconds == 300
    assert load_env({"CITYOPS_PUBLIC_FIGURES_SECONDS": "0"}).public_figures_seconds == 0
    for bad in ("-1", "soon"):
        with pytest.raises(EnvError, match="CITYOPS_PUBLIC_FIGURES_SECONDS"):
            load_env({"CITYOPS_PUBLIC_FIGURES_SECONDS": bad})


# ------------------------------------------------------------------------------------------------
# privacy


def test_no_public_page_shows_a_reporters_phone(client, loop_world):
    """Reporters' and followers' numbers never appear on a public page or endpoint (masked form only
    on the reporter's own tracking page)."""
    a = public_report(loop_world, photos=[jpeg()], description="垃圾很多")
    b = public_report(loop_world, phone=OTHER_PHONE)
    services.case_follow(number=a.number, phone="13700000003", now=timezone.now())
    run_to_closed(loop_world, b)
    urls = [
        reverse("public:report"),
        reverse("public:track"),
        reverse("public:map"),
        reverse("public:map_geojson"),
        reverse("public:figures"),
        reverse("public:nearby") + f"?type=matter:06010&lat={LZ_LAT}&lon={LZ_LON}",
        reverse("accounts:login"),
    ]
    for c in (a, b):
        urls.append(reverse("public:track_case", args=[c.number]))
    for url in urls:
        body = client.get(url).content.decode()
        for phone in (PHONE, OTHER_PHONE, "13700000003"):
            assert phone not in body, (url, phone)
            assert mask_phone(phone) not in body, (url, phone)


def test_redact_phones_in_free_text():
    assert redact_phones("请联系 13800000001 或 +86 139-0000-0002") == "请联系 138****0001 或 139****0002"
    assert redact_phones("编号 2026110000001234") == "编号 2026110000001234"
