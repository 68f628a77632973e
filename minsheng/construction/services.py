"""Writes for supervision: logs, inspections (with photos and confirmed progress), rectification
orders and progress reports. Each takes the acting user, validates, writes, audits, and anchors
inspections and closures in the evidence ledger after commit."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.construction import photos as photo_checks
from minsheng.construction.models import (
    ConfirmedProgress,
    InspectionPhoto,
    InspectorKind,
    ObservationKind,
    ObservationPhoto,
    ProgressReport,
    Rectification,
    RectificationStatus,
    SiteInspection,
    SupervisionLog,
    VillageObservation,
    Weather,
)
from minsheng.core import audit
from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.jurisdiction import rule_for
from minsheng.core.services import notify
from minsheng.ledger.events import anchor_on_commit
from minsheng.projects.models import MemberRole, Project, WbsItem
from minsheng.projects.selectors import is_member, projects_visible
from minsheng.projects.services import can_manage

MAX_TEXT = 4000
PHOTO_MAX_AGE = dt.timedelta(days=7)  # a phone may sync late, but not weeks later
CLOCK_SLACK = dt.timedelta(minutes=10)

# ---------------------------------------------------------------------------------------------
# who may do what


def _visible(user: User, project: Project) -> None:
    if not projects_visible(user).filter(pk=project.pk).exists():
        raise NotFound()


def inspector_kind_for(user: User, project: Project) -> str | None:
    """The capacity in which `user` may inspect this project (None: may not)."""
    if not user.is_active:
        return None
    if user.role == Role.SUPERVISOR and is_member(user, project, MemberRole.SUPERVISOR):
        return InspectorKind.SUPERVISOR
    if user.role == Role.TOWNSHIP_INSPECTOR and user.division_id and project.division_path.startswith(
        user.division.path
    ):
        return InspectorKind.INSPECTOR
    if can_manage(user, project):
        return InspectorKind.OFFICER
    return None


def can_log(user: User, project: Project) -> bool:
    if user.is_superuser or user.role == Role.SYSADMIN:
        return True
    return user.role == Role.SUPERVISOR and is_member(user, project, MemberRole.SUPERVISOR)


def can_report(user: User, project: Project) -> bool:
    return user.role == Role.CONTRACTOR and is_member(user, project, MemberRole.CONTRACTOR)


def _text(value: Any, name: str, errors: dict[str, list[Any]], *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        errors.setdefault(name, []).append(_("请填写此项。"))
    elif len(text) > MAX_TEXT:
        errors.setdefault(name, []).append(_("内容过长（最多 %(n)d 字）。") % {"n": MAX_TEXT})
    return text


def _percent(value: Any, name: str, errors: dict[str, list[Any]]) -> Decimal:
    try:
        pct = Decimal(str(value)).quantize(Decimal("0.1"))
        if not pct.is_finite() or not 0 <= pct <= 100:
            raise InvalidOperation
        return pct
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append(_("进度须为 0 到 100 之间的数字。"))
        return Decimal(0)


def _coordinate(value: Any, name: str, low: int, high: int, errors: dict[str, list[Any]]) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value)).quantize(Decimal("0.000001"))
        if not number.is_finite() or not low <= number <= high:
            raise InvalidOperation
        return number
    except (InvalidOperation, ValueError):
        errors.setdefault(name, []).append(_("坐标无效。"))
        return None


# ---------------------------------------------------------------------------------------------
# supervision log


@transaction.atomic
def log_record(*, actor: User, project: Project, date: dt.date, weather: str, work_done: str, workers: Any,
               quantities: list[dict[str, Any]] | None = None, issues: str = "") -> SupervisionLog:
    _visible(actor, project)
    if not can_log(actor, project):
        raise PermissionDenied(_("只有本项目的监理可以填写监理日志。"))
    errors: dict[str, list[Any]] = {}
    if date > timezone.localdate():
        errors["date"] = [_("不能填写未来日期的日志。")]
    if weather not in Weather.values:
        errors["weather"] = [_("天气无效。")]
    work = _text(work_done, "work_done", errors)
    problems = _text(issues, "issues", errors, required=False)
    try:
        n_workers = int(workers)
        if not 0 <= n_workers <= 10000:
            raise ValueError
    except (TypeError, ValueError):
        errors["workers"] = [_("作业人数须为 0 到 10000 之间的整数。")]
        n_workers = 0
    clean_quantities = []
    for q in quantities or []:
        try:
            amount = Decimal(str(q["quantity"]))
            item, unit = str(q["item"]).strip(), str(q["unit"]).strip()
            if not amount.is_finite() or amount < 0 or not item or not unit:
                raise ValueError
            clean_quantities.append({"item": item[:64], "quantity": str(amount), "unit": unit[:16]})
        except (KeyError, TypeError, ValueError, InvalidOperation):
            errors["quantities"] = [_("工程量须包含名称、非负数量和单位。")]
            break
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic():
            entry = SupervisionLog.objects.create(
                project=project, supervisor=actor, date=date, weather=weather, work_done=work,
                workers=n_workers, quantities=clean_quantities, issues=problems,
            )
    except IntegrityError:
        raise ValidationFailed(fields={"date": [_("当天的监理日志已填写。")]}) from None
    audit.record(actor=actor, action="supervision_log.create", obj=entry, after=audit.snapshot(entry),
                 project_code=project.code, division_path=project.division_path)
    return entry


# ---------------------------------------------------------------------------------------------
# inspections


CHECK_ANSWERS = {"ok", "defect", "na"}


def _clean_photos(photos: list[dict[str, Any]], inspected_at: dt.datetime,
                  errors: dict[str, list[Any]]) -> list[tuple[bytes, dict[str, Any]]]:
    cleaned = []
    now = timezone.now()
    for n, photo in enumerate(photos):
        key = f"photos.{n}"
        taken = photo.get("taken_at")
        if not isinstance(taken, dt.datetime) or timezone.is_naive(taken):
            errors.setdefault(key, []).append(_("照片须带拍摄时间。"))
            continue
        if taken > now + CLOCK_SLACK or not inspected_at - PHOTO_MAX_AGE <= taken <= inspected_at + PHOTO_MAX_AGE:
            errors.setdefault(key, []).append(_("照片拍摄时间与检查时间不符。"))
        lat = _coordinate(photo.get("latitude"), key, -90, 90, errors)
        lng = _coordinate(photo.get("longitude"), key, -180, 180, errors)
        try:
            data, camera = photo_checks.clean_photo_with_record(photo["file"], photo.get("name", "photo.jpg"))
        except ValidationFailed as exc:
            errors.setdefault(key, []).extend(m for msgs in exc.fields.values() for m in msgs)
            continue
        if (lat is None or lng is None) and camera.latitude is not None and camera.longitude is not None:
            lat, lng = camera.latitude, camera.longitude  # the phone gave no position; the camera did
        if lat is None or lng is None:
            errors.setdefault(key, []).append(_("照片须带拍摄地点（经纬度）。"))
            continue
        cleaned.append((data, {"taken_at": taken, "latitude": lat, "longitude": lng,
                               "caption": str(photo.get("caption", ""))[:128], "camera": camera}))
    return cleaned


@transaction.atomic
def inspection_record(*, actor: User, project: Project, inspected_at: dt.datetime, checklist: dict[str, str],
                      passed: bool, notes: str = "", latitude: Any = None, longitude: Any = None,
                      village_representative: str = "", confirmed: dict[int, Any] | None = None,
                      photos: list[dict[str, Any]] | None = None,
                      client_key: uuid.UUID | None = None) -> SiteInspection:
    """Record a site inspection (possibly made offline and synced later). `confirmed` maps sub-item
    id → progress seen on site; `photos` are dicts with file, name, taken_at, latitude, longitude."""
    _visible(actor, project)
    kind = inspector_kind_for(actor, project)
    if kind is None:
        raise PermissionDenied(_("您不能检查这个项目。"))
    errors: dict[str, list[Any]] = {}
    if timezone.is_naive(inspected_at) or inspected_at > timezone.now() + CLOCK_SLACK:
        errors["inspected_at"] = [_("检查时间无效或晚于当前时间。")]
    if not checklist:
        errors["checklist"] = [_("请至少填写一项检查项。")]
    elif any(str(v) not in CHECK_ANSWERS or not str(k).strip() for k, v in checklist.items()):
        errors["checklist"] = [_("检查项的结论只能是：合格、有缺陷、不适用。")]
    elif passed and "defect" in {str(v) for v in checklist.values()}:
        errors["passed"] = [_("有缺陷的检查不能判定为合格。")]
    lat = _coordinate(latitude, "latitude", -90, 90, errors)
    lng = _coordinate(longitude, "longitude", -180, 180, errors)
    note = _text(notes, "notes", errors, required=False)
    rep = str(village_representative or "").strip()[:64]
    items = {i.pk: i for i in WbsItem.objects.filter(project=project, pk__in=list((confirmed or {}).keys()))}
    levels: dict[int, Decimal] = {}
    for item_id, value in (confirmed or {}).items():
        if int(item_id) not in items:
            errors.setdefault("confirmed", []).append(_("子项 %(id)s 不属于本项目。") % {"id": item_id})
            continue
        levels[int(item_id)] = _percent(value, "confirmed", errors)
    cleaned = [] if "inspected_at" in errors else _clean_photos(photos or [], inspected_at, errors)
    if errors:
        raise ValidationFailed(fields=errors)
    inspection = SiteInspection.objects.create(
        project=project, inspector=actor, inspector_kind=kind, village_representative=rep,
        inspected_at=inspected_at, latitude=lat, longitude=lng,
        checklist={str(k): str(v) for k, v in checklist.items()},
        notes=note, passed=passed, client_key=client_key,
    )
    for item_id, level in levels.items():
        ConfirmedProgress.objects.create(inspection=inspection, wbs_item=items[item_id], progress=level)
    for data, meta in cleaned:
        digest = hashlib.sha256(data).hexdigest()
        camera = meta.pop("camera")
        photo = InspectionPhoto(inspection=inspection, sha256=digest, exif_taken_at=camera.taken_at,
                                exif_latitude=camera.latitude, exif_longitude=camera.longitude, **meta)
        photo.file.save(f"{digest}.jpg", ContentFile(data), save=False)
        photo.save()
    audit.record(actor=actor, action="inspection.create", obj=inspection, after=audit.snapshot(inspection),
                 project_code=project.code, division_path=project.division_path)
    anchor_on_commit(kind="site_inspection", project_code=project.code, record=inspection, actor=actor)
    return inspection


# ---------------------------------------------------------------------------------------------
# offline inspections from the phone: idempotent sync, photos one by one

MAX_PHOTOS = 30


def _same_draft(found: SiteInspection, inspected_at: dt.datetime, checklist: dict[str, str]) -> bool:
    return found.inspected_at == inspected_at and found.checklist == {str(k): str(v) for k, v in checklist.items()}


def inspection_sync(*, actor: User, project: Project, client_key: uuid.UUID, inspected_at: dt.datetime,
                    checklist: dict[str, str], **fields: Any) -> tuple[SiteInspection, bool]:
    """A draft recorded on the phone (perhaps offline) and sent when back online. The client's
    `client_key` (a UUID made on the phone) makes it idempotent: a retried sync returns the
    inspection already stored, `created` False. The same key with other content is a conflict."""
    found = SiteInspection.objects.filter(client_key=client_key).first()
    if found is None:
        try:
            with transaction.atomic():
                made = inspection_record(actor=actor, project=project, inspected_at=inspected_at,
                                         checklist=checklist, client_key=client_key, **fields)
            return made, True
        except IntegrityError:  # the same draft, sent twice at once: the other request stored it
            found = SiteInspection.objects.filter(client_key=client_key).first()
            if found is None:
                raise
    if found.inspector_id != actor.pk or found.project_id != project.pk or not _same_draft(
            found, inspected_at, checklist):
        raise Conflict(_("这个同步编号已用于另一条检查记录。"))
    return found, False


@transaction.atomic
def inspection_photo_add(*, actor: User, inspection: SiteInspection, fileobj: Any, name: str,
                         taken_at: dt.datetime | None, latitude: Any = None, longitude: Any = None,
                         caption: str = "", client_key: uuid.UUID | None = None) -> tuple[InspectionPhoto, bool]:
    """Add one photo to an inspection already recorded (the phone uploads them one by one after the
    inspection itself). Only the inspector may, within a week. Idempotent on `client_key` and on the
    photo's content. Each such photo is anchored in the ledger on its own."""
    project = inspection.project
    _visible(actor, project)
    if inspection.inspector_id != actor.pk:
        raise PermissionDenied(_("只有检查人本人可以补传这次检查的照片。"))
    if client_key is not None:
        found = InspectionPhoto.objects.filter(client_key=client_key).first()
        if found is not None:
            if found.inspection_id != inspection.pk:
                raise Conflict(_("这个同步编号已用于另一张照片。"))
            return found, False
    errors: dict[str, list[Any]] = {}
    if timezone.now() - inspection.recorded_at > PHOTO_MAX_AGE:
        errors["file"] = [_("检查记录已超过补传照片的期限（7 天）。")]
    elif inspection.photos.count() >= MAX_PHOTOS:
        errors["file"] = [_("一次检查最多 %(n)d 张照片。") % {"n": MAX_PHOTOS}]
    if errors:
        raise ValidationFailed(fields=errors)
    cleaned = _clean_photos([{"file": fileobj, "name": name, "taken_at": taken_at, "latitude": latitude,
                              "longitude": longitude, "caption": caption}], inspection.inspected_at, errors)
    if errors:
        raise ValidationFailed(fields={("file" if k == "photos.0" else k): v for k, v in errors.items()})
    data, meta = cleaned[0]
    digest = hashlib.sha256(data).hexdigest()
    same = inspection.photos.filter(sha256=digest).first()
    if same is not None:  # the same picture sent again without a key
        return same, False
    camera = meta.pop("camera")
    photo = InspectionPhoto(inspection=inspection, sha256=digest, added_later=True, client_key=client_key,
                            exif_taken_at=camera.taken_at, exif_latitude=camera.latitude,
                            exif_longitude=camera.longitude, **meta)
    photo.file.save(f"{digest}.jpg", ContentFile(data), save=False)
    try:
        with transaction.atomic():
            photo.save()
    except IntegrityError:  # the same key, sent twice at once
        photo.file.delete(save=False)
        found = InspectionPhoto.objects.filter(client_key=client_key, inspection=inspection).first()
        if found is None:
            raise
        return found, False
    audit.record(actor=actor, action="inspection.photo_add", obj=photo,
                 after={"inspection": inspection.pk, "sha256": digest}, project_code=project.code,
                 division_path=project.division_path)
    anchor_on_commit(kind="inspection_photo", project_code=project.code, record=photo, actor=actor)
    return photo, True


