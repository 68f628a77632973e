"""One hierarchy of domain errors; the API and the views map each to one HTTP status in one place."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class MinshengError(Exception):
    """Base of every refusal a service makes. `message` is translatable; `fields` maps field → messages."""

    status = 400
    code = "invalid"
    default_message = _("请求无效。")

    def __init__(self, message: Any = None, *, fields: dict[str, list[Any]] | None = None, code: str | None = None):
        self.message = message if message is not None else self.default_message
        self.fields = fields or {}
        if code:
            self.code = code
        super().__init__(str(self.message))

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": str(self.message),
            "fields": {name: [str(m) for m in msgs] for name, msgs in self.fields.items()},
        }


class ValidationFailed(MinshengError):
    status = 400
    code = "invalid"
    default_message = _("提交的数据有误，请检查标出的字段。")


class NotAuthenticated(MinshengError):
    status = 401
    code = "not_authenticated"
    default_message = _("请先登录。")


class PermissionDenied(MinshengError):
    status = 403
    code = "forbidden"
    default_message = _("您没有执行此操作的权限。")


class NotFound(MinshengError):
    status = 404
    code = "not_found"
    default_message = _("未找到该记录，或您无权查看。")


class Conflict(MinshengError):
    status = 409
    code = "conflict"
    default_message = _("操作与当前状态冲突，请刷新后重试。")


class TransitionRefused(Conflict):
    code = "transition_refused"
    default_message = _("阶段转换被拒绝。")

    def __init__(self, message: Any = None, *, reasons: list[Any] | None = None, **kwargs: Any):
        super().__init__(message, **kwargs)
        self.reasons = reasons or []

    def as_dict(self) -> dict[str, Any]:
        data = super().as_dict()
        data["reasons"] = [str(r) for r in self.reasons]
        return data
