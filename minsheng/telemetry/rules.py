"""Which alarm rules apply to a reading, and whether it breaks them. Pure: rules are plain values.

A rule applies to a device kind and metric, in local hours [hour_from, hour_to) (wrapping past
midnight, so 22→6 is the night), in a region (the rule on the nearest division wins over a wider
one, a rule with no division applies everywhere) and within its validity dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

OFFLINE = "device_offline"


@dataclass(frozen=True)
class RuleSpec:
    pk: int
    code: str
    device_kind: str
    metric: str
    comparator: str
    limit: float | None
    hour_from: int | None
    hour_to: int | None
    severity: str
    division_path: str | None  # None: everywhere
    valid_from: dt.date
    valid_to: dt.date | None
    window_minutes: int | None = None  # windowed (scheduler, roll-ups) rather than per reading
    net_of_background: bool = False
    daily_allowance: int | None = None
    small_supply: bool | None = None  # None: any device; else only devices with that flag


def in_hours(rule: RuleSpec, hour: int) -> bool:
    if rule.hour_from is None or rule.hour_to is None:
        return True
    if rule.hour_from <= rule.hour_to:
        return rule.hour_from <= hour < rule.hour_to
    return hour >= rule.hour_from or hour < rule.hour_to


def in_force(rule: RuleSpec, *, on: dt.date, division_path: str) -> bool:
    if on < rule.valid_from or (rule.valid_to is not None and on > rule.valid_to):
        return False
    return rule.division_path is None or division_path.startswith(rule.division_path)


def rules_in_force(rules: list[RuleSpec], *, on: dt.date, division_path: str) -> dict[str, RuleSpec]:
    """code → the version of the rule that governs this place on this day."""
    best: dict[str, RuleSpec] = {}
    for rule in rules:
        if not in_force(rule, on=on, division_path=division_path):
            continue
        key = (len(rule.division_path or ""), rule.valid_from)
        current = best.get(rule.code)
        if current is None or key > (len(current.division_path or ""), current.valid_from):
            best[rule.code] = rule
    return best


def applicable(rules: dict[str, RuleSpec], *, kind: str, metric: str, local_hour: int,
               small_supply: bool = False) -> list[RuleSpec]:
    """The per-reading rules for one reading (windowed rules are judged by the scheduler)."""
    return [r for r in rules.values()
            if r.metric == metric and r.device_kind in ("", kind) and r.window_minutes is None
            and (r.small_supply is None or r.small_supply == small_supply) and in_hours(r, local_hour)]


def violated(rule: RuleSpec, value: float) -> bool:
    if rule.limit is None:
        return False
    return value > rule.limit if rule.comparator == ">" else value < rule.limit