# ---------------------------------------------------------------------------------------------
# village representatives' observations


def village_of(user: User) -> Any:
    """The village a representative speaks for (their division), or None."""
    from minsheng.core.models import DivisionLevel

    if user.role != Role.VILLAGE_REP or not user.division_id or user.division.level != DivisionLevel.VILLAGE:
        return None
    return user.division


def can_observe(user: User, project: Project) -> bool:
    """A village representative, on a project they can see: one in their village, or one that serves
    it and that they were assigned to."""
    if not user.is_active or village_of(user) is None:
        return False
    return projects_visible(user).filter(pk=project.pk).exists()


MAX_OBSERVATION_PHOTOS = 6


def _clean_observation_photos(photos: list[dict[str, Any]],
                              errors: dict[str, list[Any]]) -> list[tuple[bytes, Any, str]]:
    """Each photo checked and re-encoded without EXIF, as inspection photos are (photos.py)."""
    if len(photos) > MAX_OBSERVATION_PHOTOS:
        errors["photos"] = [_("一条记录最多 %(n)d 张照片。") % {"n": MAX_OBSERVATION_PHOTOS}]
        return []
    cleaned = []
    for photo in photos:
        try:
            data, camera = photo_checks.clean_photo_with_record(photo["file"], photo.get("name") or "photo.jpg")
        except ValidationFailed as exc:
            errors.setdefault("photos", []).extend(m for msgs in exc.fields.values() for m in msgs)
            continue
        cleaned.append((data, camera, str(photo.get("caption", "")).strip()[:128]))
    return cleaned


