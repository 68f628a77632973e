from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from ninja import Field, Schema


class TelemetryIn(Schema):
    messages: list[dict[str, Any]] = Field(
        ..., description='[{"device": id, "token": credential, "readings": [{"t", "metric", "value", "unit"}]}]')


class TelemetryOut(Schema):
    accepted: int
    rejected: dict[str, int]


class DeviceOut(Schema):
    id: int
    device_id: str
    kind: str
    name: str
    location: str
    latitude: Decimal | None
    longitude: Decimal | None
    last_seen_at: dt.datetime | None
    offline: bool
    active: bool
    small_supply: bool = Field(..., description="a small centralised or dispersed water supply (GB 5749-2022 "
                                                 "relaxed limits apply)")

    @staticmethod
    def resolve_offline(obj: Any) -> bool:
        return obj.is_offline()


class AlarmOut(Schema):
    id: int
    alarm_type: str
    device_id: str = Field(alias="device.device_id")
    severity: str
    status: str
    acknowledged: bool
    closed: bool
    message: str
    value: float | None
    count: int
    first_at: dt.datetime
    last_at: dt.datetime


class ReadingOut(Schema):
    time: dt.datetime
    metric: str
    value: float


class LatestOut(Schema):
    metric: str
    unit: str
    time: dt.datetime
    value: float


class DeviceDetailOut(DeviceOut):
    project_id: int
    household: str
    offline_after_minutes: int
    latest: list[LatestOut] = Field(..., description="the latest value of each metric (last 7 days)")
    readings: list[ReadingOut] = Field(..., alias="recent_readings",
                                       description="the most recent readings, newest first")
    open_alarms: list[AlarmOut]


class AlarmEventOut(Schema):
    at: dt.datetime
    action: str
    actor: str | None = None
    comment: str

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.display_name if obj.actor_id else None


class AlarmDetailOut(AlarmOut):
    project_id: int
    assignee_id: int | None
    acknowledged_at: dt.datetime | None
    cleared_at: dt.datetime | None
    history: list[AlarmEventOut]


class AlarmCommentIn(Schema):
    comment: str = ""


class AlarmAssignIn(Schema):
    assignee: int
