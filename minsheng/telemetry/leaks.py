"""Leak detection for rural drinking water. Pure: readings are (local time, flow) pairs.

- Night minimum flow (MNF): the lowest flow in the 02:00–04:00 window, when almost nobody draws
  water; a district meter whose MNF stays above the allowance points at a leak in the mains.
- A household meter that never shows a zero-flow hour in 24 hours is a suspected leak behind the
  meter (a running tap or cistern, a burst pipe in the yard).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

NIGHT_FROM, NIGHT_TO = 2, 4  # local hours, [from, to)
MIN_HOURS_COVERED = 20  # fewer hourly buckets with data than this: not enough to judge


@dataclass(frozen=True)
class NightFlow:
    night: dt.date  # the date the window falls on
    minimum: float | None  # None: no reading in the window
    suspected: bool


def night_minimum_flow(readings: list[tuple[dt.datetime, float]], night: dt.date, *, allowance: float) -> NightFlow:
    window = [flow for at, flow in readings if at.date() == night and NIGHT_FROM <= at.hour < NIGHT_TO]
    if not window:
        return NightFlow(night, None, False)
    low = min(window)
    return NightFlow(night, low, low > allowance)


@dataclass(frozen=True)
class ZeroHours:
    hours_covered: int
    zero_hours: int
    suspected: bool
    judged: bool  # False: too few hours with data


def no_zero_flow_hour(readings: list[tuple[dt.datetime, float]], end: dt.datetime) -> ZeroHours:
    """Over the 24 hours before `end`: how many hourly buckets had data, how many had no flow at all."""
    start = end - dt.timedelta(hours=24)
    buckets: dict[int, float] = defaultdict(float)
    for at, flow in readings:
        if start <= at < end:
            index = int((at - start).total_seconds() // 3600)
            buckets[index] = max(buckets[index], flow)
    covered = len(buckets)
    zero = sum(1 for peak in buckets.values() if peak <= 0)
    judged = covered >= MIN_HOURS_COVERED
    return ZeroHours(covered, zero, judged and zero == 0, judged)
