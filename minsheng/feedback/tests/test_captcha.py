"""The offline captcha: signed, single-use, expiring; an image and a text alternative; shown only after
the threshold per address or phone; counters shared through the cache (a real Redis test below)."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core import signing
from django.core.cache import cache, caches
from django.test import Client, RequestFactory
from PIL import Image

from minsheng.feedback import captcha
from minsheng.feedback.models import Intake


@pytest.fixture(autouse=True)
def _threshold(settings, db):
    cache.clear()
    settings.FEEDBACK_CAPTCHA_AFTER = 2


def _answer(token: str) -> str:
    nonce = signing.loads(token, salt=captcha.SALT)
    e = cache.get(captcha.PREFIX + "c:" + nonce)
    return str(e["a"] + e["b"] if e["plus"] else e["a"] - e["b"])


def test_a_challenge_is_answered_once():
    c = captcha.new()
    right = _answer(c.token)
    assert captcha.verify(c.token, right)
    assert not captcha.verify(c.token, right)  # single use


def test_a_wrong_answer_spends_the_challenge_and_full_width_digits_count():
    c = captcha.new()
    right = _answer(c.token)
    assert not captcha.verify(c.token, str(int(right) + 1))
    assert not captcha.verify(c.token, right)
    c2 = captcha.new()
    full_width = "".join(chr(ord(d) + 0xFEE0) for d in _answer(c2.token))
    assert captcha.verify(c2.token, full_width)


def test_tampered_and_expired_tokens_fail(settings):
    c = captcha.new()
    assert not captcha.verify(c.token + "x", _answer(c.token))
    assert not captcha.verify(signing.dumps("made-up", salt=captcha.SALT), "3")
    settings.FEEDBACK_CAPTCHA_TTL_SECONDS = -1  # everything issued is already too old
    assert not captcha.verify(c.token, "0") and captcha.image_png(c.token) is None


def test_the_image_is_a_png_and_the_answer_is_not_in_the_page():
    c = captcha.new()
    png = Client().get(f"/feedback/captcha/{c.token}.png")
    assert png.status_code == 200 and png["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(png.content)).size == (240, 80)
    assert Client().get("/feedback/captcha/nonsense.png").status_code == 404
    # The form carries only the signed random nonce; the sum and its answer stay in the cache.
    payload = signing.loads(c.token, salt=captcha.SALT)
    assert isinstance(payload, str) and len(payload) == 24


def test_text_question_in_words():
    assert captcha.text_question(3, 5, True) == "三加五等于几？请用数字填写答案。"
    assert captcha.text_question(9, 2, False) == "九减二等于几？请用数字填写答案。"


def _form(org, **kw):
    return {"kind": "suggestion", "category": "housing", "division": org.town_a.pk,
            "description": "建议在小区门口增设无障碍坡道", "urgency": "normal", "action": "submit"} | kw


def _token(html: str) -> str:
    return html.split('name="captcha_token" value="')[1].split('"')[0]


def test_the_form_asks_after_the_threshold_and_refuses_without_an_answer(org):
    c = Client()
    assert "captcha_token" not in c.get("/feedback/").content.decode()
    for _i in range(2):
        assert c.post("/feedback/", _form(org)).status_code == 303
    page = c.get("/feedback/").content.decode()
    assert "captcha_token" in page and "/feedback/captcha/" in page
    refused = c.post("/feedback/", _form(org))
    assert refused.status_code == 400 and "验证码答案不正确" in refused.content.decode()
    wrong = c.post("/feedback/", _form(org, captcha_token=_token(page), captcha_answer="99"))
    assert wrong.status_code == 400 and Intake.objects.count() == 2
    fresh = _token(wrong.content.decode())
    right = _answer(fresh)
    ok = c.post("/feedback/", _form(org, captcha_token=fresh, captcha_answer=right))
    assert ok.status_code == 303 and Intake.objects.count() == 3
    # The same answer again is refused: single use.
    again = c.post("/feedback/", _form(org, captcha_token=fresh, captcha_answer=right))
    assert again.status_code == 400 and Intake.objects.count() == 3


def test_the_text_alternative_keeps_the_form_and_works(org):
    c = Client()
    for _i in range(2):
        c.post("/feedback/", _form(org))
    switched = c.post("/feedback/", _form(org, action="captcha_text", description="路灯不亮已经一周了"))
    html = switched.content.decode()
    assert switched.status_code == 200 and "等于几？请用数字填写答案" in html and "路灯不亮已经一周了" in html
    assert 'name="captcha_mode" value="text"' in html and "/feedback/captcha/" not in html
    token = _token(html)
    ok = c.post("/feedback/", _form(org, captcha_mode="text", captcha_token=token, captcha_answer=_answer(token)))
    assert ok.status_code == 303 and Intake.objects.count() == 3


def test_the_threshold_counts_per_phone_across_addresses(org):
    for i in range(2):
        Client(REMOTE_ADDR=f"10.9.0.{i}").post("/feedback/", _form(org, phone="13900001111"))
    other = Client(REMOTE_ADDR="10.9.0.99")
    assert "captcha_token" not in other.get("/feedback/").content.decode()
    refused = other.post("/feedback/", _form(org, phone="13900001111"))
    assert refused.status_code == 400 and Intake.objects.count() == 2
    assert other.post("/feedback/", _form(org, phone="13900002222")).status_code == 303


REDIS_DB = 14  # this test's own database number on the local Redis


def test_limits_are_shared_across_cache_clients_on_real_redis(settings):
    """Two cache clients (as two web processes would have) on the same Redis see the same counters:
    django-ratelimit's and the captcha's."""
    import redis
    from django_ratelimit.core import is_ratelimited

    prefix = f"h4b-test-{uuid.uuid4().hex[:8]}"
    location = f"redis://127.0.0.1:6379/{REDIS_DB}"
    backend = "minsheng.core.cache.SharedClientRedisCache"  # what settings.py uses with MINSHENG_REDIS_URL
    settings.CACHES = settings.CACHES | {
        "process_a": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix},
        "process_b": {"BACKEND": backend, "LOCATION": location, "KEY_PREFIX": prefix},
    }
    client = redis.Redis.from_url(location)
    try:
        assert caches["process_a"] is not caches["process_b"]
        request = RequestFactory().post("/feedback/", REMOTE_ADDR="10.20.30.40")
        settings.RATELIMIT_USE_CACHE = "process_a"
        for _i in range(2):
            assert not is_ratelimited(request, group="h4b", key="ip", rate="2/h", increment=True)
        settings.RATELIMIT_USE_CACHE = "process_b"
        assert is_ratelimited(request, group="h4b", key="ip", rate="2/h", increment=True)
        # The captcha threshold and a challenge issued by one process and answered on another.
        settings.FEEDBACK_CAPTCHA_CACHE = "process_a"
        captcha.count(ip="10.20.30.40")
        captcha.count(ip="10.20.30.40")
        issued = captcha.new()
        nonce = signing.loads(issued.token, salt=captcha.SALT)
        e = caches["process_a"].get(captcha.PREFIX + "c:" + nonce)
        settings.FEEDBACK_CAPTCHA_CACHE = "process_b"
        assert captcha.needed(ip="10.20.30.40") and not captcha.needed(ip="10.20.30.41")
        assert captcha.verify(issued.token, str(e["a"] + e["b"] if e["plus"] else e["a"] - e["b"]))
        settings.FEEDBACK_CAPTCHA_CACHE = "process_a"
        assert not captcha.verify(issued.token, "0")  # spent, as seen from the other process
        assert client.keys(f"{prefix}:*")  # the counters really are in Redis
    finally:
        keys = client.keys(f"{prefix}:*")
        if keys:
            client.delete(*keys)
        client.close()


def _rule(division, **value):
    import datetime as dt

    from minsheng.core.models import JurisdictionSetting

    JurisdictionSetting.objects.create(key="feedback.captcha", division=division, value=value,
                                       valid_from=dt.date(2020, 1, 1), source="测试")


def test_each_jurisdiction_sets_its_own_threshold(org):
    """County a asks after one submission, county b after four; a township inherits its county's rule."""
    _rule(org.county_a, after=1, window_minutes=30)
    _rule(org.county_b, after=4, window_minutes=30)
    assert captcha.limits(org.town_a) == (1, 30) and captcha.limits(org.town_b) == (4, 30)
    to_a, to_b = Client(REMOTE_ADDR="10.7.0.1"), Client(REMOTE_ADDR="10.7.0.2")
    assert to_a.post("/feedback/", _form(org)).status_code == 303
    refused = to_a.post("/feedback/", _form(org))
    assert refused.status_code == 400 and "captcha_token" in refused.content.decode()
    for _i in range(4):
        assert to_b.post("/feedback/", _form(org, division=org.town_b.pk)).status_code == 303
    assert to_b.post("/feedback/", _form(org, division=org.town_b.pk)).status_code == 400
    assert Intake.objects.filter(division=org.town_a).count() == 1
    assert Intake.objects.filter(division=org.town_b).count() == 4


