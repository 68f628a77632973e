"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) under /open311/v2/.

Service codes are our categories; `jurisdiction_id` is a division's statistical code. Service
definitions carry two attributes, `kind` (咨询/求助/投诉/举报/建议/表扬) and `urgency`. Clients post with
an `api_key` (`minsheng open311 create-key NAME`). The token returned is the request's receipt code.
Public request lists carry no personal data: no phone, no name, and no description for complaints and
reports (they may name people). Errors use the spec's format: a list of {code, description}.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from minsheng.core.errors import MinshengError
from minsheng.core.models import Division
from minsheng.feedback import services
from minsheng.feedback.models import (
    VERIFIED_KINDS,
    Category,
    Channel,
    CitizenRequest,
    Kind,
    RequestEvent,
    Status,
    Urgency,
)

SPEC = "http://wiki.open311.org/GeoReport_v2"
MAX_RESULTS = 1000
DEFAULT_WINDOW = dt.timedelta(days=90)


class Open311Error(Exception):
    def __init__(self, code: int, description: str):
        self.code, self.description = code, description


def _xml(root: str, item: str | None, data: Any) -> bytes:
    def build(parent: ET.Element, key: str, value: Any) -> None:
        if isinstance(value, list):
            holder = ET.SubElement(parent, key)
            singular = {"endpoints": "endpoint", "formats": "format", "attributes": "attribute",
                        "values": "value"}.get(key, key[:-1])
            for v in value:
                build(holder, singular, v)
            return
        el = ET.SubElement(parent, key)
        if isinstance(value, dict):
            for k, v in value.items():
                build(el, k, v)
        elif value is not None:
            el.text = str(value).lower() if isinstance(value, bool) else str(value)

    top = ET.Element(root)
    if item is None:
        for k, v in data.items():
            build(top, k, v)
    else:
        for entry in data:
            build(top, item, entry)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def _respond(fmt: str, data: Any, *, root: str, item: str | None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, data), content_type="text/xml; charset=utf-8", status=status)
    return HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/json; charset=utf-8",
                        status=status)


def _error(fmt: str, code: int, description: str) -> HttpResponse:
    return _respond(fmt, [{"code": code, "description": description}], root="errors", item="error", status=code)


def endpoint(view):
    def wrapper(request: HttpRequest, fmt: str, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, fmt, *args, **kwargs)
        except Open311Error as exc:
            return _error(fmt, exc.code, exc.description)
        except MinshengError as exc:
            detail = "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in exc.fields.items())
            return _error(fmt, exc.status, detail or str(exc.message))

    wrapper.__name__ = view.__name__
    return csrf_exempt(wrapper)


def _jurisdiction(request: HttpRequest, *, required: bool) -> Division | None:
    jid = (request.POST.get("jurisdiction_id") or request.GET.get("jurisdiction_id") or "").strip()
    if not jid:
        if required:
            raise Open311Error(400, _("缺少 jurisdiction_id（区划统计代码）。"))
        return None
    division = Division.objects.filter(code=jid).first()
    if division is None:
        raise Open311Error(404, _("未知的 jurisdiction_id：%(j)s") % {"j": jid})
    return division


@require_http_methods(["GET"])
@endpoint
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri("/open311/v2/")
    data = {
        "changeset": "2026-11-25T00:00:00Z",
        "contact": _("12345 政务服务便民热线"),
        "key_service": _("向平台管理员申请 api_key（minsheng open311 create-key）"),
        "endpoints": [{"specification": SPEC, "url": base, "changeset": "2026-11-25T00:00:00Z", "type": "production",
                       "formats": ["text/xml", "application/json"]}],
    }
    return _respond(fmt, data, root="discovery", item=None)


def _service(code: str) -> dict[str, Any]:
    return {"service_code": code, "service_name": str(Category(code).label), "description": str(Category(code).label),
            "metadata": True, "type": "realtime", "keywords": "", "group": ""}


@require_http_methods(["GET"])
@endpoint
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    _jurisdiction(request, required=False)
    return _respond(fmt, [_service(c) for c in Category.values], root="services", item="service")