def observation_record(*, actor: User, project: Project, kind: str, text: str, concern: bool = False,
                       observed_at: dt.datetime | None = None,
                       photos: list[dict[str, Any]] | None = None) -> VillageObservation:
    """Record what a representative saw, with photos (dicts with file, name, caption) taken with it:
    they are part of the observation's anchored content, so none can be added afterwards."""
    _visible(actor, project)
    if not can_observe(actor, project):
        raise PermissionDenied(_("只有本村的村民代表可以记录监督情况。"))
    errors: dict[str, list[Any]] = {}
    if kind not in ObservationKind.values:
        errors["kind"] = [_("请选择类别。")]
    body = _text(text, "text", errors)
    when = observed_at or timezone.now()
    if timezone.is_naive(when) or when > timezone.now() + CLOCK_SLACK or when < timezone.now() - PHOTO_MAX_AGE:
        errors["observed_at"] = [_("时间须在最近 7 天之内。")]
    cleaned = _clean_observation_photos(photos or [], errors)
    if errors:
        raise ValidationFailed(fields=errors)
    with transaction.atomic():
        entry = VillageObservation.objects.create(project=project, author=actor, village=village_of(actor),
                                                  kind=kind, text=body, concern=bool(concern), observed_at=when)
        for data, camera, caption in cleaned:
            digest = hashlib.sha256(data).hexdigest()
            if entry.photos.filter(sha256=digest).exists():
                continue  # the same picture chosen twice
            photo = ObservationPhoto(observation=entry, sha256=digest, caption=caption,
                                     exif_taken_at=camera.taken_at, exif_latitude=camera.latitude,
                                     exif_longitude=camera.longitude)
            photo.file.save(f"{digest}.jpg", ContentFile(data), save=False)
            photo.save()
        audit.record(actor=actor, action="village_observation.create", obj=entry, after=audit.snapshot(entry),
                     project_code=project.code, division_path=project.division_path)
        anchor_on_commit(kind="village_observation", project_code=project.code, record=entry, actor=actor)
        people = {project.responsible_person, *User.objects.filter(memberships__project=project,
                                                                   memberships__role=MemberRole.SUPERVISOR)}
        text_ = str(_("村民代表监督：%(p)s —— %(t)s")) % {"p": project.name, "t": body[:60]}
        link = f"/console/projects/{project.pk}/observations/"
        for person in people:
            transaction.on_commit(lambda person=person: notify(recipient=person, kind="village_observation",
                                                               text=text_, link=link))
    return entry


