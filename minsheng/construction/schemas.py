from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class QuantityIn(Schema):
    item: str
    quantity: str
    unit: str


class LogIn(Schema):
    date: dt.date
    weather: str
    work_done: str
    workers: int
    quantities: list[QuantityIn] = []
    issues: str = ""


class LogOut(Schema):
    id: int
    date: dt.date
    weather: str
    work_done: str
    workers: int
    quantities: list[dict[str, Any]]
    issues: str
    supervisor: str = Field(alias="supervisor.display_name")


class InspectionIn(Schema):
    inspected_at: dt.datetime
    checklist: dict[str, str] = Field(description='question → "ok" | "defect" | "na"')
    passed: bool
    notes: str = ""
    latitude: str | None = None
    longitude: str | None = None
    village_representative: str = ""
    confirmed: dict[int, str] = Field({}, description="WBS item id → progress (%) seen on site")


class InspectionSyncIn(InspectionIn):
    idempotency_key: str = Field(..., description="UUID made on the phone for this draft; a retried sync "
                                                  "with the same key stores nothing twice")
    project: int


class PhotoOut(Schema):
    id: int
    sha256: str
    taken_at: dt.datetime
    latitude: Decimal
    longitude: Decimal
    caption: str = ""


class InspectionOut(Schema):
    id: int
    inspected_at: dt.datetime
    inspector: str = Field(alias="inspector.display_name")
    inspector_kind: str
    village_representative: str
    checklist: dict[str, str]
    passed: bool
    notes: str
    photos: list[PhotoOut]


class RectificationIn(Schema):
    defect: str
    deadline: dt.date
    contractor: int | None = None
    inspection: int | None = None


class RectificationOut(Schema):
    id: int
    defect: str
    deadline: dt.date
    status: str
    contractor: str = Field(alias="contractor.display_name")
    issued_at: dt.datetime
    escalated_at: dt.datetime | None
    closed_at: dt.datetime | None
    inspection_id: int | None
    reinspection_id: int | None


class ProgressReportIn(Schema):
    wbs_item: int
    period_end: dt.date
    progress: str
    inspections: list[int] = []
    logs: list[int] = []
    photos: list[int] = []
    sensor_devices: list[str] = []


class ProgressReportOut(Schema):
    id: int
    wbs_item_id: int
    period_end: dt.date
    progress: Decimal


class ItemGapOut(Schema):
    item_id: int
    label: str
    reported: Decimal
    evidenced: Decimal
    gap: Decimal
    reasons: list[str]


class GapOut(Schema):
    reported: Decimal
    evidenced: Decimal
    gap: Decimal
    threshold: Decimal
    flagged: bool
    reasons: list[str]
    items: list[ItemGapOut]


class ObservationIn(Schema):
    kind: str = Field(..., description="progress | quality | safety | water | other")
    text: str
    concern: bool = False
    observed_at: dt.datetime | None = None


class ObservationPhotoOut(Schema):
    id: int
    sha256: str
    caption: str
    url: str = Field(..., description="the photo (JPEG without EXIF), for those who can see the project")

    @staticmethod
    def resolve_url(obj: Any) -> str:
        from django.urls import reverse

        return reverse("construction:observation_photo", args=[obj.pk])


class ObservationOut(Schema):
    id: int
    project_id: int
    kind: str
    text: str
    concern: bool
    observed_at: dt.datetime
    author: str = Field(alias="author.display_name")
    village: str = Field(alias="village.name")
    photos: list[ObservationPhotoOut] = Field(..., description="photos taken with it (console form, or "
                                                              "POST …/observations/with-photos)")

    @staticmethod
    def resolve_photos(obj: Any) -> list[Any]:
        return list(obj.photos.all())
