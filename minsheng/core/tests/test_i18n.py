"""The English catalogue is complete and current: every string the code and templates mark for
translation is in it, translated, and no translation function hides behind a name makemessages does not
collect (zh-Hans is the source language; English is the other one the product ships)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from django.core.management import call_command

PACKAGE = Path(__file__).resolve().parents[2]
CATALOGUE = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
# What makemessages collects from Python (xgettext's defaults plus Django's keywords), under its own
# name or as `_`.
COLLECTED = {"gettext", "gettext_lazy", "gettext_noop", "ngettext", "ngettext_lazy", "pgettext", "pgettext_lazy",
             "npgettext", "npgettext_lazy"}


def _entries(text: str) -> dict[str, tuple[str, bool]]:
    """msgid → (msgstr, fuzzy) of a .po file (plural forms: the first)."""
    out = {}
    for block in text.split("\n\n"):
        m = re.search(r'^msgid ((?:".*"\n?)+)(?:msgid_plural (?:".*"\n?)+)?msgstr(?:\[0\])? ((?:".*"\n?)+)',
                      block, re.M)
        if m:
            msgid = "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1)))
            if msgid:
                out[msgid] = ("".join(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(2))), "#, fuzzy" in block)
    return out


def test_translation_functions_are_imported_under_names_makemessages_collects():
    bad = []
    for path in PACKAGE.rglob("*.py"):
        for line in re.findall(r"^from django\.utils\.translation import (.+)$", path.read_text(), re.M):
            for name, _as, alias in (part.strip().partition(" as ") for part in line.split(",")):
                if name in COLLECTED and alias not in ("", "_"):
                    bad.append(f"{path.relative_to(PACKAGE)}: {name} as {alias}")
    assert not bad, bad


def test_every_string_has_an_english_translation():
    entries = _entries(CATALOGUE.read_text(encoding="utf-8"))
    missing = [k for k, (v, fuzzy) in entries.items() if not v or fuzzy]
    assert len(entries) > 1000 and not missing, missing[:20]


def test_the_catalogue_holds_every_string_in_the_source(tmp_path):
    """makemessages run on a copy of the source: nothing it finds is missing from the shipped catalogue."""
    copy = tmp_path / "minsheng"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo", "tests"))
    here = os.getcwd()
    os.chdir(copy)
    try:
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0)
    finally:
        os.chdir(here)
    found = _entries((copy / "locale" / "en" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8"))
    shipped = _entries(CATALOGUE.read_text(encoding="utf-8"))
    new = sorted(set(found) - set(shipped))
    assert not new, f"not in the catalogue (run `make messages` and translate): {new[:20]}"