# ---------------------------------------------------------------------------------------------
# rectification orders


@transaction.atomic
def rectification_issue(*, actor: User, project: Project, defect: str, deadline: dt.date,
                        contractor: User | None = None, inspection: SiteInspection | None = None) -> Rectification:
    """Send a defect to the contractor. Without `contractor`, the project's only contractor is meant."""
    _visible(actor, project)
    if inspector_kind_for(actor, project) is None:
        raise PermissionDenied(_("您不能对这个项目下达整改通知。"))
    errors: dict[str, list[Any]] = {}
    text = _text(defect, "defect", errors)
    if deadline < timezone.localdate():
        errors["deadline"] = [_("整改期限不能早于今天。")]
    if contractor is None:
        members = list(User.objects.filter(memberships__project=project, memberships__role=MemberRole.CONTRACTOR))
        contractor = members[0] if len(members) == 1 else None
        if contractor is None:
            errors["contractor"] = [_("请指定整改责任人（本项目的施工单位）。")]
    elif not is_member(contractor, project, MemberRole.CONTRACTOR):
        errors["contractor"] = [_("整改责任人须为本项目的施工单位。")]
    if inspection is not None and inspection.project_id != project.pk:
        errors["inspection"] = [_("该检查记录不属于本项目。")]
    if errors:
        raise ValidationFailed(fields=errors)
    order = Rectification.objects.create(project=project, inspection=inspection, defect=text,
                                         contractor=contractor, deadline=deadline, issued_by=actor)
    audit.record(actor=actor, action="rectification.issue", obj=order, after=audit.snapshot(order),
                 project_code=project.code, division_path=project.division_path)
    transaction.on_commit(lambda: notify(
        recipient=contractor, kind="rectification.issued",
        text=str(_("整改通知：%(p)s —— %(d)s，期限 %(t)s")) % {"p": project.name, "d": text[:60], "t": deadline},
        link=f"/console/projects/{project.pk}/supervision/",
    ))
    return order


