"""Pure leak detection for rural drinking water."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from minsheng.telemetry.leaks import night_minimum_flow, no_zero_flow_hour

SH = ZoneInfo("Asia/Shanghai")
NIGHT = dt.date(2026, 11, 20)


def at(hour, minute=0, day=NIGHT):
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SH)


def test_night_minimum_flow_uses_only_the_two_to_four_window():
    readings = [(at(1, 50), 0.1), (at(2, 0), 1.8), (at(3, 30), 1.2), (at(4, 0), 0.0), (at(12), 9.0)]
    mnf = night_minimum_flow(readings, NIGHT, allowance=0.5)
    assert mnf.minimum == 1.2 and mnf.suspected
    assert not night_minimum_flow(readings, NIGHT, allowance=1.5).suspected


def test_no_reading_in_the_window_is_no_verdict():
    mnf = night_minimum_flow([(at(12), 3.0)], NIGHT, allowance=0.0)
    assert mnf.minimum is None and not mnf.suspected


def test_household_without_a_single_dry_hour_is_suspected():
    end = at(0, day=NIGHT + dt.timedelta(days=1))
    trickle = [(end - dt.timedelta(minutes=30 + 60 * h), 2.0) for h in range(24)]
    result = no_zero_flow_hour(trickle, end)
    assert result.hours_covered == 24 and result.zero_hours == 0 and result.suspected
    normal = [(t, 0.0 if 1 <= t.hour < 5 else f) for t, f in trickle]
    assert not no_zero_flow_hour(normal, end).suspected and no_zero_flow_hour(normal, end).zero_hours == 4


def test_too_little_data_is_not_judged():
    end = at(0, day=NIGHT + dt.timedelta(days=1))
    sparse = [(end - dt.timedelta(minutes=30 + 60 * h), 2.0) for h in range(10)]
    result = no_zero_flow_hour(sparse, end)
    assert not result.judged and not result.suspected
