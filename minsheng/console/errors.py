"""The one place where the console turns domain errors into what a person sees.

- `ValidationFailed` inside `form_errors(form)` becomes field errors on that form (and a summary);
- every other `MinshengError` (and a `ValidationFailed` outside a form) is caught by `@console_view`
  and rendered as a page with the error's status (403, 404, 409 …) — or, for an htmx request, as an
  alert swapped into the error slot of the element that asked (`#<target>-errors`).
  `TransitionRefused.reasons` are always shown as a list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

from minsheng.core.errors import MinshengError, TransitionRefused, ValidationFailed

TITLES = {
    400: _("提交的内容有误"),
    401: _("请先登录"),
    403: _("没有权限"),
    404: _("未找到"),
    409: _("无法执行"),
}


@contextmanager
def form_errors(form: forms.Form, catch: type[MinshengError] = ValidationFailed) -> Iterator[None]:
    """Run a service call; a `ValidationFailed` (or `catch`) it raises becomes errors on `form` instead of a
    page. Citizen pages pass `catch=MinshengError`: a wrong receipt code is a form error there, not a 404."""
    try:
        yield
    except catch as exc:
        for name, messages in exc.fields.items():
            for message in messages:
                form.add_error(name if name in form.fields else None, str(message))
        if not exc.fields:
            form.add_error(None, str(exc.message))


def _back_url(request: HttpRequest) -> str | None:
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return None


def error_response(request: HttpRequest, exc: MinshengError) -> HttpResponse:
    context: dict[str, Any] = {
        "status": exc.status,
        "title": str(TITLES.get(exc.status, _("无法执行"))),
        "message": str(exc.message),
        "reasons": [str(r) for r in exc.reasons] if isinstance(exc, TransitionRefused) else [],
        "fields": {name: [str(m) for m in msgs] for name, msgs in exc.fields.items()},
        "back_url": _back_url(request),
    }
    if getattr(request, "htmx", False):
        target = request.htmx.target
        response = render(request, "console/_error_alert.html", context, status=exc.status)
        response["HX-Retarget"] = f"#{target}-errors" if target else "#page-alerts"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "console/error.html", context, status=exc.status)


def console_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required; domain errors mapped to pages/alerts."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except MinshengError as exc:
            return error_response(request, exc)

    return login_required(wrapper)
