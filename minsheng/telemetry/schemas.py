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
