"""The SLA clock and working-day calendar: pure, no database."""

from __future__ import annotations

import datetime as dt

import pytest

from minsheng.feedback import sla

TZ = sla.TZ
CAL = sla.WorkCalendar()


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=TZ)


def test_official_holidays_and_make_up_days_come_from_chinese_calendar():
    assert not CAL.is_workday(dt.date(2026, 10, 1))  # National Day
    assert not CAL.is_workday(dt.date(2026, 9, 25))  # Mid-Autumn, a Friday
    assert CAL.is_workday(dt.date(2026, 10, 10))  # Saturday make-up working day
    assert CAL.is_workday(dt.date(2026, 9, 30))


def test_years_the_library_lacks_fall_back_to_weekdays_and_the_jurisdiction_table():
    assert sla.WorkCalendar.covered(2026)
    assert not sla.WorkCalendar.covered(2027)
    assert CAL.is_workday(dt.date(2027, 1, 1))  # a Friday: unknown holiday without the table
    assert not CAL.is_workday(dt.date(2027, 1, 2))  # Saturday
    table = sla.WorkCalendar.from_table({"2027": {"holidays": ["2027-01-01"], "workdays": ["2027-01-02"]}})
    assert not table.is_workday(dt.date(2027, 1, 1))
    assert table.is_workday(dt.date(2027, 1, 2))


def test_working_days_count_from_the_day_after_receipt_and_skip_the_golden_week():
    received = at(2026, 9, 30, 10)
    assert CAL.end_of_nth_workday_after(received, 0) == at(2026, 10, 1)
    assert CAL.end_of_nth_workday_after(received, 1) == at(2026, 10, 9)
    # 8 Oct, 9 Oct, then the Saturday make-up day 10 Oct.
    assert CAL.end_of_nth_workday_after(received, 3) == at(2026, 10, 11)


def test_working_seconds_ignore_holidays():
    assert CAL.working_seconds(at(2026, 9, 30, 12), at(2026, 10, 8, 12)) == 24 * 3600
    assert CAL.working_seconds(at(2026, 10, 2), at(2026, 10, 3)) == 0


def test_add_working_seconds_jumps_over_holidays():
    assert CAL.add_working_seconds(at(2026, 9, 30, 12), 24 * 3600) == at(2026, 10, 8, 12)


@pytest.mark.parametrize(
    ("now", "state"),
    [
        (at(2026, 6, 1, 10, 30), sla.State.OK),
        (at(2026, 6, 1, 10, 45), sla.State.WARNING),
        (at(2026, 6, 1, 10, 59), sla.State.WARNING),
        (at(2026, 6, 1, 11, 0), sla.State.BREACH),
    ],
)
def test_hour_budget_warns_at_75_percent_and_breaches_at_100(now, state):
    c = sla.clock(CAL, phase="first_contact", budget=sla.Budget.parse("1h"), received=at(2026, 6, 1, 10), now=now)
    assert c.state == state
    assert c.deadline == at(2026, 6, 1, 11)


def test_waiting_for_the_citizen_pauses_the_clock_and_moves_the_deadline():
    received = at(2026, 6, 1, 0)  # a Monday
    budget = sla.Budget.parse("1wd")  # due at the end of Tuesday: 48 working hours
    running = sla.clock(CAL, phase="reply", budget=budget, received=received, now=at(2026, 6, 2, 12))
    assert running.state == sla.State.WARNING
    paused = sla.clock(CAL, phase="reply", budget=budget, received=received, now=at(2026, 6, 2, 12),
                       waiting_since=at(2026, 6, 1, 12))
    assert paused.state == sla.State.OK
    resumed = sla.clock(CAL, phase="reply", budget=budget, received=received, now=at(2026, 6, 3, 14),
                        paused_seconds=24 * 3600)
    assert resumed.deadline == at(2026, 6, 4)
    assert resumed.state == sla.State.WARNING


def test_done_phases_are_met_or_late():
    kw = {"phase": "reply", "budget": sla.Budget.parse("0wd"), "received": at(2026, 6, 1, 9)}
    assert sla.clock(CAL, now=at(2026, 6, 5), done_at=at(2026, 6, 1, 20), **kw).state == sla.State.MET
    assert sla.clock(CAL, now=at(2026, 6, 5), done_at=at(2026, 6, 2, 1), **kw).state == sla.State.LATE


def test_same_day_budget_received_on_a_holiday_is_due_that_night():
    c = sla.clock(CAL, phase="reply", budget=sla.Budget.parse("0wd"), received=at(2026, 10, 2, 12),
                  now=at(2026, 10, 2, 22))
    assert c.deadline == at(2026, 10, 3)
    assert c.state == sla.State.WARNING


def test_escalation_steps():
    assert [sla.escalation_level(f) for f in (0.9, 1.0, 1.4, 1.5, 2.0, 5.0)] == [0, 1, 1, 2, 3, 3]


def test_budget_parse_refuses_unknown_units():
    with pytest.raises(ValueError):
        sla.Budget.parse("3d")


def test_threshold_instants_for_hour_budgets():
    got = sla.threshold_instants(CAL, budget=sla.Budget.parse("1h"), received=at(2026, 6, 1, 10))
    assert got == [at(2026, 6, 1, 10, 45), at(2026, 6, 1, 11), at(2026, 6, 1, 11, 30), at(2026, 6, 1, 12)]