@require_http_methods(["GET"])
@endpoint
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    if code not in Category.values:
        raise Open311Error(404, _("未知的 service_code：%(c)s") % {"c": code})
    data = {"service_code": code, "attributes": [
        {"variable": True, "code": "kind", "datatype": "singlevaluelist", "required": False, "order": 1,
         "description": _("诉求类型（默认求助）；投诉、举报须提供手机号"), "datatype_description": "",
         "values": [{"key": k, "name": str(label)} for k, label in Kind.choices]},
        {"variable": True, "code": "urgency", "datatype": "singlevaluelist", "required": False, "order": 2,
         "description": _("紧急程度"), "datatype_description": "",
         "values": [{"key": k, "name": str(label)} for k, label in Urgency.choices]},
    ]}
    return _respond(fmt, data, root="service_definition", item=None)


def _iso(value: dt.datetime | None) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def _media_url(request: HttpRequest, req: CitizenRequest) -> str:
    """The public photo (stored without EXIF/GPS), for request types whose content is public."""
    if not req.photo or req.kind in VERIFIED_KINDS or req.personal_data_erased_at is not None:
        return ""
    return request.build_absolute_uri(reverse("feedback:photo", args=[req.pk]))


def _public(req: CitizenRequest, request: HttpRequest) -> dict[str, Any]:
    return {
        "service_request_id": str(req.pk),
        "status": "closed" if req.status == Status.CLOSED else "open",
        "status_notes": str(req.get_status_display()),
        "service_name": str(req.get_category_display()),
        "service_code": req.category,
        "description": "" if req.kind in VERIFIED_KINDS else req.description,
        "agency_responsible": req.owner.name if req.owner_id else "",
        "service_notice": "",
        "requested_datetime": _iso(req.created_at),
        "updated_datetime": _iso(req.closed_at or req.replied_at or req.accepted_at or req.created_at),
        "expected_datetime": None,
        "address": req.address,
        "address_id": "",
        "zipcode": "",
        "lat": str(req.latitude) if req.latitude is not None else "",
        "long": str(req.longitude) if req.longitude is not None else "",
        "media_url": _media_url(request, req),
    }


def _date(request: HttpRequest, name: str) -> dt.datetime | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    return _date_value(raw, name)


def _date_value(raw: str, name: str) -> dt.datetime:
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, _("%(n)s 不是有效的 W3C 日期时间（例如 2026-11-01T00:00:00+08:00）。") % {"n": name})
    return value if timezone.is_aware(value) else timezone.make_aware(value)


@require_http_methods(["GET", "POST"])
@endpoint
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _create(request, fmt)
    division = _jurisdiction(request, required=False)
    qs = CitizenRequest.objects.select_related("owner").order_by("-created_at")
    if division is not None:
        qs = qs.filter(division__path__startswith=division.path)
    ids = request.GET.get("service_request_id")
    if ids:
        try:
            qs = qs.filter(pk__in=[int(i) for i in ids.split(",") if i.strip()])
        except ValueError:
            raise Open311Error(400, _("service_request_id 应为以逗号分隔的数字。")) from None
    else:
        start, end = _date(request, "start_date"), _date(request, "end_date")
        if start and end and start > end:
            raise Open311Error(400, _("start_date 不能晚于 end_date。"))
        if start is None and end is None:
            start = timezone.now() - DEFAULT_WINDOW
        if start:
            qs = qs.filter(created_at__gte=start)
        if end:
            qs = qs.filter(created_at__lte=end)
        if code := request.GET.get("service_code"):
            if code not in Category.values:
                raise Open311Error(400, _("未知的 service_code：%(c)s") % {"c": code})
            qs = qs.filter(category=code)
        if status := request.GET.get("status"):
            if status not in ("open", "closed"):
                raise Open311Error(400, _("status 只能是 open 或 closed。"))
            qs = qs.filter(status=Status.CLOSED) if status == "closed" else qs.exclude(status=Status.CLOSED)
    return _respond(fmt, [_public(r, request) for r in qs[:MAX_RESULTS]], root="service_requests", item="request")


