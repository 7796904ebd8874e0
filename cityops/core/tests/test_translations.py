"""Chinese first, English complete: the zh-hans catalogue covers every string and is compiled."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[3]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _live(po):
    return [e for e in po if not e.obsolete]


def test_catalogue_is_complete_and_not_fuzzy():
    po = polib.pofile(str(PO))
    missing = [e.msgid for e in _live(po) if not e.translated()]
    fuzzy = [e.msgid for e in _live(po) if "fuzzy" in e.flags]
    assert not missing, f"untranslated: {missing[:20]}"
    assert not fuzzy, f"fuzzy: {fuzzy[:20]}"


def test_compiled_catalogue_matches_the_po_file():
    po = polib.pofile(str(PO))
    mo = polib.mofile(str(PO.with_suffix(".mo")))

    def key(e):
        return (e.msgctxt, e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items())))

    assert {key(e) for e in _live(po)} == {key(e) for e in mo}, "run: manage.py compilemessages"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """Extract the strings from a copy of the code and compare with the committed catalogue."""
    if not shutil.which("xgettext"):
        if os.environ.get("CI"):
            pytest.fail("xgettext missing: CI installs gettext")
        pytest.skip("xgettext not installed (apt-get install gettext)")
    for part in ("cityops", "config", "locale"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__", "*.mo"))
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "-v", "0"],
        cwd=tmp_path,
        check=True,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
    )
    extracted = {(e.msgctxt, e.msgid) for e in _live(polib.pofile(str(tmp_path / PO.relative_to(ROOT))))}
    committed = {(e.msgctxt, e.msgid) for e in _live(polib.pofile(str(PO)))}
    missing = sorted(m for _, m in extracted - committed)
    assert not missing, f"strings missing from the catalogue (run makemessages): {missing[:20]}"
    # and the other way: a string the code no longer shows to be found (as a template's text would be
    # if its engine's syntax hid it from the extraction) is a translation nobody sees
    unused = sorted(m for _, m in committed - extracted)
    assert not unused, f"strings in the catalogue the code does not use (run makemessages): {unused[:20]}"
