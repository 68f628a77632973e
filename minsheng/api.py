"""The JSON API root: authentication, one error shape, and the routers of each app.

Errors always look like {"error": {"code", "message", "fields": {name: [messages]}, "reasons"?}}
with 400 (bad input), 401, 403, 404, 409 (refused transition or conflicting state).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from minsheng.accounts.models import ApiToken
from minsheng.core.errors import MinshengError


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        user = ApiToken.authenticate(token)
        if user is not None:
            request.user = user
        return user


class TokenHeader(APIKeyHeader):
    param_name = "X-API-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = ApiToken.authenticate(key) if key else None
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Minsheng API",
    version="1",
    description="民生工程全周期管理平台 JSON API. Session auth for the browser, bearer tokens for integrations.",
    # Tokens first: session auth enforces CSRF and its refusal ends the chain, so with the session
    # first an integration's POST with a valid token was refused 403 "CSRF check Failed". A browser
    # cannot be made to send a token header cross-site, so trying tokens first is safe.
    auth=[BearerToken(), TokenHeader(), django_auth],
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def _error(request: HttpRequest, status: int, body: dict[str, Any]) -> HttpResponse:
    return api.create_response(request, {"error": body}, status=status)


@api.exception_handler(MinshengError)
def _domain_error(request: HttpRequest, exc: MinshengError) -> HttpResponse:
    return _error(request, exc.status, exc.as_dict())


_SOURCES = {"body", "query", "path", "form", "file", "header", "cookie"}


def _field_name(loc: Any) -> str:
    """('body', 'payload', 'path') → 'path'; ('file', 'file') → 'file'; ('query', 'division') → 'division'.
    Only the leading source (and, for a JSON body, the schema parameter) is dropped: a field may well
    be called `path` or `file` itself."""
    parts = [str(p) for p in loc or ()]
    if parts and parts[0] in _SOURCES:
        source, parts = parts[0], parts[1:]
        if source == "body":
            parts = parts[1:]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _schema_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields: dict[str, list[str]] = {}
    for err in exc.errors:
        fields.setdefault(_field_name(err.get("loc")), []).append(str(err.get("msg", "")))
    return _error(request, 400, {"code": "invalid", "message": _("提交的数据有误，请检查标出的字段。"),
                                 "fields": fields})


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, 401, {"code": "not_authenticated", "message": _("请先登录或提供有效的接口令牌。"),
                                 "fields": {}})


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, exc.status_code, {"code": "http_error", "message": str(exc), "fields": {}})


api.add_router("/", "minsheng.accounts.api.router")
api.add_router("/", "minsheng.projects.api.router")
api.add_router("/", "minsheng.construction.api.router")
api.add_router("/", "minsheng.telemetry.api.router")
api.add_router("/", "minsheng.feedback.api.router")
api.add_router("/", "minsheng.procurement.api.router")
api.add_router("/", "minsheng.insight.api.router")
api.add_router("/", "minsheng.finance.api.router")
