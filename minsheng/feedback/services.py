"""Writes for citizen requests. Every service validates, writes, records the audit trail and the
public timeline, and tells the citizen by SMS after commit.

首问负责制: a request always has an owner unit while open. A transfer leaves the owner unchanged
until the receiving unit accepts it; a refused transfer goes to the coordinating office, which names
the unit; a transfer back to a unit that already held the request (A→B→A) is ping-pong and goes
straight to the coordinating office.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from minsheng.accounts.models import User
from minsheng.accounts.roles import Cap, Role
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import Department, Division
from minsheng.core.services import notify_many
from minsheng.feedback import location, notices, photos, sla, sms
from minsheng.feedback.models import (
    OPEN_STATUSES,
    VERIFIED_KINDS,
    Category,
    Channel,
    CitizenNotice,
    CitizenRequest,
    Kind,
    PhoneCode,
    RequestEvent,
    Status,
    Transfer,
    TransferStatus,
    Urgency,
    VisitChannel,
)

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
CODE_TTL = dt.timedelta(minutes=10)
CODE_MAX_ATTEMPTS = 5
CODES_PER_HOUR = 5
REQUESTS_PER_PHONE_HOUR = 10  # from the public, per phone number (the per-IP limit is in the view)
RECEIPT_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# ---------------------------------------------------------------------------------------------
# Phone codes


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def _check_phone(phone: str) -> str:
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    if not PHONE_RE.match(phone):
        raise ValidationFailed(fields={"phone": [_("请填写 11 位手机号码。")]})
    return phone


def phone_code_send(*, phone: str, now: dt.datetime | None = None) -> None:
    """Send a 6-digit one-time code to `phone`; at most CODES_PER_HOUR an hour per number."""
    now = now or timezone.now()
    phone = _check_phone(phone)
    if PhoneCode.objects.filter(phone=phone, created_at__gte=now - dt.timedelta(hours=1)).count() >= CODES_PER_HOUR:
        raise ValidationFailed(fields={"phone": [_("验证码发送过于频繁，请一小时后再试。")]})
    code = f"{secrets.randbelow(10**6):06d}"
    PhoneCode.objects.create(phone=phone, code_hash=_code_hash(phone, code), created_at=now,
                             expires_at=now + CODE_TTL)
    text = _("【民生】您的验证码是 %(code)s，10 分钟内有效。如非本人操作请忽略。") % {"code": code}
    transaction.on_commit(lambda: sms.send(phone, text))


def phone_code_check(*, phone: str, code: str, now: dt.datetime | None = None) -> None:
    """Consume a valid code or raise. Runs in its own transaction so a wrong attempt always counts."""
    now = now or timezone.now()
    phone = _check_phone(phone)
    with transaction.atomic():
        pc = (PhoneCode.objects.select_for_update().filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
              .order_by("-created_at").first())
        if pc is None:
            error = _("验证码已过期或未发送，请重新获取。")
        elif pc.attempts >= CODE_MAX_ATTEMPTS:
            error = _("验证码错误次数过多，请重新获取。")
        else:
            pc.attempts += 1
            ok = hmac.compare_digest(pc.code_hash, _code_hash(phone, (code or "").strip()))
            if ok:
                pc.used_at = now
            pc.save(update_fields=["attempts", "used_at"])
            if ok:
                return
            error = _("验证码不正确。")
    raise ValidationFailed(fields={"code": [error]})


# ---------------------------------------------------------------------------------------------
# Routing and helpers


def _ancestors_nearest_first(division: Division) -> list[int]:
    return [int(p) for p in division.path.strip("/").split("/") if p][::-1]


def _nearest_department(division: Division, kind: str) -> Department | None:
    ids = _ancestors_nearest_first(division)
    found = {d.division_id: d for d in Department.objects.filter(kind=kind, division_id__in=ids)}
    return next((found[i] for i in ids if i in found), None)


def route(*, category: str, division: Division, project: Any = None) -> Department:
    """The unit a new request goes to: the project's lead department, or the category's department
    in the request's division or the nearest division above it, or else the coordinating office."""
    if project is not None:
        return project.lead_department
    kind = rule_for("feedback.routing", division).value.get(category)
    unit = _nearest_department(division, kind) if kind else None
    unit = unit or coordinator_for(division)
    if unit is None:
        raise ValidationFailed(fields={"division": [_("该地区尚未设置受理单位，请拨打 12345 热线。")]})
    return unit


def coordinator_for(division: Division) -> Department | None:
    kind = rule_for("feedback.workflow", division).value.get("coordinator_kind", "govoffice")
    return _nearest_department(division, kind)


def _calendar(division: Division) -> sla.WorkCalendar:
    return sla.WorkCalendar.from_table(rule_for("feedback.holiday_table", division).value)


def _acts_for(user: Any, unit: Department | None) -> bool:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active or unit is None:
        return False
    return user.is_superuser or user.role == Role.SYSADMIN or user.department_id == unit.pk


def new_receipt_code() -> str:
    return "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))


def _event(req: CitizenRequest, action: str, text: str = "", *, unit: Department | None = None,
           public: bool = True, at: dt.datetime | None = None) -> None:
    RequestEvent.objects.create(request=req, action=action, text=text, unit=unit, public=public,
                                at=at or timezone.now())


