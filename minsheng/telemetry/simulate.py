"""`minsheng simulate`: realistic readings for the demo city's devices.

The value model is pure (a seeded random generator and the local time in, a value out): daily cycles,
quieter weekends, injected exceedances (night work on the elderly-home site), a leaking household
that never stops drawing water, a district meter with a high night flow, a stuck sensor and a dead
one. The command provisions the devices (rotating their credentials, which it keeps in memory) and
streams one message per device per tick over MQTT or HTTP."""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import urllib.request
from dataclasses import dataclass
from typing import Any

from minsheng.telemetry.metrics import DeviceKind


@dataclass(frozen=True)
class SimDevice:
    device_id: str
    kind: str
    name: str
    behaviour: str = "normal"  # normal, night_work, dusty, background, leak, stuck, dead, low_chlorine
    household: str = ""


SITE = (
    SimDevice("{case}-noise-1", DeviceKind.NOISE, "场界噪声监测（东侧）"),
    SimDevice("{case}-noise-2", DeviceKind.NOISE, "场界噪声监测（西侧）", "stuck"),
    SimDevice("{case}-dust-1", DeviceKind.DUST, "扬尘监测"),
    SimDevice("{case}-crane-1", DeviceKind.CRANE, "1 号塔吊"),
    # The county's background air station: the site's PM10 is judged net of it (registered as a
    # BackgroundStation of the project's county by `minsheng simulate`).
    SimDevice("{case}-dust-bg", DeviceKind.DUST, "区县背景站（PM10）", "background"),
)
WATER = (
    SimDevice("{case}-district-1", DeviceKind.FLOW_METER, "村级总表", "leak"),
    SimDevice("{case}-quality-1", DeviceKind.WATER_QUALITY, "末梢水质监测", "low_chlorine"),
    SimDevice("{case}-meter-1", DeviceKind.WATER_METER, "户表 1", household="王建国"),
    SimDevice("{case}-meter-2", DeviceKind.WATER_METER, "户表 2", "leak", household="李秀英"),
    SimDevice("{case}-meter-3", DeviceKind.WATER_METER, "户表 3", household="张德明"),
    SimDevice("{case}-meter-4", DeviceKind.WATER_METER, "户表 4", "dead", household="赵桂兰"),
)
_ELDERLY = {DeviceKind.NOISE: "night_work", DeviceKind.DUST: "dusty"}  # the site that breaks the rules
PLAN = {"elderly": tuple(SimDevice(d.device_id, d.kind, d.name, _ELDERLY.get(d.kind, d.behaviour)
                                   if d.behaviour == "normal" else d.behaviour) for d in SITE),
        "water": WATER, "elevator": SITE}


def _daily(hour: float, low: float, high: float) -> float:
    """Low at night, high mid-afternoon."""
    return low + (high - low) * (0.5 - 0.5 * math.cos(2 * math.pi * (hour - 3) / 24))


def readings_for(device: SimDevice, local: dt.datetime, rng: random.Random) -> list[dict[str, Any]]:
    """The readings one device sends at `local` (an aware local time); [] for a dead sensor."""
    if device.behaviour == "dead":
        return []
    hour = local.hour + local.minute / 60
    weekend = local.weekday() >= 5
    t = local.isoformat()
    working = 7 <= local.hour < 19 and not weekend
    if device.kind == DeviceKind.NOISE:
        if device.behaviour == "stuck":
            return [{"t": t, "metric": "laeq", "value": 57.3, "unit": "dB(A)"}]
        base = 62 + rng.gauss(0, 3) if working else 46 + rng.gauss(0, 2)
        if device.behaviour == "night_work" and (local.hour >= 22 or local.hour < 2):
            base = 63 + rng.gauss(0, 2)  # the contractor pours concrete at night
        laeq = round(min(max(base, 30), 120), 1)
        return [{"t": t, "metric": "laeq", "value": laeq, "unit": "dB(A)"},
                {"t": t, "metric": "lmax", "value": round(laeq + 8 + abs(rng.gauss(0, 4)), 1), "unit": "dB(A)"}]
    if device.kind == DeviceKind.DUST:
        pm10 = (70 if working else 45) + rng.gauss(0, 12) + (60 if rng.random() < 0.03 else 0)
        if device.behaviour == "background":
            pm10 = 40 + rng.gauss(0, 6)  # the region's air, no site work
        elif device.behaviour == "dusty" and working:
            pm10 += 60  # earthworks without dust nets: well above the region's air
        return [{"t": t, "metric": "pm10", "value": round(max(pm10, 5), 1), "unit": "ug/m3"},
                {"t": t, "metric": "pm25", "value": round(max(pm10 * 0.55, 3), 1), "unit": "ug/m3"}]
    if device.kind == DeviceKind.CRANE:
        load = (55 + rng.gauss(0, 15)) if working else 0.0
        if working and rng.random() < 0.02:
            load = 93 + rng.random() * 5
        return [{"t": t, "metric": "load_moment_pct", "value": round(min(max(load, 0), 120), 1), "unit": "%"},
                {"t": t, "metric": "wind_speed", "value": round(abs(rng.gauss(3, 1.5)), 1), "unit": "m/s"}]
    if device.kind == DeviceKind.WATER_METER:
        use = 0.0
        if 6 <= local.hour < 9 or 11 <= local.hour < 13 or 17 <= local.hour < 21:
            use = max(rng.gauss(60, 25), 0) if rng.random() < 0.6 else 0.0
        if device.behaviour == "leak":
            use += 4.0  # a running cistern: never a dry hour
        return [{"t": t, "metric": "flow", "value": round(use, 2), "unit": "L/h"}]
    if device.kind == DeviceKind.FLOW_METER:
        flow = _daily(hour, 0.2, 6.0) + rng.gauss(0, 0.2)
        if device.behaviour == "leak":
            flow += 1.2  # mains leak shows as a high night minimum
        return [{"t": t, "metric": "flow", "value": round(max(flow, 0), 2), "unit": "m3/h"}]
    if device.kind == DeviceKind.WATER_QUALITY:
        chlorine = 0.3 + rng.gauss(0, 0.05)
        if device.behaviour == "low_chlorine" and local.hour in (4, 5):
            chlorine = 0.03
        return [{"t": t, "metric": "turbidity", "value": round(max(0.4 + rng.gauss(0, 0.1), 0), 2), "unit": "NTU"},
                {"t": t, "metric": "chlorine", "value": round(max(chlorine, 0), 3), "unit": "mg/L"}]
    return []


def send_http(url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    if not url.startswith(("http://", "https://")):
        raise ValueError("the platform URL must start with http:// or https://")
    data = json.dumps({"messages": messages}).encode()
    req = urllib.request.Request(url.rstrip("/") + "/api/v1/telemetry", data=data,  # noqa: S310 - checked above
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - checked above
        return json.loads(resp.read())
