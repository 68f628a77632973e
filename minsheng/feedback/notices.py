"""What the citizen is told, and when: one translated template per notice, sent after commit through
the SMS backend (the only channel a citizen gives us; staff get in-app notifications instead).

Templates are rendered in the site's default language (zh-Hans) because an SMS goes out after the
request that caused it; each takes the receipt code and, where it needs one, a short note."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from minsheng.feedback import sms

TEMPLATES = {
    "receipt": _("【民生】您的诉求已受理，受理编号 %(code)s，可凭编号和手机号查询办理进度。"),
    "accepted": _("【民生】您的诉求 %(code)s 已由 %(unit)s 签收办理。"),
    "transferred": _("【民生】您的诉求 %(code)s 已转 %(unit)s 办理，首问单位继续跟踪。"),
    "waiting": _("【民生】您的诉求 %(code)s 需要补充材料：%(note)s"),
    "replied": _("【民生】您的诉求 %(code)s 已答复，请查询答复内容；稍后我们将回访。"),
    "rework": _("【民生】您反映问题未解决，诉求 %(code)s 已退回重新办理。"),
    "closed": _("【民生】您的诉求 %(code)s 已办结。如问题仍未解决，可在办结后规定天数内申请重新办理。"),
    "reopened": _("【民生】您的诉求 %(code)s 已重新办理。"),
    "merged": _("【民生】您的诉求 %(code)s 与 %(primary)s 是同一问题，已合并办理，办理进展会同时告知您。"),
}


def render(kind: str, **context: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(TEMPLATES[kind]) % context


def tell(phone: str, kind: str, **context: str) -> None:
    """Send notice `kind` to `phone` once the current transaction commits (nothing if no phone)."""
    if not phone:
        return
    text = render(kind, **context)
    transaction.on_commit(lambda: sms.send(phone, text))
