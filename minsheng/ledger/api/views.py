"""The `/ledger/v1/` HTTP contract (public, read-only except witnesses' cosignatures).
Hashes are base64; malformed or out-of-range parameters answer 400 with a JSON error body."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from minsheng.core.errors import MinshengError, ValidationFailed
from minsheng.ledger import selectors, services


def _json_errors(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except MinshengError as exc:
            return JsonResponse({"error": exc.as_dict()}, status=exc.status)

    return wrapper


@require_GET
@_json_errors
def checkpoint(request: HttpRequest) -> HttpResponse:
    cp = selectors.checkpoint_latest()
    return HttpResponse(cp.note, content_type="text/plain; charset=utf-8")


@require_GET
@_json_errors
def entry(request: HttpRequest, index: str) -> HttpResponse:
    return JsonResponse(selectors.entry_json(selectors.entry(index)))


@require_GET
@_json_errors
def inclusion(request: HttpRequest) -> HttpResponse:
    return JsonResponse(selectors.inclusion(request.GET.get("index"), request.GET.get("tree_size")))


@require_GET
@_json_errors
def consistency(request: HttpRequest) -> HttpResponse:
    return JsonResponse(selectors.consistency(request.GET.get("first"), request.GET.get("second")))


@require_GET
@_json_errors
def public_keys(request: HttpRequest) -> HttpResponse:
    return JsonResponse(selectors.public_keys())


@require_GET
@_json_errors
def receipt(request: HttpRequest, index: str) -> HttpResponse:
    body = selectors.receipt(index)
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False, "indent": 2})
    response["Content-Disposition"] = f'attachment; filename="evidence-receipt-{body["index"]}.json"'
    return response


@csrf_exempt  # authenticated by the witness's signature, not a session
@require_POST
@_json_errors
def witness(request: HttpRequest) -> HttpResponse:
    """A registered witness posts {"size": N, "cosignature": "— name base64"}."""
    try:
        payload = json.loads(request.body.decode("utf-8"))
        size, line = payload["size"], payload["cosignature"]
        if not isinstance(line, str):
            raise TypeError
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        raise ValidationFailed(_('请求体须为 JSON：{"size": 整数, "cosignature": 字符串}。')) from None
    cosig = services.cosignature_add(size=size, line=line)
    return JsonResponse(
        {"size": cosig.checkpoint.size, "witness": cosig.witness.name, "timestamp": cosig.timestamp},
        status=201,
    )
