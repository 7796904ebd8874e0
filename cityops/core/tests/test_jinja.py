"""The Jinja2 engine of the busiest pages: the same page frame, filters and CSRF field as Django's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.middleware.csrf import _unmask_cipher_token
from django.template import engines
from django.test import RequestFactory, override_settings
from django.utils import translation

BLOCKS = ("title", "head", "nav", "content", "footer", "scripts")
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def _request(user):
    request = RequestFactory().get("/cases/?queue=all&q=%3Cb%3E")
    request.user = user
    request.session = {}
    request._messages = FallbackStorage(request)
    return request


def _both(django_source: str, jinja_source: str, request) -> tuple[str, str]:
    old = engines["django"].from_string(django_source).render({}, request)
    new = engines["jinja2"].from_string(jinja_source).render({}, request)
    return CSRF.sub("CSRF", old), CSRF.sub("CSRF", new)


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("who", ["staff", "anonymous"])
@pytest.mark.parametrize("demo", [True, False])
def test_the_page_frame_is_the_same_in_both_engines(language, who, demo, django_user_model):
    """Two copies of base.html (one per engine): they must write the same frame around a page."""
    user = (
        django_user_model.objects.create_user(username="z3", is_staff=True, name="张<三>")
        if who == "staff"
        else AnonymousUser()
    )
    request = _request(user)
    request._messages.add(20, "已保存 <ok>")
    with translation.override(language), override_settings(CITYOPS_DEMO=demo):
        old, new = _both(
            '{% extends "base.html" %}{% block content %}<p>x</p>{% endblock %}',
            '{% extends "base.html" %}{% block content %}<p>x</p>{% endblock %}',
            request,
        )
    assert old == new
    assert "<p>x</p>" in new and "已保存 &lt;ok&gt;" in new
    assert (("张&lt;三&gt;" in new) == (who == "staff")) and 'value="/cases/?queue=all&amp;q=%3Cb%3E"' in new
    assert ('class="banner demo"' in new) == demo


@pytest.mark.django_db
def test_the_page_frame_blocks_are_the_same_in_both_engines():
    request = _request(AnonymousUser())
    with translation.override("en"):
        old, new = _both(
            '{% extends "base.html" %}'
            + "".join(f"{{% block {b} %}}[{b}]{{% endblock %}}" for b in BLOCKS)
            + "{% block body_class %}wide{% endblock %}",
            '{% extends "base.html" %}'
            + "".join(f"{{% block {b} %}}[{b}]{{% endblock %}}" for b in BLOCKS)
            + "{% block body_class %}wide{% endblock %}",
            request,
        )
    assert old == new
    assert all(f"[{b}]" in new for b in BLOCKS) and '<body class="wide">' in new


@pytest.mark.django_db
def test_the_csrf_field_is_made_once_per_page_and_holds_the_token():
    """Django's Jinja2 backend masks the token anew for each ``{{ csrf_input }}``; here once a page."""
    request = _request(AnonymousUser())
    out = (
        engines["jinja2"]
        .from_string("{{ csrf_input }}|{{ csrf_input }}|{{ csrf_token }}")
        .render({}, request)
    )
    first, second, token = out.split("|")
    assert first == second and 'name="csrfmiddlewaretoken"' in first
    field_token = first.split('value="')[1].split('"')[0]
    # both the field's and the bare token hold the request's secret
    assert _unmask_cipher_token(field_token) == _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


def test_date_shows_beijing_time_and_other_filters_match_django():
    t = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # 07:30 the next morning in Beijing
    values = {"t": t, "x": 3.14159, "n": None, "text": "a\n<b>"}
    django_source = (
        '{{ t|date:"Y-m-d H:i" }} {{ x|floatformat:2 }} {{ n|floatformat:"-2" }} {{ n|date:"Y" }} '
        "{{ x|stringformat:'f' }} {{ text|linebreaksbr }}"
    )
    jinja_source = (
        '{{ t|date("Y-m-d H:i") }} {{ x|floatformat(2) }} {{ n|floatformat("-2") }} {{ n|date("Y") }} '
        "{{ x|stringformat('f') }} {{ text|linebreaksbr }}"
    )
    with translation.override("zh-hans"):
        old = engines["django"].from_string(django_source).render(values)
        new = engines["jinja2"].from_string(jinja_source).render(values)
    assert old == new == "2026-11-29 07:30 3.14   3.141590 a<br>&lt;b&gt;"


def test_each_language_keeps_its_own_texts():
    """``_`` reads a dictionary per language (``core.templates.translator``): pages in both languages,
    one after the other, each get their own translation, as Django's ``gettext`` gives it."""
    page = engines["jinja2"].from_string('{{ _("Case") }}|{{ _("Timeline") }}')
    seen = {}
    for language in ("zh-hans", "en", "zh-hans", "en"):
        with translation.override(language):
            expected = f"{translation.gettext('Case')}|{translation.gettext('Timeline')}"
            seen.setdefault(language, page.render({}))
            assert page.render({}) == seen[language] == expected
    assert seen["zh-hans"] == "案件|处理过程" and seen["en"] == "Case|Timeline"