def _create(request: HttpRequest, fmt: str) -> HttpResponse:
    p = request.POST
    if not services.open311_key_check(p.get("api_key")):
        raise Open311Error(403, _("api_key 无效。"))
    division = _jurisdiction(request, required=True)
    code = p.get("service_code", "")
    if code not in Category.values:
        raise Open311Error(404, _("未知的 service_code：%(c)s") % {"c": code})
    if not (p.get("lat") and p.get("long")) and not p.get("address_string"):
        raise Open311Error(400, _("请提供位置：lat 和 long，或 address_string。"))
    name = " ".join(x for x in (p.get("last_name", ""), p.get("first_name", "")) if x).strip()
    req = services.request_submit(actor=None, data=services.Submission(
        kind=p.get("attribute[kind]", Kind.HELP), category=code, urgency=p.get("attribute[urgency]", Urgency.NORMAL),
        description=p.get("description", ""), division=division, channel=Channel.OPEN311,
        address=p.get("address_string", ""), latitude=p.get("lat") or None, longitude=p.get("long") or None,
        name=name, phone=p.get("phone", ""), trusted=True))
    data = [{"service_request_id": str(req.pk), "token": req.receipt_code, "service_notice": "", "account_id": ""}]
    return _respond(fmt, data, root="service_requests", item="request", status=201)


@require_http_methods(["GET"])
@endpoint
def request_detail(request: HttpRequest, fmt: str, pk: int) -> HttpResponse:
    req = CitizenRequest.objects.select_related("owner").filter(pk=pk).first()
    if req is None:
        raise Open311Error(404, _("未找到该请求。"))
    return _respond(fmt, [_public(req, request)], root="service_requests", item="request")


@require_http_methods(["GET"])
@endpoint
def token(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    req = CitizenRequest.objects.filter(receipt_code=token.upper()).first()
    if req is None:
        raise Open311Error(404, _("未找到该 token。"))
    return _respond(fmt, [{"service_request_id": str(req.pk), "token": req.receipt_code}],
                    root="service_requests", item="request")


# ---------------------------------------------------------------------------------------------
# mySociety's update extension (https://github.com/mysociety/fixmystreet/wiki/Open311-FMS---Proposed-
# differences-to-Open311): the public steps of each request as updates, and updates posted by a
# client with an api_key (a note from the citizen on the request's timeline).

UPDATE_STATUS = {
    "received": "OPEN", "accepted": "ACTION_SCHEDULED", "waiting": "INVESTIGATING", "return_visit": "FIXED",
    "closed": "CLOSED", "merged": "DUPLICATE", "citizen_update": "OPEN",
}


def _update(event: RequestEvent, request: HttpRequest) -> dict[str, Any]:
    req = event.request
    private = req.kind in VERIFIED_KINDS or req.personal_data_erased_at is not None
    status = UPDATE_STATUS.get(event.action, "IN_PROGRESS")
    if event.action == "closed" and req.resolved:
        status = "FIXED"
    return {
        "update_id": str(event.pk),
        "service_request_id": str(req.pk),
        "status": status,
        "updated_datetime": _iso(event.at),
        "description": "" if private and event.action in ("replied", "citizen_update", "reopened", "waiting")
        else event.text,
        "media_url": "",
    }


@require_http_methods(["GET", "POST"])
@endpoint
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_update(request, fmt)
    division = _jurisdiction(request, required=False)
    start, end = _date(request, "start_date"), _date(request, "end_date")
    if start and end and start > end:
        raise Open311Error(400, _("start_date 不能晚于 end_date。"))
    if start is None and end is None:
        start = timezone.now() - DEFAULT_WINDOW
    qs = RequestEvent.objects.filter(public=True).select_related("request").order_by("at", "id")
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lte=end)
    if division is not None:
        qs = qs.filter(request__division__path__startswith=division.path)
    return _respond(fmt, [_update(e, request) for e in qs[:MAX_RESULTS]], root="service_request_updates",
                    item="request_update")


def _post_update(request: HttpRequest, fmt: str) -> HttpResponse:
    p = request.POST
    if not services.open311_key_check(p.get("api_key")):
        raise Open311Error(403, _("api_key 无效。"))
    rid = (p.get("service_request_id") or "").strip()
    if not rid.isdigit():
        raise Open311Error(400, _("缺少 service_request_id。"))
    req = CitizenRequest.objects.filter(pk=int(rid)).first()
    if req is None:
        raise Open311Error(404, _("未找到该请求。"))
    if p.get("updated_datetime"):
        _date_value(p.get("updated_datetime"), "updated_datetime")
    event = services.request_add_update(request=req, text=p.get("description", ""), source="open311")
    return _respond(fmt, [{"update_id": str(event.pk)}], root="service_request_updates", item="request_update")
