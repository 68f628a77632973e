"""Earned value, pure: no ORM. Money is Decimal yuan; indices are Decimal rounded to 4 places.

PV comes from a baseline of segments (work planned to run linearly from `start` to `end`, carrying
`weight` of the budget at completion); EV = BAC × measured progress; AC = paid amounts.
SPI = EV/PV, CPI = EV/AC, EAC = BAC/CPI, TCPI = (BAC − EV)/(BAC − AC) (DOMAIN.md "Money and progress").

SPI drifts back to 1.0 late in a project (at the end PV = BAC and EV catches up), so schedule health
uses earned schedule: ES is the date on which the baseline planned what has now been earned;
SPI(t) = ES / AT and the slip is AT − ES in days.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
ONE = Decimal(1)
CENT = Decimal("0.01")
Q4 = Decimal("0.0001")

AMBER_BELOW = Decimal("0.95")
RED_BELOW = Decimal("0.90")
TCPI_GAP_RED = Decimal("0.10")
TCPI_AFTER_COMPLETE = Decimal("0.20")

GREEN, AMBER, RED = "green", "amber", "red"
SEVERITY = {GREEN: 0, AMBER: 1, RED: 2}


@dataclass(frozen=True)
class Segment:
    """Work planned to progress linearly from `start` to `end` (inclusive of the end day)."""

    start: dt.date
    end: dt.date
    weight: Decimal


def planned_fraction(segments: list[Segment], on: dt.date) -> Decimal:
    """The share (0–1) of the whole planned to be done by the end of day `on`."""
    total = sum((s.weight for s in segments if s.weight > 0), ZERO)
    if total <= 0:
        return ZERO
    done = ZERO
    for s in segments:
        if s.weight <= 0:
            continue
        if on >= s.end:
            done += s.weight
        elif on > s.start:
            done += s.weight * Decimal((on - s.start).days) / Decimal((s.end - s.start).days)
    return min(ONE, max(ZERO, done / total))


def milestone_segments(start: dt.date, milestones: list[tuple[dt.date, Decimal]]) -> list[Segment]:
    """Contract milestones in due-date order: the work paid at each runs from the previous due date."""
    out: list[Segment] = []
    previous = start
    for due, amount in sorted(milestones, key=lambda m: m[0]):
        begin = min(previous, due)
        out.append(Segment(begin, due, amount))
        previous = max(previous, due)
    return out


def wbs_segments(start: dt.date, items: list[tuple[dt.date, Decimal]]) -> list[Segment]:
    """WBS items with weights and due dates: each is planned to progress from the project's start to its due date."""
    return [Segment(min(start, due), due, weight) for due, weight in items]


def earned_schedule(segments: list[Segment], start: dt.date, fraction_earned: Decimal) -> dt.date | None:
    """The first day on which the baseline planned `fraction_earned` of the work (None without a baseline).
    Searched by bisection over days: planned_fraction is non-decreasing in time."""
    if not segments or sum((s.weight for s in segments), ZERO) <= 0:
        return None
    if fraction_earned <= 0:
        return start
    end = max(s.end for s in segments)
    lo, hi = start, max(end, start)
    if planned_fraction(segments, hi) < fraction_earned:
        return hi
    while lo < hi:
        mid = lo + (hi - lo) // 2
        if planned_fraction(segments, mid) >= fraction_earned:
            hi = mid
        else:
            lo = mid + dt.timedelta(days=1)
    return lo


def _ratio(a: Decimal, b: Decimal) -> Decimal | None:
    if b == 0:
        return None
    return (a / b).quantize(Q4, ROUND_HALF_UP)


@dataclass(frozen=True)
class Measures:
    bac: Decimal
    pv: Decimal
    ev: Decimal
    ac: Decimal
    spi: Decimal | None
    cpi: Decimal | None
    eac: Decimal | None
    tcpi: Decimal | None
    spi_t: Decimal | None = None
    slip_days: int | None = None
    earned_on: dt.date | None = None

    @property
    def percent_complete(self) -> Decimal:
        return ZERO if self.bac <= 0 else (self.ev / self.bac)


