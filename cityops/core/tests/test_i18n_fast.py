"""``{% load i18n %}`` gives Django's tags, with plain-text ``{% translate %}`` translated directly:
every form must render exactly as Django's own library renders it."""

from __future__ import annotations

import pytest
from django.template import Context, Engine
from django.template.loader import get_template
from django.utils import translation

from cityops.core.templatetags import i18n_fast

SOURCES = [
    '{% trans "Log out" %}',
    '{% translate "Times are shown in Beijing time (Asia/Shanghai)." %}',
    '{% trans "50% & <b>more</b>" %}',
    '{% trans "Log out" as label %}[{{ label }}]',
    '{% trans "May" context "month name" %}',
    '{% trans "Log out" noop %}',
    "{% trans word %}",
    '{% trans "Log out"|upper %}',
    '{% autoescape off %}{% trans "a < b" %}{% endautoescape %}',
    "{% blocktrans with n=3 %}{{ n }} h left{% endblocktrans %}",
    "{% get_current_language as L %}{{ L }}",
]


def engine(library: str) -> Engine:
    return Engine(libraries={"i18n": library})


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize("source", SOURCES)
def test_renders_as_djangos_library(source, language):
    context = {"word": "Log out"}
    with translation.override(language):
        ours = engine("cityops.core.templatetags.i18n_fast").from_string("{% load i18n %}" + source)
        theirs = engine("django.templatetags.i18n").from_string("{% load i18n %}" + source)
        assert ours.render(Context(context)) == theirs.render(Context(context))


def test_plain_text_takes_the_direct_path_and_the_project_loads_it():
    with translation.override("zh-hans"):
        node = (
            engine("cityops.core.templatetags.i18n_fast")
            .from_string('{% load i18n %}{% trans "Log out" %}')
            .nodelist[-1]
        )
        assert isinstance(node, i18n_fast.TranslateNode) and node.msgid == "Log out"
        assert node.render(Context()) == "退出"
    base = get_template("base.html").template  # {% load i18n %} in the project's templates
    assert base.nodelist.get_nodes_by_type(i18n_fast.TranslateNode)
