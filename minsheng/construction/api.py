"""Supervision API: logs, inspections (also synced from the phone, idempotently, with photos one by
one), rectification orders, progress reports, the progress gap and village representatives' observations."""

from __future__ import annotations

import datetime as dt
import uuid

from django.http import HttpRequest
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from ninja import File, Form, Router
from ninja.files import UploadedFile
from ninja.responses import Status

from minsheng.accounts.models import User
from minsheng.construction import selectors, services
from minsheng.construction.models import InspectionPhoto, SiteInspection, SupervisionLog
from minsheng.construction.schemas import (
    GapOut,
    InspectionIn,
    InspectionOut,
    InspectionSyncIn,
    LogIn,
    LogOut,
    ObservationIn,
    ObservationOut,
    PhotoOut,
    ProgressReportIn,
    ProgressReportOut,
    RectificationIn,
    RectificationOut,
)
from minsheng.core.errors import ValidationFailed
from minsheng.projects.models import WbsItem
from minsheng.projects.selectors import project_get

router = Router(tags=["construction"])


@router.get("/projects/{int:project_id}/progress-gap", response=GapOut,
            summary="Reported vs evidenced progress, and whether the project is flagged")
def progress_gap(request: HttpRequest, project_id: int):
    return selectors.progress_gap(project_get(request.user, pk=project_id))


@router.get("/projects/{int:project_id}/supervision-logs", response=list[LogOut])
def log_list(request: HttpRequest, project_id: int):
    return selectors.logs_for(project_get(request.user, pk=project_id))[:200]


@router.post("/projects/{int:project_id}/supervision-logs", response={201: LogOut})
def log_create(request: HttpRequest, project_id: int, payload: LogIn):
    project = project_get(request.user, pk=project_id)
    data = payload.dict()
    entry = services.log_record(actor=request.user, project=project, **data)
    return Status(201, entry)


@router.get("/projects/{int:project_id}/inspections", response=list[InspectionOut])
def inspection_list(request: HttpRequest, project_id: int):
    return selectors.inspections_for(project_get(request.user, pk=project_id))[:200]


@router.post("/projects/{int:project_id}/inspections", response={201: InspectionOut},
             summary="Record a site inspection (photos are added from the console or the phone app)")
def inspection_create(request: HttpRequest, project_id: int, payload: InspectionIn):
    project = project_get(request.user, pk=project_id)
    inspection = services.inspection_record(actor=request.user, project=project, **payload.dict())
    return Status(201, inspection)


@router.get("/projects/{int:project_id}/rectifications", response=list[RectificationOut])
def rectification_list(request: HttpRequest, project_id: int):
    return selectors.rectifications_for(project_get(request.user, pk=project_id))[:200]


@router.post("/projects/{int:project_id}/rectifications", response={201: RectificationOut})
def rectification_create(request: HttpRequest, project_id: int, payload: RectificationIn):
    project = project_get(request.user, pk=project_id)
    contractor = None
    if payload.contractor is not None:
        contractor = User.objects.filter(pk=payload.contractor).first()
        if contractor is None:
            raise ValidationFailed(fields={"contractor": [_("人员不存在。")]})
    inspection = None
    if payload.inspection is not None:
        inspection = SiteInspection.objects.filter(pk=payload.inspection, project=project).first()
        if inspection is None:
            raise ValidationFailed(fields={"inspection": [_("该检查记录不属于本项目。")]})
    order = services.rectification_issue(actor=request.user, project=project, defect=payload.defect,
                                         deadline=payload.deadline, contractor=contractor, inspection=inspection)
    return Status(201, order)


@router.post("/projects/{int:project_id}/progress-reports", response={201: ProgressReportOut},
             summary="Report progress of one WBS item, citing evidence")
