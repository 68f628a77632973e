"""Panel, conflict declarations, scoring, ranking, award, standstill and complaints."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.procurement import services
from minsheng.procurement.models import AwardCriteria, AwardStatus, BidStatus, Method, TenderStatus
from minsheng.procurement.tests.factories import expert, opened_tender


def _panel(org, setup, n=2):
    experts = [expert() for _ in range(n)]
    for i, e in enumerate(experts):
        services.panel_add(actor=org.user("a_housing"), tender=setup.tender, expert=e, is_chair=i == 0)
    return experts


def test_rated_evaluation_ranks_by_price_and_technical_scores(org):
    setup = opened_tender(org, ["1000000", "1250000", "1100000"])
    experts = _panel(org, setup)
    bids = list(setup.tender.bids.order_by("submitted_at"))
    tech = {bids[0].pk: ["40", "44"], bids[1].pk: ["68", "70"], bids[2].pk: ["50", "50"]}
    for i, e in enumerate(experts):
        services.conflict_declare(actor=e, tender=setup.tender, has_conflict=False)
        for b in bids:
            services.score_record(actor=e, bid=b, technical=tech[b.pk][i])
    ranked = services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)
    # price: 30×1.0=30, 30×1000000/1250000=24, 30×1000000/1100000=27.27
    assert [(b.pk, b.total_score) for b in ranked] == [
        (bids[1].pk, Decimal("93.00")), (bids[2].pk, Decimal("77.27")), (bids[0].pk, Decimal("72.00"))]
    award = services.award_make(actor=org.user("a_housing"), tender=setup.tender)
    assert award.bid_id == bids[1].pk and award.value == Decimal("1250000.00")
    assert award.standstill_until - award.decided_at == dt.timedelta(days=3)
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.AWARDED


def test_price_only_award_goes_to_the_lowest_valid_bid(org):
    setup = opened_tender(org, ["1000000", "900000", "950000"], criteria=AwardCriteria.PRICE_ONLY)
    lowest = setup.tender.bids.get(price=Decimal("900000"))
    services.bid_disqualify(actor=org.user("a_housing"), bid=lowest, reason="资质证书过期")
    ranked = services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)
    assert [b.price for b in ranked] == [Decimal("950000.00"), Decimal("1000000.00")]
    lowest.refresh_from_db()
    assert lowest.status == BidStatus.DISQUALIFIED and lowest.disqualified_reason == "资质证书过期"


def test_an_expert_who_declares_a_conflict_cannot_score(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    (e,) = _panel(org, setup, 1)
    services.conflict_declare(actor=e, tender=setup.tender, has_conflict=True, declaration="曾任投标人顾问")
    with pytest.raises(PermissionDenied):
        services.score_record(actor=e, bid=setup.tender.bids.first(), technical="50")


def test_an_expert_employed_by_a_bidder_is_removed_even_if_they_declare_none(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    insider = expert(org_name=setup.bidders[0][1].name)
    services.panel_add(actor=org.user("a_housing"), tender=setup.tender, expert=insider)
    member = services.conflict_declare(actor=insider, tender=setup.tender, has_conflict=False)
    assert member.has_conflict and setup.bidders[0][1].name in member.declaration
    with pytest.raises(PermissionDenied):
        services.score_record(actor=insider, bid=setup.tender.bids.last(), technical="50")


def test_scores_wait_for_the_declaration_and_stay_in_range(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    (e,) = _panel(org, setup, 1)
    b = setup.tender.bids.first()
    with pytest.raises(Conflict):
        services.score_record(actor=e, bid=b, technical="50")
    services.conflict_declare(actor=e, tender=setup.tender, has_conflict=False)
    for bad in ("71", "-1", "abc", "10.123"):
        with pytest.raises(ValidationFailed):
            services.score_record(actor=e, bid=b, technical=bad)
    with pytest.raises(NotFound):
        services.score_record(actor=expert(), bid=b, technical="50")


def test_evaluation_waits_for_every_score(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    (e,) = _panel(org, setup, 1)
    services.conflict_declare(actor=e, tender=setup.tender, has_conflict=False)
    services.score_record(actor=e, bid=setup.tender.bids.first(), technical="50")
    with pytest.raises(Conflict):
        services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)


def test_an_open_tender_with_fewer_than_three_bids_fails(org):
    setup = opened_tender(org, ["1000000", "1100000"])
    assert services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender) == []
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.UNSUCCESSFUL


def test_a_single_bid_is_enough_for_negotiation(org):
    setup = opened_tender(org, ["400000"], criteria=AwardCriteria.PRICE_ONLY, method=Method.NEGOTIATION,
                          method_reason="技术复杂", value="500000")
    assert len(services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)) == 1


def _awarded(org):
    setup = opened_tender(org, ["1000000", "900000", "950000"], criteria=AwardCriteria.PRICE_ONLY)
    services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)
    return setup, services.award_make(actor=org.user("a_housing"), tender=setup.tender)


def _sign(org, award, **kw):
    today = timezone.localdate()
    args = {"number": "HT-1", "title": "施工合同", "signed_on": today, "period_start": today,
            "period_end": today + dt.timedelta(days=180)} | kw
    return services.contract_sign(actor=org.user("a_housing"), award=award, **args)


def test_a_complaint_during_standstill_blocks_signing_until_resolved(org):
    setup, award = _awarded(org)
    loser = next(u for u, s in setup.bidders if s != award.supplier)
    complaint = services.complaint_file(actor=loser, award=award, text="中标人业绩证明不实")
    after = award.standstill_until + dt.timedelta(minutes=1)
    with pytest.raises(Conflict) as exc:
        _sign(org, award, now=after)
    assert exc.value.code == "complaint_open"
    services.complaint_resolve(actor=org.user("a_housing"), complaint=complaint, upheld=False,
                               resolution="经核查业绩真实")
    assert _sign(org, award, now=after).value == award.value


def test_no_signing_before_the_standstill_ends(org):
    _setup, award = _awarded(org)
    with pytest.raises(Conflict) as exc:
        _sign(org, award)
    assert exc.value.code == "standstill"


def test_only_bidders_complain_and_only_during_standstill(org):
    setup, award = _awarded(org)
    with pytest.raises(PermissionDenied):
        services.complaint_file(actor=org.user("a_contractor"), award=award, text="x")
    with pytest.raises(Conflict):
        services.complaint_file(actor=setup.bidders[0][0], award=award, text="x",
                                now=award.standstill_until + dt.timedelta(seconds=1))


def test_an_upheld_complaint_cancels_the_award_and_reopens_evaluation(org):
    setup, award = _awarded(org)
    complaint = services.complaint_file(actor=setup.bidders[0][0], award=award, text="中标人资质不符")
    services.complaint_resolve(actor=org.user("a_housing"), complaint=complaint, upheld=True, resolution="成立")
    award.refresh_from_db()
    setup.tender.refresh_from_db()
    assert award.status == AwardStatus.CANCELLED and setup.tender.status == TenderStatus.OPENED
    services.bid_disqualify(actor=org.user("a_housing"), bid=award.bid, reason="资质不符")
    services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)
    second = services.award_make(actor=org.user("a_housing"), tender=setup.tender)
    assert second.bid.price == Decimal("950000.00")
