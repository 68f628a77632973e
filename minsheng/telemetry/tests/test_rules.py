"""Pure rule selection and evaluation."""

from __future__ import annotations

import datetime as dt

from minsheng.telemetry.rules import RuleSpec, applicable, rules_in_force, violated

D = dt.date(2026, 6, 1)


def rule(code="noise_night", limit=55.0, hours=(22, 6), path=None, valid_from=dt.date(2012, 7, 1), valid_to=None,
         metric="laeq", comparator=">", kind="noise", pk=1):
    return RuleSpec(pk, code, kind, metric, comparator, limit, hours[0] if hours else None,
                    hours[1] if hours else None, "major", path, valid_from, valid_to)


def test_night_window_wraps_past_midnight():
    rules = rules_in_force([rule(), rule("noise_day", 70.0, (6, 22), pk=2)], on=D, division_path="/1/")
    assert [r.code for r in applicable(rules, kind="noise", metric="laeq", local_hour=23)] == ["noise_night"]
    assert [r.code for r in applicable(rules, kind="noise", metric="laeq", local_hour=3)] == ["noise_night"]
    assert [r.code for r in applicable(rules, kind="noise", metric="laeq", local_hour=6)] == ["noise_day"]
    assert applicable(rules, kind="dust", metric="laeq", local_hour=3) == []


def test_nearest_region_and_newest_version_win():
    national = rule(limit=55.0, pk=1)
    local = rule(limit=50.0, path="/1/7/", pk=2)
    old_local = rule(limit=45.0, path="/1/7/", valid_from=dt.date(2000, 1, 1), valid_to=dt.date(2020, 1, 1), pk=3)
    chosen = rules_in_force([national, local, old_local], on=D, division_path="/1/7/42/")
    assert chosen["noise_night"].limit == 50.0
    assert rules_in_force([national, local], on=D, division_path="/1/8/")["noise_night"].limit == 55.0
    assert rules_in_force([old_local], on=D, division_path="/1/7/") == {}


def test_limits_above_and_below():
    assert violated(rule(limit=55.0), 55.1) and not violated(rule(limit=55.0), 55.0)
    low = rule("chlorine_low", 0.05, None, metric="chlorine", comparator="<", kind="water_quality")
    assert violated(low, 0.04) and not violated(low, 0.05)