def test_without_a_rule_the_settings_threshold_applies(org, settings):
    assert captcha.limits(org.town_a) == (2, settings.FEEDBACK_CAPTCHA_WINDOW_MINUTES)
    settings.FEEDBACK_CAPTCHA_AFTER, settings.FEEDBACK_CAPTCHA_WINDOW_MINUTES = 7, 15
    assert captcha.limits(org.town_a) == (7, 15) and captcha.limits(None) == (7, 15)
    _rule(org.county_a, after=None, window_minutes=5)  # a rule may set only the window
    assert captcha.limits(org.town_a) == (7, 5)


def test_the_window_of_the_division_bounds_the_count(org, monkeypatch):
    _rule(org.county_a, after=1, window_minutes=5)
    _rule(org.county_b, after=1, window_minutes=90)
    timeouts = []
    real = captcha._cache()

    class Spy:
        def add(self, key, value, timeout):
            timeouts.append(timeout)
            return real.add(key, value, timeout)

        def __getattr__(self, name):
            return getattr(real, name)

    monkeypatch.setattr(captcha, "_cache", Spy)
    captcha.count(ip="10.7.1.1", division=org.town_a)
    captcha.count(ip="10.7.1.2", phone="13900003333", division=org.town_b)
    assert timeouts == [300, 5400, 5400]
    assert captcha.needed(ip="10.7.1.1", division=org.town_a)
    assert not captcha.needed(ip="10.7.1.3", division=org.town_a)
