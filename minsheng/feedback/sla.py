"""SLA clocks on a working-day calendar. Pure: no ORM, no Django.

Working days are China's official calendar: public holidays off, make-up working days (调休) on.
`chinese_calendar` supplies the official calendar for the years it covers (2004–2026 in the
installed version); for any other year the calendar falls back to "Monday–Friday are working days"
corrected by a per-jurisdiction table of holidays and make-up days (`feedback.holiday_table`), which
must be filled in once the State Council publishes the year's arrangement. `covered(year)` tells
the UI which source applies.

A budget is either wall-clock hours ("contact within 1 hour") or working days counted from the day
after receipt ("reply within 13 working days"; 0 means "the same day"). A clock measures working
time elapsed minus time paused while waiting for the citizen; warning at 75 %, breach at 100 %.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar

TZ = ZoneInfo("Asia/Shanghai")
WARNING_AT = 0.75
DAY = dt.timedelta(days=1)


@functools.lru_cache(maxsize=8192)
def _official_workday(day: dt.date) -> bool | None:
    """The official calendar's answer, or None for a year it does not cover. Cached: the library
    validates the date against its whole table on every call (about 20 µs), and an SLA scan asks
    about the same few hundred days millions of times."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass(frozen=True)
class WorkCalendar:
    """`extra_holidays` / `extra_workdays` come from the jurisdiction's table, as ISO dates; they
    apply in every year (and override the library where a city has its own day off)."""

    extra_holidays: frozenset[dt.date] = field(default_factory=frozenset)
    extra_workdays: frozenset[dt.date] = field(default_factory=frozenset)

    @classmethod
    def from_table(cls, table: Mapping[str, Mapping[str, Iterable[str]]] | None) -> WorkCalendar:
        """`{"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-02-06"]}}` → calendar."""
        holidays: set[dt.date] = set()
        workdays: set[dt.date] = set()
        for _year, days in (table or {}).items():
            holidays.update(dt.date.fromisoformat(d) for d in days.get("holidays", ()))
            workdays.update(dt.date.fromisoformat(d) for d in days.get("workdays", ()))
        return cls(frozenset(holidays), frozenset(workdays))

    @staticmethod
    def covered(year: int) -> bool:
        """True when the official calendar for `year` is known to the library."""
        try:
            chinese_calendar.is_workday(dt.date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        official = _official_workday(day)
        return day.weekday() < 5 if official is None else official

    def working_seconds(self, start: dt.datetime, end: dt.datetime) -> float:
        """Seconds between two instants that fall on working days (Asia/Shanghai)."""
        if end <= start:
            return 0.0
        start, end = start.astimezone(TZ), end.astimezone(TZ)
        total = dt.timedelta(0)  # summed exactly (microseconds), converted once
        day = start.date()
        while day <= end.date():
            if self.is_workday(day):
                lo = max(start, dt.datetime.combine(day, dt.time(), TZ))
                hi = min(end, dt.datetime.combine(day + DAY, dt.time(), TZ))
                if hi > lo:
                    total += hi - lo
            day += DAY
        return total.total_seconds()

    def end_of_nth_workday_after(self, received: dt.datetime, n: int) -> dt.datetime:
        """End of the n-th working day counted from the day after `received` (n=0: end of that day)."""
        day = received.astimezone(TZ).date()
        counted = 0
        while counted < n:
            day += DAY
            if self.is_workday(day):
                counted += 1
        return dt.datetime.combine(day + DAY, dt.time(), TZ)

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The instant `seconds` of working time after `start` (used to push a deadline past a pause)."""
        at = start.astimezone(TZ)
        left = seconds
        while left > 0:
            next_midnight = dt.datetime.combine(at.date() + DAY, dt.time(), TZ)
            if self.is_workday(at.date()):
                span = (next_midnight - at).total_seconds()
                # Within a microsecond counts as this day: sums of float seconds drift, and a deadline at
                # the end of a working day must not slip past the following days off.
                if span + 1e-6 >= left:
                    return at + dt.timedelta(seconds=min(left, span))
                left -= span
            at = next_midnight
        return at


class Unit(StrEnum):
    HOURS = "hours"
    WORKDAYS = "workdays"


@dataclass(frozen=True)
class Budget:
    amount: int
    unit: Unit

    @classmethod
    def parse(cls, text: str) -> Budget:
        """"1h" → 1 hour; "13wd" → 13 working days."""
        text = text.strip()
        if text.endswith("wd"):
            return cls(int(text[:-2]), Unit.WORKDAYS)
        if text.endswith("h"):
            return cls(int(text[:-1]), Unit.HOURS)
        raise ValueError(f"budget must end in 'h' or 'wd': {text!r}")


class State(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACH = "breach"
    MET = "met"
    LATE = "late"


@dataclass(frozen=True)
class Clock:
    phase: str
    deadline: dt.datetime
    fraction: float  # share of the budget used (paused time excluded)
    state: State


def clock(
    calendar: WorkCalendar,
    *,
    phase: str,
    budget: Budget,
    received: dt.datetime,
    now: dt.datetime,
    done_at: dt.datetime | None = None,
    paused_seconds: float = 0.0,
    waiting_since: dt.datetime | None = None,
) -> Clock:
    """Where a phase's clock stands at `now` (or stood when it was done)."""
    until = done_at or now
    if budget.unit is Unit.HOURS:
        base_deadline = received + dt.timedelta(hours=budget.amount)
        total = (base_deadline - received).total_seconds()
        paused = paused_seconds + (max(0.0, (until - waiting_since).total_seconds()) if waiting_since else 0.0)
        elapsed = (until - received).total_seconds() - paused
        deadline = base_deadline + dt.timedelta(seconds=paused)
    else:
        base_deadline = calendar.end_of_nth_workday_after(received, budget.amount)
        total = calendar.working_seconds(received, base_deadline)
        paused = paused_seconds + (calendar.working_seconds(waiting_since, until) if waiting_since else 0.0)
        elapsed = calendar.working_seconds(received, until) - paused
        deadline = calendar.add_working_seconds(base_deadline, paused) if paused else base_deadline
    # A request received on a holiday with a same-day budget has no working time at all: it is due at
    # the end of that day, measured in wall-clock time.
    if total <= 0:
        total = max(1.0, (base_deadline - received).total_seconds())
        elapsed = (until - received).total_seconds() - paused
    # Rounded to nine places: over days off the clock rests exactly on a threshold, and float seconds
    # must not leave it a hair below (the stored instants in clocks.py say it has passed).
    fraction = max(0.0, round(elapsed / total, 9))
    if done_at is not None:
        state = State.MET if done_at <= deadline else State.LATE
    elif fraction >= 1.0:
        state = State.BREACH
    elif fraction >= WARNING_AT:
        state = State.WARNING
    else:
        state = State.OK
    return Clock(phase, deadline, fraction, state)


# Breach escalates step by step: at 100 % the unit head, at 150 % the department's division
# leaders, at 200 % the division's coordinating office.
ESCALATION_STEPS = ((1.0, 1), (1.5, 2), (2.0, 3))


def escalation_level(fraction: float) -> int:
    level = 0
    for at, lvl in ESCALATION_STEPS:
        if fraction >= at:
            level = lvl
    return level


THRESHOLDS = (WARNING_AT, *(at for at, _lvl in ESCALATION_STEPS))


def threshold_instants(
    calendar: WorkCalendar, *, budget: Budget, received: dt.datetime, paused_seconds: float = 0.0
) -> list[dt.datetime]:
    """When a running phase reaches 75 %, 100 %, 150 % and 200 % of its budget (the same measure as
    `clock`: working time for working-day budgets, wall-clock for hour budgets; pauses pushed out)."""
    if budget.unit is Unit.HOURS:
        total = budget.amount * 3600.0
        return [received + dt.timedelta(seconds=f * total + paused_seconds) for f in THRESHOLDS]
    base_deadline = calendar.end_of_nth_workday_after(received, budget.amount)
    total = calendar.working_seconds(received, base_deadline)
    if total <= 0:  # a same-day budget received on a day off: wall-clock, as in `clock`
        total = max(1.0, (base_deadline - received).total_seconds())
        return [received + dt.timedelta(seconds=f * total + paused_seconds) for f in THRESHOLDS]
    return [calendar.add_working_seconds(received, f * total + paused_seconds) for f in THRESHOLDS]
