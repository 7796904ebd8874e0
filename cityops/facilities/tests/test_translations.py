"""The app's own zh-hans catalogue (cityops/facilities/locale) is complete, not fuzzy, and compiled."""

from pathlib import Path

import polib
import pytest

PO = Path(__file__).resolve().parents[1] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def test_catalogue_complete_and_compiled():
    po = polib.pofile(str(PO))
    live = [e for e in po if not e.obsolete]
    assert not [e.msgid for e in live if not e.translated()]
    assert not [e.msgid for e in live if "fuzzy" in e.flags]
    mo = polib.mofile(str(PO.with_suffix(".mo")))
    assert {(e.msgctxt, e.msgid, e.msgstr) for e in live if not e.msgid_plural} <= {
        (e.msgctxt, e.msgid, e.msgstr) for e in mo
    }


@pytest.mark.django_db
def test_pages_speak_chinese(client, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    html = client.get("/toilets/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "找公厕" in html
