from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from minsheng.procurement import scoring

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def _e(i, price, tech=(), minutes=0):
    return scoring.Entry(i, D(price), T0 + dt.timedelta(minutes=minutes), [D(t) for t in tech])


def test_lowest_valid_price_gets_full_price_points():
    ranked = scoring.rank([_e(1, "100"), _e(2, "125", minutes=1)], criteria="ratedCriteria", price_weight=30)
    assert [e.price_score for e in ranked] == [D("30.00"), D("24.00")]


def test_rated_total_is_price_plus_mean_technical():
    ranked = scoring.rank([_e(1, "100", ["40", "50"]), _e(2, "125", ["70", "68"])], criteria="ratedCriteria",
                          price_weight=30)
    assert [(e.bid_id, e.total_score, e.rank) for e in ranked] == [(2, D("93.00"), 1), (1, D("75.00"), 2)]


def test_price_only_ranks_by_price_then_submission():
    ranked = scoring.rank([_e(1, "90", minutes=5), _e(2, "80", minutes=9), _e(3, "80", minutes=1)],
                          criteria="priceOnly", price_weight=100)
    assert [e.bid_id for e in ranked] == [3, 2, 1]
    assert ranked[0].total_score is None


def test_equal_totals_go_to_the_lower_price():
    ranked = scoring.rank([_e(1, "100", ["60"]), _e(2, "100", ["60"], minutes=-1)], criteria="ratedCriteria",
                          price_weight=40)
    assert [e.bid_id for e in ranked] == [2, 1]


def test_no_entries_rank_to_nothing():
    assert scoring.rank([], criteria="ratedCriteria", price_weight=30) == []