def measures(*, bac: Decimal, pv: Decimal, ev: Decimal, ac: Decimal) -> Measures:
    """The four indices. Undefined ratios (division by zero) are None, never infinity.
    With nothing spent yet EAC is BAC; with money spent and nothing earned CPI is 0 and EAC undefined."""
    spi = _ratio(ev, pv)
    cpi = _ratio(ev, ac)
    if ac == 0:
        eac: Decimal | None = bac
    elif cpi is None or ev == 0:
        eac = None
    else:
        eac = (bac * ac / ev).quantize(CENT, ROUND_HALF_UP)  # BAC / CPI, without rounding CPI first
    tcpi = _ratio(bac - ev, bac - ac)
    return Measures(bac=bac, pv=pv, ev=ev, ac=ac, spi=spi, cpi=cpi, eac=eac, tcpi=tcpi)


def compute(*, bac: Decimal, segments: list[Segment], start: dt.date, progress_percent: Decimal, paid: Decimal,
            as_of: dt.date) -> Measures:
    """Everything for one project on one day."""
    fraction = planned_fraction(segments, as_of)
    pv = (bac * fraction).quantize(CENT, ROUND_HALF_UP)
    earned_fraction = max(ZERO, min(ONE, progress_percent / 100))
    ev = (bac * earned_fraction).quantize(CENT, ROUND_HALF_UP)
    m = measures(bac=bac, pv=pv, ev=ev, ac=paid)
    es = earned_schedule(segments, start, earned_fraction)
    spi_t = None
    slip = None
    if es is not None:
        if earned_fraction >= ONE:  # finished: no schedule left to slip
            spi_t, slip = ONE, 0
        else:
            slip = (as_of - es).days  # negative: ahead of the baseline
            at_days = (as_of - start).days
            if at_days > 0:
                spi_t = (Decimal((es - start).days) / Decimal(at_days)).quantize(Q4, ROUND_HALF_UP)
    return Measures(**{**m.__dict__, "spi_t": spi_t, "slip_days": slip, "earned_on": es})


@dataclass(frozen=True)
class Health:
    level: str
    reasons: list[str] = field(default_factory=list)  # stable codes; the pages translate them


def health(m: Measures, *, approved_design: Decimal | None) -> Health:
    """DOMAIN.md: amber when SPI or CPI < 0.95; red when < 0.90; red when TCPI − CPI > 0.10 after 20 %
    complete; red when EAC > the approved 概算. The schedule index is SPI(t) (earned schedule) where
    it is defined, since plain SPI drifts to 1.0 late in a project."""
    level = GREEN
    reasons: list[str] = []

    def raise_to(new: str, reason: str) -> None:
        nonlocal level
        reasons.append(reason)
        if SEVERITY[new] > SEVERITY[level]:
            level = new

    schedule = m.spi_t if m.spi_t is not None else m.spi
    for name, value in (("spi", schedule), ("cpi", m.cpi)):
        if value is None:
            continue
        if value < RED_BELOW:
            raise_to(RED, f"{name}_red")
        elif value < AMBER_BELOW:
            raise_to(AMBER, f"{name}_amber")
    if m.tcpi is not None and m.cpi is not None and m.percent_complete >= TCPI_AFTER_COMPLETE \
            and m.tcpi - m.cpi > TCPI_GAP_RED:
        raise_to(RED, "tcpi_gap")
    if approved_design is not None and m.eac is not None and m.eac > approved_design:
        raise_to(RED, "eac_over_design")
    if m.ev == 0 and m.ac > 0:
        raise_to(RED, "spent_nothing_earned")
    return Health(level, reasons)


def worse(new: str, old: str | None) -> bool:
    return SEVERITY[new] > SEVERITY.get(old or GREEN, 0)