@transaction.atomic
def rectification_close(*, actor: User, order: Rectification, reinspection: SiteInspection) -> Rectification:
    project = order.project
    _visible(actor, project)
    if inspector_kind_for(actor, project) is None:
        raise PermissionDenied(_("您不能复查这个项目。"))
    order = Rectification.objects.select_for_update().get(pk=order.pk)
    if order.status == RectificationStatus.CLOSED:
        raise Conflict(_("该整改通知已销号。"))
    errors: dict[str, list[Any]] = {}
    if reinspection.project_id != project.pk:
        errors["reinspection"] = [_("复查记录不属于本项目。")]
    # Forms record times to the minute, so compare with the minute the order was issued in.
    elif reinspection.inspected_at < order.issued_at.replace(second=0, microsecond=0):
        errors["reinspection"] = [_("复查须在整改通知下达之后。")]
    elif not reinspection.passed:
        errors["reinspection"] = [_("复查不合格，不能销号。")]
    if errors:
        raise ValidationFailed(fields=errors)
    before = audit.snapshot(order, ["status", "closed_at"])
    order.status = RectificationStatus.CLOSED
    order.reinspection = reinspection
    order.closed_by = actor
    order.closed_at = timezone.now()
    order.save(update_fields=["status", "reinspection", "closed_by", "closed_at"])
    audit.record(actor=actor, action="rectification.close", obj=order, before=before,
                 after=audit.snapshot(order, ["status", "closed_at"]), project_code=project.code,
                 division_path=project.division_path)
    anchor_on_commit(kind="rectification_closed", project_code=project.code, record=order, actor=actor)
    return order


