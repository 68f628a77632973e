"""The client's address behind a trusted reverse proxy.

Per-IP rate limits (django-ratelimit), the citizen captcha's threshold and login lock-outs (axes) read
`REMOTE_ADDR`. Behind a reverse proxy that is the proxy's address, so every citizen would share one
limit. With `TRUST_X_FORWARDED_FOR` on, this middleware puts the address the proxy appended to
`X-Forwarded-For` (the last one: earlier ones are whatever the client claimed) into `REMOTE_ADDR`.
Turn it on only when every request reaches Django through such a proxy; otherwise a client could name
its own address and escape the limits."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.http import HttpRequest, HttpResponse


def forwarded_client(header: str) -> str:
    """The last address in an X-Forwarded-For header, or ''."""
    return header.rsplit(",", 1)[-1].strip() if header else ""


class TrustedProxyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not getattr(settings, "TRUST_X_FORWARDED_FOR", False):
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        client = forwarded_client(request.META.get("HTTP_X_FORWARDED_FOR", ""))
        if client:
            request.META["REMOTE_ADDR"] = client
        return self.get_response(request)