def _tell(req: CitizenRequest, kind: str, *, new: bool = False, **context: str) -> None:
    """Tell the reporter and every reporter whose near-duplicate was merged into this case (a request
    registered just now has none)."""
    notices.tell(req, kind, **context)
    if req.pk is not None and not new:
        for dup in CitizenRequest.objects.filter(merged_into=req).only("pk", "receipt_code", "phone", "email"):
            notices.tell(dup, kind, **context)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def find_duplicate(*, category: str, division: Division, latitude: Decimal | None, longitude: Decimal | None,
                   address: str, now: dt.datetime) -> CitizenRequest | None:
    """An open case of the same category in the same division, recent, and at the same place (within
    the distance, or at the same address when there are no coordinates). A report with neither has no
    place to compare, so it is nobody's duplicate (and costs no query)."""
    address = address.strip()
    located = latitude is not None and longitude is not None
    if not located and not address:
        return None
    workflow = rule_for("feedback.workflow", division).value
    hours, metres = int(workflow.get("duplicate_hours", 48)), float(workflow.get("duplicate_metres", 150))
    candidates = (CitizenRequest.objects.filter(category=category, division=division, merged_into__isnull=True,
                                                created_at__gte=now - dt.timedelta(hours=hours))
                  .exclude(status=Status.CLOSED).select_related("owner").order_by("created_at"))
    if located:
        # A box a little larger than the circle narrows the candidates in SQL; haversine decides.
        lat, lng = float(latitude), float(longitude)
        dlat = metres / 111_000 * 1.1
        dlng = dlat / max(math.cos(math.radians(lat)), 0.01)
        place = Q(latitude__range=(Decimal(str(lat - dlat)), Decimal(str(lat + dlat))),
                  longitude__range=(Decimal(str(lng - dlng)), Decimal(str(lng + dlng))))
        if address:
            place |= Q(latitude__isnull=True, address=address)
        candidates = candidates.filter(place)
    else:
        candidates = candidates.filter(address=address)
    for c in candidates[:200]:
        if located and c.latitude is not None and c.longitude is not None:
            if distance_m(lat, lng, float(c.latitude), float(c.longitude)) <= metres:
                return c
        elif address and c.address.strip() == address:
            return c
    return None


def _notify_unit(unit: Department, req: CitizenRequest, kind: str, text: str, dedupe: str = "",
                 memo: dict | None = None) -> None:
    """Everyone active in the unit, in one insert. `memo`: staff lists already read in this transaction
    (the intake registers a batch of requests, most of them for the same few units)."""
    staff = memo.get(("staff", unit.pk)) if memo is not None else None
    if staff is None:
        staff = list(User.objects.filter(department=unit, is_active=True).values_list("pk", flat=True))
        if memo is not None:
            memo[("staff", unit.pk)] = staff
    notify_many(recipient_ids=staff, kind=kind, text=text, link=f"/console/feedback/{req.pk}/",
                dedupe_key=dedupe)


def _audit(actor: Any, action: str, req: CitizenRequest, before: dict | None, after: dict | None = None) -> None:
    audit.record(actor=actor, action=action, obj=req, before=before, after=after or audit.snapshot(req),
                 project_code=req.project.code if req.project_id else "", division_path=req.division.path)


# ---------------------------------------------------------------------------------------------
# Intake


@dataclass
class Submission:
    kind: str
    category: str
    description: str
    division: Division | None
    urgency: str = Urgency.NORMAL
    channel: str = Channel.PORTAL
    address: str = ""
    latitude: str | Decimal | None = None
    longitude: str | Decimal | None = None
    project: Any = None
    name: str = ""
    phone: str = ""
    code: str = ""  # the one-time code, for complaints and reports from the public
    email: str = ""  # optional: notices go by e-mail too
    photo: IO[bytes] | None = None
    photo_size: int = 0
    trusted: bool = False  # a channel that vouches for the caller (an Open311 client with an api_key)


