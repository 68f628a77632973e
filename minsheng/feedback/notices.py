"""What the citizen is told, and how: one translated template per notice (receipt, each status change,
the reply, the return-visit request), delivered by a background task queued with the change, through every channel in
`MINSHENG_NOTICE_CHANNELS` (name → backend class path):

- ``sms``: to the phone given with the request, through the SMS adapter (`sms.py`);
- ``email``: to the e-mail address given with the request, through Django's e-mail framework
  (`EMAIL_BACKEND`: SMTP in production, locmem in tests, console in development);
- ``inapp``: into the request's inbox, which the citizen reads on the lookup page with the receipt
  code (and the phone given with it).

A backend is a class with `send(notice)`; a channel that has no address for the citizen does nothing.
One channel failing does not stop the others. Templates are rendered in the site's default language
(zh-Hans) because a notice goes out after the web request that caused it."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.utils import translation
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from minsheng.feedback import sms

log = logging.getLogger(__name__)

TEMPLATES = {
    "receipt": _("【民生】您的诉求已受理，受理编号 %(code)s，可凭编号和手机号查询办理进度。"),
    "accepted": _("【民生】您的诉求 %(code)s 已由 %(unit)s 签收办理。"),
    "in_progress": _("【民生】%(unit)s 已与您联系，您的诉求 %(code)s 正在办理。"),
    "transferred": _("【民生】您的诉求 %(code)s 已转 %(unit)s 办理，首问单位继续跟踪。"),
    "waiting": _("【民生】您的诉求 %(code)s 需要补充材料：%(note)s"),
    "replied": _("【民生】您的诉求 %(code)s 已答复，请查询答复内容；稍后我们将回访。"),
    "visit_request": _("【民生】请告诉我们诉求 %(code)s 的问题是否已解决、您对办理是否满意（1–5 分）。"
                       "承办单位将电话回访，您也可以凭受理编号查询答复。"),
    "visited": _("【民生】感谢您对诉求 %(code)s 的评价，回访已记录。"),
    "rework": _("【民生】您反映问题未解决，诉求 %(code)s 已退回重新办理。"),
    "closed": _("【民生】您的诉求 %(code)s 已办结。如问题仍未解决，可在办结后规定天数内申请重新办理。"),
    "reopened": _("【民生】您的诉求 %(code)s 已重新办理。"),
    "merged": _("【民生】您的诉求 %(code)s 与 %(primary)s 是同一问题，已合并办理，办理进展会同时告知您。"),
}
SUBJECT = _("民生诉求 %(code)s 办理进展")

DEFAULT_CHANNELS = {
    "sms": "minsheng.feedback.notices.SmsChannel",
    "email": "minsheng.feedback.notices.EmailChannel",
    "inapp": "minsheng.feedback.notices.InAppChannel",
}


@dataclass(frozen=True)
class Notice:
    request_id: int | None
    code: str
    phone: str
    email: str
    kind: str
    subject: str
    text: str


class SmsChannel:
    def send(self, notice: Notice) -> None:
        if notice.phone:
            sms.send(notice.phone, notice.text)


class EmailChannel:
    def send(self, notice: Notice) -> None:
        if notice.email:
            send_mail(notice.subject, notice.text, settings.DEFAULT_FROM_EMAIL, [notice.email])


class InAppChannel:
    def send(self, notice: Notice) -> None:
        from minsheng.feedback.models import CitizenNotice

        if notice.request_id is not None:
            CitizenNotice.objects.create(request_id=notice.request_id, kind=notice.kind, text=notice.text)


def channels() -> list[Any]:
    table = getattr(settings, "MINSHENG_NOTICE_CHANNELS", DEFAULT_CHANNELS)
    return [import_string(path)() for path in table.values()]


def render(kind: str, **context: str) -> str:
    with translation.override(settings.LANGUAGE_CODE):
        return str(TEMPLATES[kind]) % context


def build(req: Any, kind: str, **context: str) -> Notice:
    with translation.override(settings.LANGUAGE_CODE):
        subject = str(SUBJECT) % {"code": req.receipt_code}
    return Notice(request_id=req.pk, code=req.receipt_code, phone=req.phone, email=getattr(req, "email", ""),
                  kind=kind, subject=subject, text=render(kind, code=req.receipt_code, **context))


def deliver(notice: Notice) -> None:
    for channel in channels():
        try:
            channel.send(notice)
        except Exception:  # one carrier's outage must not silence the others
            log.exception("notice %s for %s through %s failed", notice.kind, notice.code, type(channel).__name__)


def tell(req: Any, kind: str, **context: str) -> None:
    """Send notice `kind` about `req`: queued as a background task in the current transaction (the
    outbox: it goes out exactly when the change that caused it commits, and a web request never waits
    for an SMS gateway or a mail server)."""
    from minsheng.feedback.tasks import deliver_notice

    deliver_notice.enqueue(asdict(build(req, kind, **context)))


@dataclass(frozen=True)
class InboxItem:
    request: Any
    notices: list[Any]
    unread: int


def inbox(request_ids: list[int]) -> list[InboxItem]:
    """The in-app messages of these requests (the ones this browser session has looked up), newest
    first; reading them marks them read."""
    from django.utils import timezone

    from minsheng.feedback.models import CitizenNotice, CitizenRequest

    if not request_ids:
        return []
    found = {r.pk: r for r in CitizenRequest.objects.filter(pk__in=request_ids)}
    rows = list(CitizenNotice.objects.filter(request_id__in=found).order_by("-created_at", "-id"))
    items = [InboxItem(found[pk], [n for n in rows if n.request_id == pk],
                       sum(1 for n in rows if n.request_id == pk and n.read_at is None))
             for pk in reversed(request_ids) if pk in found]
    CitizenNotice.objects.filter(request_id__in=found, read_at__isnull=True).update(read_at=timezone.now())
    return items
