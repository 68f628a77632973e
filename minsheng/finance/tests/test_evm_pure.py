"""Earned value arithmetic, without a database: properties and the exact DOMAIN.md boundaries."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minsheng.finance import evm

D = Decimal
# Generating Decimal inputs is slow on a loaded machine; that is not what these properties test.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
START = dt.date(2026, 1, 1)

money = st.decimals(min_value=D("0"), max_value=D("100000000"), places=2, allow_nan=False, allow_infinity=False)
positive = st.decimals(min_value=D("1"), max_value=D("100000000"), places=2, allow_nan=False, allow_infinity=False)
days = st.integers(min_value=0, max_value=2000)
segments = st.lists(
    st.tuples(st.integers(0, 800), st.integers(1, 800), st.decimals(min_value=D("0.01"), max_value=D("1000"),
                                                                      places=2)),
    min_size=1, max_size=8,
).map(lambda xs: [evm.Segment(START + dt.timedelta(a), START + dt.timedelta(a + b), w) for a, b, w in xs])


@relaxed
@given(segments, days, days)
def test_planned_fraction_is_between_0_and_1_and_never_falls(segs, a, b):
    lo, hi = sorted((a, b))
    f_lo = evm.planned_fraction(segs, START + dt.timedelta(lo))
    f_hi = evm.planned_fraction(segs, START + dt.timedelta(hi))
    assert D(0) <= f_lo <= f_hi <= D(1)


@relaxed
@given(segments)
def test_everything_is_planned_by_the_last_end(segs):
    assert evm.planned_fraction(segs, max(s.end for s in segs)) == 1
    assert evm.planned_fraction(segs, START - dt.timedelta(days=1)) == 0


@relaxed
@given(segments, st.decimals(min_value=D("0.001"), max_value=D("0.999"), places=3))
def test_earned_schedule_is_the_first_day_the_plan_reaches_what_was_earned(segs, frac):
    es = evm.earned_schedule(segs, START, frac)
    assert evm.planned_fraction(segs, es) >= frac
    if es > START:
        assert evm.planned_fraction(segs, es - dt.timedelta(days=1)) < frac


@relaxed
@given(positive, money, money, money)
def test_indices_follow_their_definitions(bac, pv, ev, ac):
    m = evm.measures(bac=bac, pv=pv, ev=ev, ac=ac)
    if pv:
        assert abs(m.spi - ev / pv) <= D("0.00005")
    else:
        assert m.spi is None
    if ac:
        assert abs(m.cpi - ev / ac) <= D("0.00005")
        if ev:
            assert abs(m.eac - bac * ac / ev) <= D("0.005")  # EAC = BAC / CPI
    else:
        assert m.cpi is None and m.eac == bac
    if bac != ac:
        assert abs(m.tcpi - (bac - ev) / (bac - ac)) <= D("0.00005")


@relaxed
@given(positive, money, money, money, st.decimals(min_value=D("0"), max_value=D("0.5"), places=2))
def test_lower_cost_performance_never_improves_health(bac, pv, ev, ac, extra):
    """Spending more for the same earned value can only keep or worsen the health level."""
    a = evm.measures(bac=bac, pv=pv, ev=ev, ac=ac)
    b = evm.measures(bac=bac, pv=pv, ev=ev, ac=ac + (ac * extra).quantize(D("0.01")))
    ha, hb = evm.health(a, approved_design=bac), evm.health(b, approved_design=bac)
    assert evm.SEVERITY[hb.level] >= evm.SEVERITY[ha.level]


def _m(spi=None, cpi=None, *, tcpi=None, eac=D(100), bac=D(100), ev=D(10), ac=D(10)):
    return evm.Measures(bac=bac, pv=D(10), ev=ev, ac=ac, spi=spi, cpi=cpi, eac=eac, tcpi=tcpi)


@pytest.mark.parametrize(("spi", "cpi", "level"), [
    (D("0.95"), D("1"), "green"), (D("0.9499"), D("1"), "amber"),
    (D("0.90"), D("1"), "amber"), (D("0.8999"), D("1"), "red"),
    (D("1"), D("0.95"), "green"), (D("1"), D("0.9499"), "amber"),
    (D("1"), D("0.90"), "amber"), (D("1"), D("0.8999"), "red"),
])
def test_exact_boundaries(spi, cpi, level):
    assert evm.health(_m(spi, cpi), approved_design=None).level == level


def test_tcpi_gap_is_red_only_after_twenty_percent_complete():
    gap = dict(spi=D(1), cpi=D(1), tcpi=D("1.1001"))
    assert evm.health(_m(**gap, ev=D("19.99")), approved_design=None).level == "green"
    assert evm.health(_m(**gap, ev=D("20")), approved_design=None).reasons == ["tcpi_gap"]
    assert evm.health(_m(spi=D(1), cpi=D(1), tcpi=D("1.10"), ev=D(50)), approved_design=None).level == "green"


def test_eac_over_the_approved_design_is_red():
    assert evm.health(_m(D(1), D(1), eac=D("100.01")), approved_design=D(100)).reasons == ["eac_over_design"]
    assert evm.health(_m(D(1), D(1), eac=D("100")), approved_design=D(100)).level == "green"


def test_schedule_health_uses_earned_schedule_when_plain_spi_has_drifted_back():
    """Late in a project plain SPI returns towards 1.0; the earned-schedule index still shows the delay."""
    segs = [evm.Segment(START, START + dt.timedelta(days=100), D(1))]
    m = evm.compute(bac=D(1000), segments=segs, start=START, progress_percent=D(96), paid=D(960),
                    as_of=START + dt.timedelta(days=130))
    assert m.spi == D("0.96")  # looks nearly fine
    assert m.slip_days == 34 and m.spi_t == D("0.7385")  # 96 days earned in 130
    assert evm.health(m, approved_design=D(1000)).level == "red"


def test_compute_on_plan():
    segs = evm.milestone_segments(START, [(START + dt.timedelta(days=50), D(300)), (START + dt.timedelta(days=100),
                                                                                       D(700))])
    m = evm.compute(bac=D(1000), segments=segs, start=START, progress_percent=D(30), paid=D(300),
                    as_of=START + dt.timedelta(days=50))
    assert (m.pv, m.ev, m.ac, m.spi, m.cpi, m.eac, m.slip_days) == (D(300), D(300), D(300), D(1), D(1), D(1000), 0)


def test_money_spent_with_nothing_earned_is_red():
    m = evm.measures(bac=D(100), pv=D(10), ev=D(0), ac=D(5))
    assert m.eac is None and evm.health(m, approved_design=D(100)).level == "red"


def test_worse():
    assert evm.worse("amber", None) and evm.worse("red", "amber") and not evm.worse("amber", "red")
    assert not evm.worse("green", None)
