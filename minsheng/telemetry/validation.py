"""Checking telemetry messages. Pure: devices are passed in, nothing is read or written here.

A message is {"device": id, "token": credential, "readings": [{"t": ISO time, "metric", "value",
"unit"}]}. Each reading is accepted or rejected with a reason; nothing raises."""

from __future__ import annotations

import datetime as dt
import hmac
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from minsheng.telemetry.metrics import METRICS


class DeviceLike(Protocol):
    pk: int
    device_id: str
    kind: str
    credential_hash: str
    active: bool


class Row(NamedTuple):  # a tuple: made ~50,000 times a second by ingest
    device_pk: int
    time: dt.datetime
    metric: str
    value: float


@dataclass
class Checked:
    rows: list[Row] = field(default_factory=list)
    rejected: Counter = field(default_factory=Counter)  # (reason, device_id) → n


def _time(value: Any) -> dt.datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        try:
            return dt.datetime.fromtimestamp(value, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value)  # Python 3.11 reads "Z" too
        except ValueError:
            return None
        return parsed if parsed.tzinfo is not None else None
    return None


def check(messages: list[Any], devices: dict[str, DeviceLike], hash_fn: Any, *, now: dt.datetime,
          max_skew: dt.timedelta, max_backfill: dt.timedelta) -> Checked:
    out = Checked()
    for msg in messages:
        if not isinstance(msg, dict) or not isinstance(msg.get("readings"), list):
            out.rejected[("malformed", "")] += 1
            continue
        device_id = str(msg.get("device", ""))[:64]
        readings = msg["readings"]
        device = devices.get(device_id)
        if device is None or not device.active:
            out.rejected[("unknown_device", "")] += max(len(readings), 1)
            continue
        token = msg.get("token")
        if not isinstance(token, str) or not hmac.compare_digest(hash_fn(token), device.credential_hash):
            out.rejected[("bad_credential", device_id)] += max(len(readings), 1)
            continue
        allowed = METRICS.get(device.kind, {})
        latest, earliest = now + max_skew, now - max_backfill
        rows, pk = out.rows, device.pk
        for r in readings:
            when, reason = _check_reading(r, allowed, latest, earliest)
            if reason:
                out.rejected[(reason, device_id)] += 1
                continue
            rows.append(Row(pk, when, r["metric"], float(r["value"])))
    return out


def _check_reading(r: Any, allowed: dict, latest: dt.datetime,
                   earliest: dt.datetime) -> tuple[dt.datetime | None, str | None]:
    if not isinstance(r, dict):
        return None, "malformed"
    when = _time(r.get("t"))
    value = r.get("value")
    if when is None or isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None, "malformed"
    metric = allowed.get(r.get("metric"))
    if metric is None:
        return None, "unknown_metric"
    if r.get("unit") != metric.unit:
        return None, "wrong_unit"
    if not metric.low <= value <= metric.high:
        return None, "out_of_range"
    if when > latest or when < earliest:
        return None, "clock_skew"
    return when, None
