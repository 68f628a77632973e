"""Per-IP limits behind a reverse proxy: X-Forwarded-For is believed only when TRUST_X_FORWARDED_FOR says so."""

from __future__ import annotations

from django.core.cache import cache
from django.test import Client

from minsheng.core.proxy import forwarded_client


def _post(client: Client, ip: str):
    return client.post("/feedback/", {"kind": "suggestion"}, HTTP_X_FORWARDED_FOR=f"203.0.113.9, {ip}")


def _limit() -> int:
    from minsheng.feedback import views

    return int(views.SUBMIT_RATE.split("/")[0])


def test_forwarded_client_is_the_address_the_proxy_appended():
    assert forwarded_client("1.2.3.4, 10.0.0.7") == "10.0.0.7"
    assert forwarded_client("10.0.0.7") == "10.0.0.7" and forwarded_client("") == ""


def test_without_the_setting_every_forwarded_address_shares_the_proxy_limit(db, settings):
    cache.clear()
    settings.TRUST_X_FORWARDED_FOR = False
    client = Client()
    codes = [_post(client, f"10.0.{i // 250}.{i % 250 + 1}").status_code for i in range(_limit() + 1)]
    assert codes[-1] == 429 and 429 not in codes[:-1]


def test_with_the_setting_each_client_address_has_its_own_limit(db, settings):
    cache.clear()
    settings.TRUST_X_FORWARDED_FOR = True
    client = Client()
    codes = [_post(client, f"10.0.{i // 250}.{i % 250 + 1}").status_code for i in range(_limit() + 1)]
    assert 429 not in codes


def test_the_middleware_uses_the_forwarded_address_only_when_trusted(settings, rf):
    import pytest
    from django.core.exceptions import MiddlewareNotUsed
    from django.http import HttpResponse

    from minsheng.core.proxy import TrustedProxyMiddleware

    seen = []

    def view(request):
        seen.append(request.META["REMOTE_ADDR"])
        return HttpResponse()

    settings.TRUST_X_FORWARDED_FOR = False
    with pytest.raises(MiddlewareNotUsed):
        TrustedProxyMiddleware(view)
    settings.TRUST_X_FORWARDED_FOR = True
    middleware = TrustedProxyMiddleware(view)
    middleware(rf.get("/", HTTP_X_FORWARDED_FOR="6.6.6.6, 10.9.9.9"))
    middleware(rf.get("/"))
    assert seen == ["10.9.9.9", "127.0.0.1"]
