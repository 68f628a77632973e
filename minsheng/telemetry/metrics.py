"""What each kind of device may report: metric → unit and physical range. Pure data.

A reading outside the physical range is not "high", it is impossible (a broken or spoofed sensor)
and is rejected; legal limits are a separate matter (rules.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class DeviceKind(models.TextChoices):
    NOISE = "noise", _("噪声监测仪")
    DUST = "dust", _("扬尘监测仪（PM10/PM2.5）")
    CRANE = "crane", _("塔吊监控")
    WATER_METER = "water_meter", _("户用智能水表")
    FLOW_METER = "flow_meter", _("村级总表（分区计量）")
    WATER_QUALITY = "water_quality", _("水质监测仪（浊度、余氯）")
    BIKE_DOCK = "bike_dock", _("自行车桩使用")
    CAMERA = "camera", _("抓拍摄像机")


@dataclass(frozen=True)
class Metric:
    unit: str
    low: float
    high: float


METRICS: dict[str, dict[str, Metric]] = {
    DeviceKind.NOISE: {"laeq": Metric("dB(A)", 20, 140), "lmax": Metric("dB(A)", 20, 160)},
    DeviceKind.DUST: {"pm10": Metric("ug/m3", 0, 5000), "pm25": Metric("ug/m3", 0, 3000)},
    DeviceKind.CRANE: {"load_moment_pct": Metric("%", 0, 250), "wind_speed": Metric("m/s", 0, 80)},
    DeviceKind.WATER_METER: {"flow": Metric("L/h", 0, 5000), "volume": Metric("m3", 0, 1e7)},
    DeviceKind.FLOW_METER: {"flow": Metric("m3/h", 0, 5000), "volume": Metric("m3", 0, 1e9)},
    DeviceKind.WATER_QUALITY: {"turbidity": Metric("NTU", 0, 1000), "chlorine": Metric("mg/L", 0, 20)},
    DeviceKind.BIKE_DOCK: {"docked": Metric("count", 0, 500), "rentals": Metric("count", 0, 10000)},
    DeviceKind.CAMERA: {"snapshots": Metric("count", 0, 100000)},
}
