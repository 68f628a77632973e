"""Every visible word of the procurement templates is translatable: no Chinese text or
Chinese punctuation outside {% translate %} / {% blocktranslate %}."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "procurement" / "templates").rglob("*.html"))
TRANSLATED = re.compile(
    r"{%\s*blocktranslate.*?%}.*?{%\s*endblocktranslate\s*%}"  # a translated block
    r"|{%\s*translate\s.*?%}"  # a translated string
    r"|{#.*?#}"  # a template comment
    r"""|_\(".*?"\)""",  # a translated filter argument: default:_("...")
    re.S)
CHINESE = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff01-\uff1f\uff08\uff09\uff1a\uff1b]")


def test_the_templates_are_found():
    assert len(TEMPLATES) >= 10


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_chinese_outside_translate(path):
    rest = TRANSLATED.sub("", path.read_text())
    found = [line.strip() for line in rest.splitlines() if CHINESE.search(line)]
    assert not found, found
