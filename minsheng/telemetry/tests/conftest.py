from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from django.utils import timezone

from minsheng.telemetry.metrics import DeviceKind
from minsheng.telemetry.models import Device
from minsheng.testing.factories import project_in


def make_device(project: Any, kind: str = DeviceKind.NOISE, **extra: Any) -> tuple[Device, str]:
    device = Device(device_id=extra.pop("device_id", f"t-{uuid.uuid4().hex[:12]}"), kind=kind,
                    name=extra.pop("name", "围挡噪声监测"), project=project, **extra)
    raw = device.set_credential()
    device.save()
    return device, raw


def reading(metric: str = "laeq", value: float = 62.0, unit: str = "dB(A)", at: dt.datetime | None = None) -> dict:
    return {"t": (at or timezone.now()).isoformat(), "metric": metric, "value": value, "unit": unit}


@pytest.fixture
def project(org):
    return project_in(org, "a")


@pytest.fixture
def noise(project):
    return make_device(project)
