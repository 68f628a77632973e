"""The pure reported-vs-evidenced computation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

from minsheng.construction.progress import GAP, NO_EVIDENCE, STALE_EVIDENCE, ItemInput, project_gap

DAY = dt.date(2026, 11, 1)


def item(pk, reported, evidenced, *, weight="1", reported_on=DAY, evidenced_on=DAY):
    return ItemInput(pk, f"{pk}", D(weight), D(reported), reported_on,
                     None if evidenced is None else D(evidenced), evidenced_on if evidenced is not None else None)


def test_evidenced_claims_within_threshold_are_not_flagged():
    gap = project_gap([item(1, "60", "55"), item(2, "40", "40")], threshold=D(10), max_age_days=30)
    assert (gap.reported, gap.evidenced, gap.gap) == (D("50.0"), D("47.5"), D("2.5"))
    assert not gap.flagged and gap.reasons == ()


def test_weighted_gap_above_threshold_is_flagged():
    gap = project_gap([item(1, "90", "40", weight="3"), item(2, "90", "90")], threshold=D(10), max_age_days=30)
    assert gap.gap == D("37.5")
    assert gap.flagged and gap.reasons == (GAP,)
    assert [g.gap for g in gap.items] == [D("50.0"), D("0.0")]


def test_claims_without_any_evidence_are_flagged_even_when_small():
    gap = project_gap([item(1, "5", None), item(2, "0", None)], threshold=D(10), max_age_days=30)
    assert gap.gap == D("2.5") and gap.reasons == (NO_EVIDENCE,)
    assert gap.items[0].reasons == (NO_EVIDENCE,) and gap.items[1].reasons == ()


def test_evidence_older_than_the_claim_period_does_not_support_it():
    old = item(1, "80", "75", evidenced_on=DAY - dt.timedelta(days=45))
    assert project_gap([old], threshold=D(10), max_age_days=30).reasons == (STALE_EVIDENCE,)
    recent = item(1, "80", "75", evidenced_on=DAY - dt.timedelta(days=20))
    assert project_gap([recent], threshold=D(10), max_age_days=30).reasons == ()


def test_confirmed_progress_above_the_claim_is_no_gap():
    gap = project_gap([item(1, "30", "50")], threshold=D(0), max_age_days=30)
    assert gap.gap == D("0.0") and not gap.flagged


def test_no_items_means_nothing_to_flag():
    gap = project_gap([], threshold=D(10), max_age_days=30)
    assert not gap.flagged and gap.reported == D(0)
