"""The evaluation and dashboard apps keep their zh-hans strings in their own catalogues."""

from pathlib import Path

import polib
import pytest

APPS = Path(__file__).resolve().parents[2]
CATALOGUES = [
    APPS / app / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po" for app in ("evaluation", "dashboards")
]


@pytest.mark.parametrize("po_path", CATALOGUES, ids=lambda p: p.parts[-5])
def test_catalogue_is_complete_and_compiled(po_path):
    po = polib.pofile(str(po_path))
    live = [e for e in po if not e.obsolete]
    assert not [e.msgid for e in live if not e.translated() or "fuzzy" in e.flags]
    mo = polib.mofile(str(po_path.with_suffix(".mo")))

    def key(e):
        return (e.msgctxt, e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items())))

    assert {key(e) for e in live} == {key(e) for e in mo}


def test_indicator_names_are_translated(settings):
    from django.utils import translation

    from cityops.evaluation.formulas import INDICATOR_BY_KEY

    with translation.override("zh-hans"):
        assert str(INDICATOR_BY_KEY["handle_ontime_rate"].name) == "按期处置率"