def rectifications_escalate(*, today: dt.date | None = None) -> int:
    """Escalate open orders past their deadline (plus the jurisdiction's grace days): the project's
    responsible person and the contractor are notified. Returns how many were escalated."""
    today = today or timezone.localdate()
    count = 0
    candidates = Rectification.objects.filter(status=RectificationStatus.OPEN, deadline__lt=today).select_related(
        "project", "project__division", "project__responsible_person", "contractor"
    )
    for order in candidates:
        project = order.project
        grace = int(rule_for("construction.rectification_grace_days", project.division).value)
        if order.deadline + dt.timedelta(days=grace) >= today:
            continue
        with transaction.atomic():
            updated = Rectification.objects.filter(pk=order.pk, status=RectificationStatus.OPEN).update(
                status=RectificationStatus.ESCALATED, escalated_at=timezone.now()
            )
            if not updated:
                continue
            order.refresh_from_db()
            audit.record(actor=None, action="rectification.escalate", obj=order,
                         before={"status": RectificationStatus.OPEN}, after={"status": order.status},
                         project_code=project.code, division_path=project.division_path)
            text = str(_("整改逾期：%(p)s —— %(d)s（期限 %(t)s）")) % {
                "p": project.name, "d": order.defect[:60], "t": order.deadline}
            for person in {project.responsible_person, order.contractor}:
                notify(recipient=person, kind="rectification.overdue", text=text,
                       link=f"/console/projects/{project.pk}/supervision/", dedupe_key=f"rect-overdue:{order.pk}")
        count += 1
    return count


# ---------------------------------------------------------------------------------------------
# progress reports


@transaction.atomic
def progress_report(*, actor: User, project: Project, wbs_item: WbsItem, period_end: dt.date, progress: Any,
                    inspections: list[SiteInspection] = (), logs: list[SupervisionLog] = (),
                    photos: list[InspectionPhoto] = (), sensor_devices: list[str] = ()) -> ProgressReport:
    """A contractor's claim of progress on one sub-item. It must cite evidence of this project."""
    _visible(actor, project)
    if not can_report(actor, project):
        raise PermissionDenied(_("只有本项目的施工单位可以上报进度。"))
    errors: dict[str, list[Any]] = {}
    level = _percent(progress, "progress", errors)
    if wbs_item.project_id != project.pk:
        errors["wbs_item"] = [_("子项不属于本项目。")]
    if period_end > timezone.localdate():
        errors["period_end"] = [_("截至日期不能晚于今天。")]
    if not (inspections or logs or photos or sensor_devices):
        errors["evidence"] = [_("进度上报须引用证据：检查记录、照片、监理日志或传感器数据。")]
    foreign = [e for e in (*inspections, *logs) if e.project_id != project.pk]
    foreign += [p for p in photos if p.inspection.project_id != project.pk]
    if foreign:
        errors["evidence"] = [_("引用的证据不属于本项目。")]
    if sensor_devices:
        from minsheng.telemetry.models import Device

        known = set(Device.objects.filter(project=project, device_id__in=list(sensor_devices))
                    .values_list("device_id", flat=True))
        if known != set(sensor_devices):
            errors["sensor_devices"] = [_("引用的传感器不属于本项目。")]
    if errors:
        raise ValidationFailed(fields=errors)
    report = ProgressReport.objects.create(project=project, wbs_item=wbs_item, reported_by=actor,
                                           period_end=period_end, progress=level,
                                           sensor_devices=sorted(set(sensor_devices)))
    report.inspections.set(inspections)
    report.logs.set(logs)
    report.photos.set(photos)
    audit.record(actor=actor, action="progress_report.create", obj=report, after=audit.snapshot(report),
                 project_code=project.code, division_path=project.division_path)
    return report