def test_threshold_instants_agree_with_the_clock_across_holidays_and_pauses():
    """Randomized: the instant a threshold falls due is exactly where the clock's fraction crosses it."""
    import random

    rng = random.Random(4)
    for _ in range(200):
        received = at(2026, 9, 20) + dt.timedelta(minutes=rng.randrange(60 * 24 * 30))
        budget = sla.Budget.parse(rng.choice(["1h", "24h", "0wd", "1wd", "3wd", "13wd"]))
        paused = float(rng.choice([0, 3600, 86400]))
        instants = sla.threshold_instants(CAL, budget=budget, received=received, paused_seconds=paused)
        for f, when in zip(sla.THRESHOLDS, instants, strict=True):
            before = sla.clock(CAL, phase="p", budget=budget, received=received, paused_seconds=paused,
                               now=when - dt.timedelta(seconds=2)).fraction
            after = sla.clock(CAL, phase="p", budget=budget, received=received, paused_seconds=paused,
                              now=when + dt.timedelta(seconds=2)).fraction
            assert before < f <= after + 1e-9, (budget, received, paused, f, when, before, after)


# Stored clocks (clocks.py) decide from precomputed instants what the old scan computed per request with
# the calendar at scan time. Property: at any instant, the number of stored thresholds passed gives the
# same warning/breach state and escalation level as `sla.clock` — across official holidays, make-up
# working days (调休), a year covered only by the jurisdiction's table, and pauses.
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

TABLE_CAL = sla.WorkCalendar.from_table({"2027": {"holidays": ["2027-01-01", "2027-02-05", "2027-02-08",
                                                               "2027-02-09", "2027-02-10", "2027-02-11"],
                                                  "workdays": ["2027-02-06", "2027-02-20"]}})


@settings(max_examples=300, deadline=None)
@given(
    received=st.datetimes(min_value=dt.datetime(2024, 1, 1), max_value=dt.datetime(2027, 3, 1)),
    budget=st.sampled_from(["1h", "24h", "0wd", "1wd", "3wd", "5wd", "13wd", "15wd"]),
    paused=st.sampled_from([0.0, 59.0, 3600.0, 86400.0, 3 * 86400.0 + 17]),
    later=st.floats(min_value=0, max_value=80 * 86400),
    calendar=st.sampled_from([CAL, TABLE_CAL]),
)
def test_stored_instants_decide_like_the_calendar(received, budget, paused, later, calendar):
    received = received.replace(tzinfo=TZ)
    budget = sla.Budget.parse(budget)
    instants = sla.threshold_instants(calendar, budget=budget, received=received, paused_seconds=paused)
    assert instants == sorted(instants)
    now = received + dt.timedelta(seconds=later)
    if any(abs((now - t).total_seconds()) < 1 for t in instants):
        return  # exactly on a threshold: float rounding of the fraction decides either way
    c = sla.clock(calendar, phase="p", budget=budget, received=received, now=now, paused_seconds=paused)
    passed = sum(1 for t in instants if t <= now)
    assert (passed >= 1) == (c.state in (sla.State.WARNING, sla.State.BREACH))
    assert (passed >= 2) == (c.state == sla.State.BREACH)
    assert max(passed - 1, 0) == (sla.escalation_level(c.fraction) if c.state == sla.State.BREACH else 0)
    # The 100 % instant is the clock's deadline — except for a same-day budget received on a day off, where
    # the clock measures wall-clock time but reports the deadline pushed to a working day (`sla.clock`).
    day_off_same_day = budget.unit is sla.Unit.WORKDAYS and calendar.working_seconds(
        received, calendar.end_of_nth_workday_after(received, budget.amount)) <= 0
    assert instants[1] == c.deadline or (day_off_same_day and paused)


def test_a_deadline_at_the_end_of_a_working_day_does_not_slip_past_the_weekend():
    """Found by the property above: float seconds summed over days drifted by a microsecond and pushed
    the 100 % instant of a 3-working-day budget from Friday midnight to Monday."""
    received = dt.datetime(2024, 3, 12, 22, 0, 0, 66, tzinfo=TZ)
    instants = sla.threshold_instants(CAL, budget=sla.Budget.parse("3wd"), received=received)
    assert instants[1] == at(2024, 3, 16) == CAL.end_of_nth_workday_after(received, 3)


def test_a_clock_resting_on_its_deadline_over_a_weekend_is_in_breach():
    """Found by the property above: a 1-working-day budget with a day's pause reaches 100 % at Friday
    midnight and stays there all weekend; float seconds left it a hair below 1 (a warning) while the
    stored instant said breach."""
    received = dt.datetime(2024, 1, 10, 16, 0, 31, 44866, tzinfo=TZ)
    now = received + dt.timedelta(seconds=201570)  # Saturday, just after midnight
    budget = sla.Budget.parse("1wd")
    instants = sla.threshold_instants(CAL, budget=budget, received=received, paused_seconds=86400.0)
    c = sla.clock(CAL, phase="p", budget=budget, received=received, now=now, paused_seconds=86400.0)
    assert instants[1] <= now and c.state == sla.State.BREACH and c.fraction == 1.0