def _coordinate(value: Any, lo: int, hi: int, field: str, errors: dict[str, list[Any]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
    except (InvalidOperation, ValueError):
        errors[field] = [_("坐标格式不正确。")]
        return None
    if not lo <= number <= hi:
        errors[field] = [_("坐标超出范围。")]
        return None
    return number


@dataclass
class Checked:
    """A submission that passed every check (`check_submission`): what registration needs."""

    kind: str
    category: str
    urgency: str
    channel: str
    description: str
    address: str
    latitude: Decimal | None
    longitude: Decimal | None
    division: Division
    project: Any
    name: str
    phone: str
    email: str
    photo: Any  # the cleaned photo (EXIF stripped), not yet stored; or None
    staff_entry: bool  # a hotline operator, or a channel that vouches for the caller


def phone_key(phone: str) -> str:
    """A keyed hash of a phone number: what the intake keeps to count a phone's submissions per hour."""
    return hmac.new(settings.SECRET_KEY.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()[:24]


def check_submission(*, actor: Any, data: Submission, now: dt.datetime) -> Checked:
    """Every check a submission from any channel must pass, with all the errors at once. From the public
    (no operator, no vouching channel), a phone may send at most REQUESTS_PER_PHONE_HOUR an hour; the
    one-time code of a complaint is checked apart (`phone_code_check`), after everything else passed."""
    errors: dict[str, list[Any]] = {}
    if data.kind not in Kind.values:
        errors["kind"] = [_("请选择诉求类型。")]
    if data.category not in Category.values:
        errors["category"] = [_("请选择诉求分类。")]
    if data.urgency not in Urgency.values:
        errors["urgency"] = [_("紧急程度无效。")]
    if data.channel not in Channel.values:
        errors["channel"] = [_("渠道无效。")]
    description = (data.description or "").strip()
    if len(description) < 5:
        errors["description"] = [_("请具体描述您的诉求（至少 5 个字）。")]
    elif len(description) > 2000:
        errors["description"] = [_("诉求内容不能超过 2000 字。")]
    division = data.division or (data.project.division if data.project is not None else None)
    if division is None:
        errors["division"] = [_("请选择所在地区。")]
    phone = (data.phone or "").strip().replace(" ", "").replace("-", "")
    staff_entry = (actor is not None and getattr(actor, "is_authenticated", False)) or data.trusted
    if actor is not None and getattr(actor, "is_authenticated", False) and not actor.can(Cap.FEEDBACK_INTAKE):
        # Taken as heard, without the phone's code or limit: only for government staff (首问负责制).
        raise PermissionDenied(_("只有政府部门工作人员可以登记群众来电来访。"))
    if phone and not PHONE_RE.match(phone):
        errors["phone"] = [_("请填写 11 位手机号码。")]
    if data.kind in VERIFIED_KINDS and not phone:
        errors["phone"] = [_("投诉和举报需要填写手机号码并验证。")]
    elif phone and not staff_entry:
        from minsheng.feedback.models import Intake

        if (Intake.objects.filter(phone_key=phone_key(phone), created_at__gte=now - dt.timedelta(hours=1)).count()
                >= REQUESTS_PER_PHONE_HOUR):
            errors["phone"] = [_("该手机号一小时内提交的诉求过多，请稍后再试或拨打 12345。")]
    if len(data.address or "") > 255:
        errors["address"] = [_("地点不能超过 255 字。")]
    if len(data.name or "") > 32:
        errors["name"] = [_("称呼不能超过 32 字。")]
    email = (data.email or "").strip()
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = [_("电子邮箱格式不正确。")]
    lat = _coordinate(data.latitude, -90, 90, "latitude", errors)
    lng = _coordinate(data.longitude, -180, 180, "longitude", errors)
    if division is not None and "latitude" not in errors and "longitude" not in errors:
        location.check_point(division, lat, lng, errors)
    photo = None
    if data.photo is not None:
        try:
            photo = photos.clean_photo(data.photo, size=data.photo_size)
        except ValidationFailed as exc:
            errors.update(exc.fields)
    if errors:
        raise ValidationFailed(fields=errors)
    return Checked(
        kind=data.kind, category=data.category, urgency=data.urgency, channel=data.channel,
        description=description, address=(data.address or "").strip(), latitude=lat, longitude=lng,
        division=division, project=data.project, name=(data.name or "").strip(), phone=phone, email=email,
        photo=photo, staff_entry=staff_entry,
    )


def request_submit(*, actor: Any, data: Submission, now: dt.datetime | None = None) -> CitizenRequest:
    """Register a request from any channel at once. A hotline operator (`actor` set) takes the caller's
    number as heard, and an Open311 client with an api_key vouches for its caller; from the public,
    complaints and reports need the one-time code sent to the phone, and the submission is received
    through the intake (its receipt and hourly count) and registered in the same transaction. The
    citizen portal does not wait for registration: it stores the intake only (`intake.intake_submit`)."""
    now = now or timezone.now()
    checked = check_submission(actor=actor, data=data, now=now)
    unit = route(category=checked.category, division=checked.division, project=checked.project)
    if not checked.staff_entry:
        from minsheng.feedback import intake

        item = intake.store(checked, code=data.code, now=now)  # the code is checked in its own transaction
        return intake.intake_register(item, now=now)
    with transaction.atomic():
        return register(checked, unit=unit, actor=actor, created_at=now, phone_verified=bool(checked.phone))


def _insert_with_code(req: CitizenRequest, code: str = "") -> None:
    """Insert `req` with receipt code `code` (the intake's) or a new one; a code already taken (one in
    31^10) gets a new one."""
    for _attempt in range(5):
        req.receipt_code = code or new_receipt_code()
        try:
            with transaction.atomic():
                req.save()
            return
        except IntegrityError:
            req.pk, code = None, ""
    raise Conflict()  # pragma: no cover - 31^10 codes


def register(checked: Checked, *, unit: Department, actor: Any, created_at: dt.datetime, phone_verified: bool,
             receipt_code: str = "", photo_name: str = "", memo: dict | None = None) -> CitizenRequest:
    """Write the request: owned by `unit` from the start (首问负责制), its SLA clocks running from
    `created_at`, the received step on its timeline, the audit row, the unit's officers and the citizen
    told — or, when it repeats an open case nearby, merged into that case. Inside the caller's
    transaction. `photo_name`: a photo already stored (by the intake) to attach as is; `memo`: what may be
    remembered across the registrations of one transaction (see _notify_unit)."""
    duplicate = None
    if checked.project is None and checked.kind not in (Kind.PRAISE, Kind.ENQUIRY):
        duplicate = find_duplicate(category=checked.category, division=checked.division, latitude=checked.latitude,
                                   longitude=checked.longitude, address=checked.address, now=created_at)
    req = CitizenRequest(
        kind=checked.kind, category=checked.category, urgency=checked.urgency, channel=checked.channel,
        description=checked.description, address=checked.address, latitude=checked.latitude,
        longitude=checked.longitude, division=checked.division, project=checked.project, name=checked.name,
        phone=checked.phone, email=checked.email, phone_verified=phone_verified, first_responder=unit, owner=unit,
        created_at=created_at,
    )
    if photo_name:
        req.photo.name = photo_name
    elif checked.photo is not None:
        req.photo.save(checked.photo.name, checked.photo, save=False)
    _insert_with_code(req, receipt_code)
    staff_actor = actor if checked.staff_entry else None
    if duplicate is not None:
        return _merge(req, duplicate, staff_actor, created_at)
    from minsheng.feedback import clocks

    clocks.start(req)
    _event(req, "received", _("诉求已登记，转 %(unit)s 办理。") % {"unit": unit.name}, unit=unit, at=created_at)
    _audit(staff_actor, "feedback.submit", req, None)
    _notify_unit(unit, req, "feedback.new", _("新诉求 %(code)s：%(text)s") % {
        "code": req.receipt_code, "text": checked.description[:60]}, memo=memo)
    _tell(req, "receipt", new=True)
    return req


def _merge(req: CitizenRequest, primary: CitizenRequest, actor: Any, now: dt.datetime) -> CitizenRequest:
    """Close the new report as a near-duplicate of `primary`; its reporter follows that case."""
    req.merged_into, req.owner, req.status, req.closed_at = primary, primary.owner, Status.CLOSED, now
    _save(req)
    text = _("与受理编号 %(code)s 的同一问题合并办理，办理进展会同时告知您。") % {"code": primary.receipt_code}
    _event(req, "merged", text, unit=primary.owner, at=now)
    _event(primary, "duplicate", _("又有群众反映同一问题（%(code)s），已合并。") % {"code": req.receipt_code},
           unit=primary.owner, public=False, at=now)
    _audit(actor, "feedback.merge", req, None)
    notices.tell(req, "merged", primary=primary.receipt_code)
    return req


# ---------------------------------------------------------------------------------------------
# Handling


def _locked(req: CitizenRequest) -> CitizenRequest:
    return (CitizenRequest.objects.select_for_update(of=("self",)).select_related("division", "owner", "project")
            .get(pk=req.pk))


def _owner_only(actor: Any, req: CitizenRequest) -> None:
    if not _acts_for(actor, req.owner):
        raise PermissionDenied(_("只有承办单位可以办理此诉求。"))


def _require_status(req: CitizenRequest, allowed: set[str]) -> None:
    if req.status not in allowed:
        raise Conflict(_("当前状态（%(status)s）不能执行此操作。") % {"status": req.get_status_display()})


@transaction.atomic
def request_accept(*, actor: Any, request: CitizenRequest) -> CitizenRequest:
    req = _locked(request)
    _owner_only(actor, req)
    _require_status(req, {Status.RECEIVED})
    before = audit.snapshot(req)
    req.status, req.accepted_at = Status.ACCEPTED, timezone.now()
    _save(req)
    _event(req, "accepted", _("%(unit)s 已签收。") % {"unit": req.owner.name}, unit=req.owner)
    _audit(actor, "feedback.accept", req, before)
    _tell(req, "accepted", unit=req.owner.name)
    return req


@transaction.atomic
def request_contact(*, actor: Any, request: CitizenRequest, note: str) -> CitizenRequest:
    """The unit has spoken to the citizen: the first-contact clock stops; handling is under way."""
    req = _locked(request)
    _owner_only(actor, req)
    _require_status(req, {Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS})
    if not (note or "").strip():
        raise ValidationFailed(fields={"note": [_("请填写联系情况。")]})
    before = audit.snapshot(req)
    now = timezone.now()
    req.accepted_at = req.accepted_at or now
    req.first_contact_at = req.first_contact_at or now
    req.status = Status.IN_PROGRESS
    _save(req)
    _event(req, "contact", note.strip(), unit=req.owner, public=False)
    _event(req, "in_progress", _("承办单位已与您联系，正在办理。"), unit=req.owner)
    _audit(actor, "feedback.contact", req, before)
    if before["status"] != Status.IN_PROGRESS:
        _tell(req, "in_progress", unit=req.owner.name)
    return req


@transaction.atomic
def request_wait(*, actor: Any, request: CitizenRequest, waiting: bool, note: str = "") -> CitizenRequest:
    """Pause (waiting=True) or resume the clocks: the only pause is waiting for the citizen."""
    req = _locked(request)
    _owner_only(actor, req)
    _require_status(req, {Status.ACCEPTED, Status.IN_PROGRESS})
    before = audit.snapshot(req)
    now = timezone.now()
    if waiting:
        if req.waiting_since is not None:
            raise Conflict(_("已在等待群众补充材料。"))
        if not note.strip():
            raise ValidationFailed(fields={"note": [_("请说明需要群众补充什么。")]})
        req.waiting_since = now
        _event(req, "waiting", note.strip(), unit=req.owner)
        _tell(req, "waiting", note=note.strip()[:60])
    else:
        if req.waiting_since is None:
            raise Conflict(_("当前没有在等待群众。"))
        req.paused_seconds += int(_calendar(req.division).working_seconds(req.waiting_since, now))
        req.waiting_since = None
        _event(req, "resumed", _("已收到补充材料，继续办理。"), unit=req.owner)
    _save(req)
    _audit(actor, "feedback.wait" if waiting else "feedback.resume", req, before)
    return req


def _resume(req: CitizenRequest, now: dt.datetime) -> None:
    if req.waiting_since is not None:
        req.paused_seconds += int(_calendar(req.division).working_seconds(req.waiting_since, now))
        req.waiting_since = None


@transaction.atomic
def request_reply(*, actor: Any, request: CitizenRequest, text: str) -> CitizenRequest:
    req = _locked(request)
    _owner_only(actor, req)
    _require_status(req, {Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS})
    text = (text or "").strip()
    if len(text) < 5:
        raise ValidationFailed(fields={"text": [_("请填写答复内容（至少 5 个字）。")]})
    before = audit.snapshot(req)
    now = timezone.now()
    _resume(req, now)
    req.accepted_at = req.accepted_at or now
    req.first_contact_at = req.first_contact_at or now
    req.replied_at, req.reply, req.status = now, text, Status.REPLIED
    _save(req)
    _event(req, "replied", text, unit=req.owner)
    _audit(actor, "feedback.reply", req, before)
    _tell(req, "replied")
    _tell(req, "visit_request")
    return req


@transaction.atomic
def request_return_visit(*, actor: Any, request: CitizenRequest, resolved: bool, satisfaction: int,
                         comment: str = "") -> CitizenRequest:
    """回访 by the unit (by phone). Not resolved sends the case back to the unit for re-handling."""
    req = _locked(request)
    if not (_acts_for(actor, req.owner) or _acts_for(actor, req.first_responder)
            or _acts_for(actor, coordinator_for(req.division))):
        raise PermissionDenied(_("只有承办单位、首问单位或协调机构可以回访。"))
    return _record_visit(actor, req, resolved=resolved, satisfaction=satisfaction, comment=comment,
                         channel=VisitChannel.PHONE)


@transaction.atomic
def request_citizen_visit(*, receipt_code: str, phone: str, resolved: bool, satisfaction: int,
                          comment: str = "") -> CitizenRequest:
    """The citizen answers the return visit on the lookup page (receipt code and phone, as for the
    lookup). Once per reply: the answer moves the request out of 已答复, so a second answer, or one
    after the unit has phoned, is refused; a request merged into another is answered on that one."""
    req = _locked(request_lookup(receipt_code=receipt_code, phone=phone))
    if req.merged_into_id is not None:
        raise Conflict(_("该诉求已与 %(code)s 合并办理，请查询该诉求后评价。") % {
            "code": req.merged_into.receipt_code})
    if req.status != Status.REPLIED:
        raise Conflict(_("该诉求现在不需要评价（每次答复只能评价一次，承办单位已回访的也不能再评价）。"))
    req = _record_visit(None, req, resolved=resolved, satisfaction=satisfaction, comment=comment,
                        channel=VisitChannel.ONLINE)
    text = (_("诉求 %(code)s：群众网上评价问题已解决，满意度 %(s)d。") if req.resolved else
            _("诉求 %(code)s：群众网上评价问题未解决，已退回重新办理。")) % {
        "code": req.receipt_code, "s": req.satisfaction}
    _notify_unit(req.owner, req, "feedback.visited_online", text)
    return req


def _record_visit(actor: Any, req: CitizenRequest, *, resolved: bool, satisfaction: int, comment: str,
                  channel: str) -> CitizenRequest:
    """Record a return visit on a locked request, whoever made it and however."""
    _require_status(req, {Status.REPLIED})
    errors: dict[str, list[Any]] = {}
    if not isinstance(resolved, bool):
        errors["resolved"] = [_("请选择问题是否已解决。")]
    if not isinstance(satisfaction, int) or isinstance(satisfaction, bool) or satisfaction not in range(1, 6):
        errors["satisfaction"] = [_("满意度须为 1 到 5。")]
    if len(comment or "") > 500:
        errors["comment"] = [_("回访意见不能超过 500 字。")]
    if errors:
        raise ValidationFailed(fields=errors)
    before = audit.snapshot(req)
    req.resolved, req.satisfaction, req.visit_comment = resolved, satisfaction, (comment or "").strip()
    req.visit_channel = channel
    online = channel == VisitChannel.ONLINE
    if resolved:
        req.status = Status.RETURN_VISIT
        text = (_("群众网上评价：问题已解决，满意度 %(s)d。") if online else
                _("已回访：问题已解决，满意度 %(s)d。")) % {"s": satisfaction}
        _event(req, "return_visit", text, unit=req.owner)
        _tell(req, "visited")
    else:
        req.status, req.replied_at = Status.IN_PROGRESS, None
        _event(req, "rework", _("群众网上评价：问题未解决，已退回承办单位重新办理。") if online else
               _("回访：问题未解决，已退回承办单位重新办理。"), unit=req.owner)
        _tell(req, "rework")
    _save(req)
    _audit(actor, "feedback.return_visit", req, before)
    return req


def _on_time(req: CitizenRequest, now: dt.datetime) -> bool:
    budget = sla.Budget.parse(budget_text(req, "closure"))
    c = sla.clock(_calendar(req.division), phase="closure", budget=budget, received=req.created_at, now=now,
                  done_at=now, paused_seconds=req.paused_seconds)
    return c.state == sla.State.MET


@transaction.atomic
def request_close(*, actor: Any, request: CitizenRequest) -> CitizenRequest:
    req = _locked(request)
    _owner_only(actor, req)
    _require_status(req, {Status.RETURN_VISIT})
    before = audit.snapshot(req)
    now = timezone.now()
    req.status, req.closed_at, req.closed_on_time = Status.CLOSED, now, _on_time(req, now)
    _save(req)
    _event(req, "closed", _("诉求已办结。"), unit=req.owner)
    _audit(actor, "feedback.close", req, before)
    _tell(req, "closed")
    return req


class Pending(Conflict):
    """The receipt code names a submission not registered yet (the intake); `intake` is it."""

    def __init__(self, intake: Any) -> None:
        super().__init__(_("该诉求刚刚提交，正在分派承办单位，请稍后再试。"))
        self.intake = intake


def request_lookup(*, receipt_code: str, phone: str) -> CitizenRequest:
    """The citizen's own request: receipt code and the phone given with it must both match. A request
    submitted without a phone is found by its receipt code alone. A submission still waiting for
    registration raises `Pending` (with the same phone rule); an unknown code or another phone, NotFound."""
    from minsheng.feedback.models import Intake, IntakeStatus

    code = (receipt_code or "").strip().upper()
    phone = (phone or "").strip().replace(" ", "").replace("-", "")
    req = CitizenRequest.objects.select_related("owner", "division").filter(receipt_code=code).first()
    if req is None:
        item = Intake.objects.select_related("request__owner", "request__division").filter(receipt_code=code).first()
        if item is not None and item.status != IntakeStatus.REGISTERED:
            if item.phone and not hmac.compare_digest(item.phone, phone):
                raise NotFound(_("未找到该诉求，请核对受理编号和手机号。"))
            raise Pending(item)
        req = item.request if item is not None else None  # registered under another code (a collision)
    if req is None or (req.phone and not hmac.compare_digest(req.phone, phone)):
        raise NotFound(_("未找到该诉求，请核对受理编号和手机号。"))
    return req


@transaction.atomic
def request_reopen(*, receipt_code: str, phone: str, reason: str, now: dt.datetime | None = None) -> CitizenRequest:
    """The citizen asks to reopen within the jurisdiction's window after closure."""
    now = now or timezone.now()
    found = request_lookup(receipt_code=receipt_code, phone=phone)
    req = _locked(found)
    _require_status(req, {Status.CLOSED})
    if req.merged_into_id is not None:
        raise Conflict(_("该诉求已与 %(code)s 合并办理，请查询并对该诉求申请重新办理。") % {
            "code": req.merged_into.receipt_code})
    days = int(rule_for("feedback.workflow", req.division).value.get("reopen_days", 15))
    if req.closed_at is None or now - req.closed_at > dt.timedelta(days=days):
        raise Conflict(_("已超过办结后 %(n)d 天的重新办理期限，请重新提交诉求。") % {"n": days})
    if len((reason or "").strip()) < 5:
        raise ValidationFailed(fields={"reason": [_("请说明需要重新办理的原因（至少 5 个字）。")]})
    before = audit.snapshot(req)
    req.status, req.closed_at, req.replied_at, req.closed_on_time = Status.IN_PROGRESS, None, None, None
    req.resolved, req.satisfaction = None, None
    req.reopen_count += 1
    _save(req)
    _event(req, "reopened", reason.strip(), unit=req.owner)
    _audit(None, "feedback.reopen", req, before)
    _tell(req, "reopened")
    _notify_unit(req.owner, req, "feedback.reopened", _("诉求 %(code)s 被群众申请重新办理。") % {
        "code": req.receipt_code})
    return req


@transaction.atomic
def request_add_update(*, request: CitizenRequest, text: str, source: str = "open311") -> RequestEvent:
    """A note for an open request from outside (an Open311 client speaking for the citizen): it goes on
    the public timeline and the handling unit is told. A closed request takes no notes: reopen it."""
    req = _locked(request)
    text = (text or "").strip()
    if len(text) < 2:
        raise ValidationFailed(fields={"description": [_("请填写补充说明。")]})
    if len(text) > 2000:
        raise ValidationFailed(fields={"description": [_("补充说明不能超过 2000 字。")]})
    _require_status(req, set(OPEN_STATUSES))
    event = RequestEvent.objects.create(request=req, action="citizen_update", text=text, public=True)
    _audit(None, "feedback.citizen_update", req, None, after={"event": event.pk, "source": source})
    _notify_unit(req.owner, req, "feedback.citizen_update", _("诉求 %(code)s 有群众补充说明。") % {
        "code": req.receipt_code})
    return event


# ---------------------------------------------------------------------------------------------
# Transfers (首问负责制)


def _in_tree(unit: Department, division: Division) -> bool:
    """A request may go to a unit of its own division, a division above it, or one below it."""
    return division.path.startswith(unit.division.path) or unit.division.path.startswith(division.path)


def _past_owners(req: CitizenRequest) -> set[int]:
    owners = {req.first_responder_id}
    owners.update(Transfer.objects.filter(request=req).exclude(status=TransferStatus.PENDING)
                  .values_list("from_unit_id", flat=True))
    return owners


def _deadline(req: CitizenRequest, key: str, now: dt.datetime) -> dt.datetime:
    budget = sla.Budget.parse(rule_for("feedback.workflow", req.division).value.get(key, "1wd"))
    if budget.unit is sla.Unit.HOURS:
        return now + dt.timedelta(hours=budget.amount)
    return _calendar(req.division).end_of_nth_workday_after(now, budget.amount)


def _to_coordinator(req: CitizenRequest, transfer: Transfer, now: dt.datetime, why: str) -> None:
    coordinator = coordinator_for(req.division)
    if coordinator is None:
        raise ValidationFailed(fields={"to_unit": [_("本地区没有协调机构，无法处理争议。")]})
    transfer.status, transfer.decided_at = TransferStatus.DISPUTED, now
    transfer.coordinator, transfer.coordinator_deadline = coordinator, _deadline(req, "coordination", now)
    transfer.save()
    req.escalated = True
    req.save(update_fields=["escalated"])
    _event(req, "disputed", why, unit=coordinator, public=False)
    _notify_unit(coordinator, req, "feedback.dispute", _("诉求 %(code)s 转办有争议，请协调指定承办单位。") % {
        "code": req.receipt_code})


@transaction.atomic
def transfer_request(*, actor: Any, request: CitizenRequest, to_unit: Department, reason: str) -> Transfer:
    req = _locked(request)
    _owner_only(actor, req)
    _require_status(req, {Status.RECEIVED, Status.ACCEPTED, Status.IN_PROGRESS})
    errors: dict[str, list[Any]] = {}
    if len((reason or "").strip()) < 5:
        errors["reason"] = [_("转办必须说明理由（至少 5 个字）。")]
    if to_unit.pk == req.owner_id:
        errors["to_unit"] = [_("不能转给本单位。")]
    elif not _in_tree(to_unit, req.division):
        errors["to_unit"] = [_("只能转给诉求所在地区或其上下级的单位。")]
    if errors:
        raise ValidationFailed(fields=errors)
    if Transfer.objects.filter(request=req, status=TransferStatus.PENDING).exists():
        raise Conflict(_("已有一项转办等待接收。"))
    now = timezone.now()
    transfer = Transfer.objects.create(request=req, from_unit=req.owner, to_unit=to_unit, reason=reason.strip(),
                                       requested_at=now, deadline=_deadline(req, "transfer_accept", now))
    _event(req, "transfer", _("%(a)s 申请转 %(b)s：%(r)s") % {"a": req.owner.name, "b": to_unit.name,
                                                         "r": reason.strip()}, unit=req.owner, public=False)
    if to_unit.pk in _past_owners(req):
        # A→B→A: the units are passing the case back and forth; the coordinating office decides.
        _to_coordinator(req, transfer, now, _("检测到来回转办（%(a)s ⇄ %(b)s），已提交协调机构。") % {
            "a": req.owner.name, "b": to_unit.name})
    else:
        _notify_unit(to_unit, req, "feedback.transfer", _("诉求 %(code)s 转给贵单位，请在期限内接收。") % {
            "code": req.receipt_code})
    audit.record(actor=actor, action="feedback.transfer", obj=req, after={
        "to_unit": to_unit.pk, "reason": reason.strip(), "transfer_status": transfer.status},
        division_path=req.division.path)
    return transfer


def _pending(req: CitizenRequest, status: str = TransferStatus.PENDING) -> Transfer:
    t = Transfer.objects.select_for_update().filter(request=req, status=status).order_by("-requested_at").first()
    if t is None:
        raise Conflict(_("没有待处理的转办。"))
    return t


@transaction.atomic
def transfer_accept(*, actor: Any, request: CitizenRequest) -> CitizenRequest:
    req = _locked(request)
    t = _pending(req)
    if not _acts_for(actor, t.to_unit):
        raise PermissionDenied(_("只有接收单位可以接收转办。"))
    before = audit.snapshot(req)
    t.status, t.decided_at = TransferStatus.ACCEPTED, timezone.now()
    t.save()
    req.owner = t.to_unit
    _save(req)
    _event(req, "transferred", _("已转 %(unit)s 办理，首问单位 %(first)s 继续跟踪。") % {
        "unit": t.to_unit.name, "first": req.first_responder.name}, unit=t.to_unit)
    _audit(actor, "feedback.transfer_accept", req, before)
    _tell(req, "transferred", unit=t.to_unit.name)
    return req


@transaction.atomic
def transfer_dispute(*, actor: Any, request: CitizenRequest, reason: str) -> Transfer:
    req = _locked(request)
    t = _pending(req)
    if not _acts_for(actor, t.to_unit):
        raise PermissionDenied(_("只有接收单位可以对转办提出异议。"))
    if len((reason or "").strip()) < 5:
        raise ValidationFailed(fields={"reason": [_("请说明不接收的理由（至少 5 个字）。")]})
    _to_coordinator(req, t, timezone.now(), reason.strip())
    audit.record(actor=actor, action="feedback.transfer_dispute", obj=req, after={"reason": reason.strip()},
                 division_path=req.division.path)
    return t


@transaction.atomic
def transfer_decide(*, actor: Any, request: CitizenRequest, unit: Department) -> CitizenRequest:
    """The coordinating office names the handling unit of a disputed transfer."""
    req = _locked(request)
    t = _pending(req, TransferStatus.DISPUTED)
    if not _acts_for(actor, t.coordinator):
        raise PermissionDenied(_("只有协调机构可以指定承办单位。"))
    if not _in_tree(unit, req.division):
        raise ValidationFailed(fields={"unit": [_("只能指定诉求所在地区或其上下级的单位。")]})
    before = audit.snapshot(req)
    t.status = TransferStatus.RESOLVED
    t.save()
    req.owner = unit
    _save(req)
    _event(req, "assigned", _("协调机构指定 %(unit)s 办理。") % {"unit": unit.name}, unit=unit)
    _audit(actor, "feedback.transfer_decide", req, before)
    _tell(req, "transferred", unit=unit.name)
    _notify_unit(unit, req, "feedback.assigned", _("协调机构指定贵单位办理诉求 %(code)s。") % {
        "code": req.receipt_code})
    return req


def budget_text(req: CitizenRequest, phase: str, sla_rules: dict | None = None) -> str:
    table = (sla_rules if sla_rules is not None else rule_for("feedback.sla", req.division).value).get(phase, {})
    for key in (("urgent",) if req.urgency == Urgency.URGENT else ()) + (
            f"category:{req.category}", f"kind:{req.kind}", "default"):
        if key in table:
            return table[key]
    raise ValidationFailed(_("未配置诉求时限：%(phase)s") % {"phase": phase})


# ---------------------------------------------------------------------------------------------
# SLA scan and escalation

PHASES = (("first_contact", "first_contact_at"), ("reply", "replied_at"), ("closure", "closed_at"))


def _save(req: CitizenRequest) -> None:
    """Save a request after a change, with its stored SLA clocks rescheduled (started, stopped, paused,
    resumed: `clocks.py`)."""
    from minsheng.feedback import clocks

    req.save()
    clocks.reschedule(req)


def clocks_for(req: CitizenRequest, now: dt.datetime | None = None,
               calendar: sla.WorkCalendar | None = None, sla_rules: dict | None = None) -> list[sla.Clock]:
    now = now or timezone.now()
    calendar = calendar or _calendar(req.division)
    sla_rules = sla_rules if sla_rules is not None else rule_for("feedback.sla", req.division).value
    return [
        sla.clock(calendar, phase=phase, budget=sla.Budget.parse(budget_text(req, phase, sla_rules)),
                  received=req.created_at,
                  now=now, done_at=getattr(req, field), paused_seconds=req.paused_seconds,
                  waiting_since=req.waiting_since)
        for phase, field in PHASES
    ]


PHASE_LABELS = {"first_contact": gettext_lazy("首次联系"), "reply": gettext_lazy("答复"),
                "closure": gettext_lazy("办结")}


def sla_scan(*, now: dt.datetime | None = None) -> dict[str, int]:
    """Warn at 75 %, escalate on breach step by step. Idempotent: each (request, phase, level) is sent
    once (the request remembers the highest level, notifications carry a dedupe key); pending transfers
    past their deadline count as accepted (默认签收)."""
    now = now or timezone.now()
    counts = {"warnings": 0, "escalations": 0, "auto_accepted": 0}
    for t in Transfer.objects.filter(status=TransferStatus.PENDING, deadline__lt=now).select_related("request"):
        with transaction.atomic():
            req = _locked(t.request)
            t = Transfer.objects.select_for_update().get(pk=t.pk)
            if t.status != TransferStatus.PENDING or not req.is_open:
                continue
            before = audit.snapshot(req)
            t.status, t.decided_at = TransferStatus.ACCEPTED, now
            t.save()
            req.owner = t.to_unit
            req.save()
            _event(req, "transferred", _("接收单位逾期未处理，视为接收：转 %(unit)s 办理。") % {"unit": t.to_unit.name},
                   unit=t.to_unit, at=now)
            _audit(None, "feedback.transfer_auto_accept", req, before)
            _tell(req, "transferred", unit=t.to_unit.name)
            counts["auto_accepted"] += 1
    # Warnings and escalations: the stored clocks whose next threshold has come (set-based, chunked).
    from minsheng.feedback import clocks

    counts.update(clocks.scan(now=now))
    return counts


# ---------------------------------------------------------------------------------------------
# Open311 keys


def _key_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def open311_key_create(*, name: str) -> tuple[Any, str]:
    from minsheng.feedback.models import Open311Key

    if not name.strip():
        raise ValidationFailed(fields={"name": [_("请填写客户端名称。")]})
    raw = "o311_" + secrets.token_urlsafe(24)
    key = Open311Key.objects.create(name=name.strip()[:64], prefix=raw[5:13], key_hash=_key_hash(raw))
    return key, raw


def open311_key_check(raw: str | None) -> bool:
    from minsheng.feedback.models import Open311Key

    return bool(raw) and Open311Key.objects.filter(key_hash=_key_hash(raw), revoked_at__isnull=True).exists()


# ---------------------------------------------------------------------------------------------
# Retention

ERASED = "（已按保存期限删除）"


def personal_data_erase(*, now: dt.datetime | None = None, months: int | None = None) -> int:
    """Erase personal data from requests closed more than `months` ago (FEEDBACK_RETENTION_MONTHS):
    phone, name, photo, description, address, internal notes; coordinates are rounded to about 1 km.
    What statistics need (category, unit, times, outcome, satisfaction) stays. Returns how many."""
    now = now or timezone.now()
    months = months if months is not None else int(getattr(settings, "FEEDBACK_RETENTION_MONTHS", 24))
    cutoff = now - dt.timedelta(days=30 * months)
    erased = 0
    qs = CitizenRequest.objects.filter(status=Status.CLOSED, closed_at__lt=cutoff, personal_data_erased_at__isnull=True)
    for pk in qs.values_list("pk", flat=True).iterator(chunk_size=2000):
        with transaction.atomic():
            req = CitizenRequest.objects.select_for_update(of=("self",)).select_related("division").get(pk=pk)
            if req.photo:
                req.photo.delete(save=False)
            req.phone, req.name, req.description, req.address, req.visit_comment = "", "", ERASED, "", ""
            req.email = ""
            for f in ("latitude", "longitude"):
                value = getattr(req, f)
                if value is not None:
                    setattr(req, f, value.quantize(Decimal("0.01")))
            req.personal_data_erased_at = now
            req.save()
            RequestEvent.objects.filter(request=req, public=False).update(text=ERASED)
            CitizenNotice.objects.filter(request=req).delete()
            audit.record(actor=None, action="feedback.erase_personal_data", obj=req,
                         after={"personal_data_erased_at": now}, division_path=req.division.path)
            erased += 1
    PhoneCode.objects.filter(expires_at__lt=now - dt.timedelta(days=1)).delete()
    return erased
