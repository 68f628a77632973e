"""An offline captcha for the citizen form, shown only after a number of submissions from one network
address or one phone number in a window: the jurisdiction rule "feedback.captcha" of the division the
submission is for (core.jurisdiction), falling back to `FEEDBACK_CAPTCHA_AFTER` and
`FEEDBACK_CAPTCHA_WINDOW_MINUTES`. The counters are per address and per phone, whatever the division;
a counter lives for the window of the division of the submission that started it.

No outside service: a small sum drawn server-side as a PNG (Pillow, digits only, with noise), and
for screen-reader users the same kind of question written out in words. The challenge lives in the
shared cache under a random nonce; the form carries only the signed nonce, so the answer never
reaches the browser. A challenge expires (`FEEDBACK_CAPTCHA_TTL_SECONDS`) and can be answered once.

The counters and challenges use the default cache: Redis in production (MINSHENG_REDIS_URL), the
database cache otherwise, so every web process sees the same counts."""

from __future__ import annotations

import hashlib
import io
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from PIL import Image, ImageDraw, ImageFilter, ImageFont

SALT = "minsheng.feedback.captcha"
PREFIX = "fbcaptcha:"
WORDS = [gettext_lazy("零"), gettext_lazy("一"), gettext_lazy("二"), gettext_lazy("三"), gettext_lazy("四"),
         gettext_lazy("五"), gettext_lazy("六"), gettext_lazy("七"), gettext_lazy("八"), gettext_lazy("九")]


def _cache():
    return caches[getattr(settings, "FEEDBACK_CAPTCHA_CACHE", "default")]


def _ttl() -> int:
    return int(getattr(settings, "FEEDBACK_CAPTCHA_TTL_SECONDS", 600))


@dataclass(frozen=True)
class Challenge:
    token: str
    text_question: str


def _key(kind: str, value: str) -> str:
    digest = hashlib.sha256(f"{settings.SECRET_KEY}:{kind}:{value}".encode()).hexdigest()[:24]
    return f"{PREFIX}n:{kind}:{digest}"


def limits(division: Any = None) -> tuple[int, int]:
    """(threshold, window in minutes) for a submission to `division` (None: not known yet)."""
    from minsheng.core.jurisdiction import rule_for

    value = rule_for("feedback.captcha", division).value or {}
    after, window = value.get("after"), value.get("window_minutes")
    if after is None:
        after = getattr(settings, "FEEDBACK_CAPTCHA_AFTER", 3)
    if window is None:
        window = getattr(settings, "FEEDBACK_CAPTCHA_WINDOW_MINUTES", 60)
    return int(after), max(1, int(window))


def needed(*, ip: str, phone: str = "", division: Any = None, limits_: tuple[int, int] | None = None) -> bool:
    """Whether this address or phone has already submitted the threshold number of times in the window
    (the threshold of `division`'s jurisdiction; `limits_`: those limits, already looked up)."""
    after = (limits_ or limits(division))[0]
    if after <= 0:
        return True
    cache = _cache()
    keys = [_key("ip", ip)] + ([_key("phone", phone)] if phone else [])
    counts = cache.get_many(keys)
    return any(int(v) >= after for v in counts.values())


def count(*, ip: str, phone: str = "", division: Any = None, limits_: tuple[int, int] | None = None) -> None:
    """Count one submission (or code request) from this address and phone."""
    window = (limits_ or limits(division))[1] * 60
    cache = _cache()
    keys = [_key("ip", ip)] + ([_key("phone", phone)] if phone else [])
    if hasattr(cache, "add_and_incr_many"):  # Redis: one round trip for all the counters
        cache.add_and_incr_many(keys, window)
        return
    for key in keys:
        cache.add(key, 0, window)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, window)


def new() -> Challenge:
    a, b = secrets.randbelow(9) + 1, secrets.randbelow(9) + 1
    plus = secrets.randbelow(2) == 0 or a == b
    if not plus and a < b:
        a, b = b, a
    nonce = secrets.token_urlsafe(18)
    _cache().set(PREFIX + "c:" + nonce, {"a": a, "b": b, "plus": plus}, _ttl())
    return Challenge(signing.dumps(nonce, salt=SALT), text_question(a, b, plus))


def text_question(a: int, b: int, plus: bool) -> str:
    words = {"a": WORDS[a], "b": WORDS[b]}
    if plus:
        return _("%(a)s加%(b)s等于几？请用数字填写答案。") % words
    return _("%(a)s减%(b)s等于几？请用数字填写答案。") % words


def _entry(token: str) -> tuple[str, dict] | None:
    try:
        nonce = signing.loads(token or "", salt=SALT, max_age=_ttl())
    except signing.BadSignature:  # also SignatureExpired
        return None
    entry = _cache().get(PREFIX + "c:" + str(nonce))
    return (str(nonce), entry) if entry else None


def image_png(token: str) -> bytes | None:
    found = _entry(token)
    if found is None:
        return None
    e = found[1]
    return render_png(f"{e['a']} {'+' if e['plus'] else '-'} {e['b']} = ?")


def render_png(text: str) -> bytes:
    rng = secrets.SystemRandom()
    width, height = 240, 80
    img = Image.new("RGB", (width, height), (248, 248, 240))
    draw = ImageDraw.Draw(img)
    for _i in range(6):
        draw.line([(rng.randrange(width), rng.randrange(height)), (rng.randrange(width), rng.randrange(height))],
                  fill=(rng.randrange(120, 200), rng.randrange(120, 200), rng.randrange(120, 200)), width=2)
    x = 14
    for ch in text:
        font = ImageFont.load_default(size=rng.randrange(34, 42))
        glyph = Image.new("RGBA", (48, 60), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((6, 4), ch, font=font, fill=(rng.randrange(0, 60), rng.randrange(0, 60),
                                                                  rng.randrange(60, 120), 255))
        glyph = glyph.rotate(rng.uniform(-18, 18), resample=Image.Resampling.BICUBIC)
        img.paste(glyph, (x, rng.randrange(4, 18)), glyph)
        x += 14 if ch == " " else 28
    for _i in range(350):
        draw.point((rng.randrange(width), rng.randrange(height)), fill=(rng.randrange(0, 255),) * 3)
    img = img.filter(ImageFilter.SMOOTH)
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def verify(token: str, answer: str) -> bool:
    """True once for a right answer to a live challenge; the challenge is spent either way."""
    found = _entry(token)
    if found is None:
        return False
    nonce, e = found
    cache = _cache()
    # Claim the challenge: only the first answer counts, even when two arrive at once.
    if not cache.add(PREFIX + "u:" + nonce, 1, _ttl()):
        return False
    cache.delete(PREFIX + "c:" + nonce)
    expected = e["a"] + e["b"] if e["plus"] else e["a"] - e["b"]
    given = unicodedata.normalize("NFKC", answer or "").strip()
    return given == str(expected)
