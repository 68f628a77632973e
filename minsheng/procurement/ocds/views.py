"""Public OCDS 1.1 endpoints under /ocds/v1/: no login; errors as JSON."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from minsheng.procurement.ocds import packages, selectors

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def _json(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


def _error(status: int, code: str, message: str) -> JsonResponse:
    return _json({"code": code, "message": message, "fields": {}}, status=status)


def _parse_since(raw: str | None) -> dt.datetime | None:
    if not raw:
        return None
    value = parse_datetime(raw.replace(" ", "+"))  # a bare "+" in a query string arrives as a space
    if value is None or value.tzinfo is None:
        raise ValueError(raw)
    return value


@require_GET
def releases(request: HttpRequest) -> JsonResponse:
    try:
        since = _parse_since(request.GET.get("since"))
    except ValueError:
        return _error(400, "invalid", _("参数 since 须为带时区的 ISO 8601 时间，例如 2026-01-01T00:00:00+08:00。"))
    try:
        limit = int(request.GET.get("limit", DEFAULT_LIMIT))
        offset = int(request.GET.get("offset", 0))
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            raise ValueError
    except ValueError:
        message = _("参数 limit 须为 1 到 %(max)s 的整数，offset 须为非负整数。") % {"max": MAX_LIMIT}
        return _error(400, "invalid", message)
    if offset and since is None:
        return _error(400, "invalid", _("参数 offset 只能与 since 一起使用。"))
    page = selectors.releases_page(since=since, offset=offset, limit=limit + 1)
    more = len(page) > limit
    page = page[:limit]
    data = packages.release_package(page, uri=request.build_absolute_uri())
    if more:
        cursor_date, cursor_offset = selectors.next_cursor(page[-1])
        query = {"since": cursor_date.isoformat(), "limit": limit, "offset": cursor_offset}
        data["links"] = {"next": request.build_absolute_uri(reverse("ocds:releases") + "?" + urlencode(query))}
    return _json(data)


@require_GET
def process_releases(request: HttpRequest, ocid: str) -> JsonResponse:
    rows = selectors.releases_for(ocid)
    if not rows:
        return _error(404, "not_found", _("未找到该开放合同标识（ocid）。"))
    return _json(packages.release_package(rows, uri=request.build_absolute_uri()))


@require_GET
def record(request: HttpRequest, ocid: str) -> JsonResponse:
    rows = selectors.releases_for(ocid)
    if not rows:
        return _error(404, "not_found", _("未找到该开放合同标识（ocid）。"))
    release_uri = request.build_absolute_uri(reverse("ocds:process-releases", args=[ocid]))
    return _json(packages.record_package(rows, uri=request.build_absolute_uri(), release_uri=release_uri))