def progress_report_create(request: HttpRequest, project_id: int, payload: ProgressReportIn):
    project = project_get(request.user, pk=project_id)
    item = WbsItem.objects.filter(pk=payload.wbs_item, project=project).first()
    if item is None:
        raise ValidationFailed(fields={"wbs_item": [_("子项不属于本项目。")]})
    # Evidence is looked up within this project only; an id from elsewhere simply isn't found.
    inspections = list(SiteInspection.objects.filter(project=project, pk__in=payload.inspections))
    logs = list(SupervisionLog.objects.filter(project=project, pk__in=payload.logs))
    photos = list(InspectionPhoto.objects.filter(inspection__project=project, pk__in=payload.photos))
    if (len(inspections), len(logs), len(photos)) != (len(set(payload.inspections)), len(set(payload.logs)),
                                                      len(set(payload.photos))):
        raise ValidationFailed(fields={"evidence": [_("引用的证据不属于本项目。")]})
    report = services.progress_report(actor=request.user, project=project, wbs_item=item,
                                      period_end=payload.period_end, progress=payload.progress,
                                      inspections=inspections, logs=logs, photos=photos,
                                      sensor_devices=payload.sensor_devices)
    return Status(201, report)


def _key(value: str | None, name: str = "idempotency_key", *, required: bool = True) -> uuid.UUID | None:
    if not value and not required:
        return None
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ValidationFailed(fields={name: [_("同步编号须为手机生成的 UUID。")]}) from None


@router.post("/inspections", response={200: InspectionOut, 201: InspectionOut},
             summary="Sync an inspection recorded on the phone (idempotent on idempotency_key)")
def inspection_sync(request: HttpRequest, payload: InspectionSyncIn):
    key = _key(payload.idempotency_key)
    project = project_get(request.user, pk=payload.project)
    data = payload.dict(exclude={"idempotency_key", "project"})
    inspection, created = services.inspection_sync(actor=request.user, project=project, client_key=key, **data)
    return Status(201 if created else 200, selectors.inspections_for(project).get(pk=inspection.pk))


def _when(value: str | None, name: str) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed(fields={name: [_("时间格式无效。")]})
    return parsed


@router.post("/inspections/{int:inspection_id}/photos", response={200: PhotoOut, 201: PhotoOut},
             summary="Upload one photo of an inspection (JPEG/PNG; EXIF removed; idempotent)")
def inspection_photo_add(request: HttpRequest, inspection_id: int, file: File[UploadedFile],
                         taken_at: Form[str] = "", latitude: Form[str] = "", longitude: Form[str] = "",
                         caption: Form[str] = "", idempotency_key: Form[str] = ""):
    inspection = selectors.inspection_get(request.user, pk=inspection_id)
    photo, created = services.inspection_photo_add(
        actor=request.user, inspection=inspection, fileobj=file, name=file.name or "photo.jpg",
        taken_at=_when(taken_at, "taken_at"), latitude=latitude or None, longitude=longitude or None,
        caption=caption, client_key=_key(idempotency_key, required=False))
    return Status(201 if created else 200, photo)


@router.get("/projects/{int:project_id}/observations", response=list[ObservationOut],
            summary="Village representatives' observations on a project")
def observation_list(request: HttpRequest, project_id: int):
    return selectors.observations_for(project_get(request.user, pk=project_id))[:200]


@router.post("/projects/{int:project_id}/observations", response={201: ObservationOut},
             summary="A village representative records what they saw on a project of their village")
def observation_create(request: HttpRequest, project_id: int, payload: ObservationIn):
    project = project_get(request.user, pk=project_id)
    entry = services.observation_record(actor=request.user, project=project, **payload.dict())
    return Status(201, entry)


@router.post("/projects/{int:project_id}/observations/with-photos", response={201: ObservationOut},
             summary="The same, with the photos taken with it (multipart/form-data: kind, text, concern, "
                     "observed_at, up to 6 files `photos` and as many `captions`); the photos are part of "
                     "the observation's anchored content, so they come in the same request")
def observation_create_with_photos(request: HttpRequest, project_id: int, kind: Form[str], text: Form[str],
                                   photos: File[list[UploadedFile]], concern: Form[bool] = False,
                                   observed_at: Form[str] = "", captions: Form[list[str]] = None):
    project = project_get(request.user, pk=project_id)
    captions = captions or []
    entry = services.observation_record(
        actor=request.user, project=project, kind=kind, text=text, concern=concern,
        observed_at=_when(observed_at, "observed_at"),
        photos=[{"file": f, "name": f.name or "photo.jpg", "caption": captions[i] if i < len(captions) else ""}
                for i, f in enumerate(photos)])
    return Status(201, entry)
