"""Each red-flag detector, with a case that raises it and one that does not."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import pytest
from django.apps import apps
from django.utils import timezone

from minsheng.core.events import send_on_commit
from minsheng.core.models import Notification
from minsheng.insight import detectors, services
from minsheng.insight.models import FlagKind, FlagStatus, RedFlag, Severity
from minsheng.procurement.models import BidStatus, TenderStatus
from minsheng.procurement.ocds import events
from minsheng.procurement.ocds.tests import factories as f

pytestmark = pytest.mark.django_db


def kinds(flags) -> set[str]:
    return {fl.kind for fl in flags}


def opened_tender(org, prices, *, statuses=None, late=None, winner=0, **tender_kw):
    actor = org.user("a_housing")
    project = f.project_in(org, "a")
    t = f.tender(project, actor, status=TenderStatus.AWARDED, opened_at=timezone.now(), **tender_kw)
    bids = []
    for i, price in enumerate(prices):
        status = (statuses or {}).get(i, BidStatus.WINNER if i == winner else BidStatus.OPENED)
        bids.append(f.bid(t, f.supplier(), Decimal(price) if price else None, status=status,
                          late=bool(late and i in late)))
    if winner is not None:
        f.award(t, bids[winner])
    return t, bids


def test_clean_tender_raises_nothing(org):
    t, _ = opened_tender(org, ["3650000", "3790000", "3880000"])
    assert services.compute_for_tender(t) == []


def test_short_submission_period(org):
    t, _ = opened_tender(org, ["3650000", "3790000", "3880000"], period_days=8)
    (flag,) = services.compute_for_tender(t)
    assert flag.kind == FlagKind.SHORT_PERIOD and flag.severity == Severity.HIGH
    assert "8.0" in flag.reason and "20" in flag.reason
    assert flag.owner == t.project.responsible_person


def test_single_bid(org):
    t, _ = opened_tender(org, ["3650000"])
    assert kinds(services.compute_for_tender(t)) == {FlagKind.SINGLE_BID}
    t2, _ = opened_tender(org, ["3650000"], method="single_source")
    assert services.compute_for_tender(t2) == []


def test_identical_bid_prices(org):
    t, _ = opened_tender(org, ["3650000", "3880000", "3880000"])
    (flag,) = services.compute_for_tender(t)
    assert flag.kind == FlagKind.IDENTICAL_PRICES and flag.figures["count"] == 2


def test_bid_close_to_the_winner(org):
    t, _ = opened_tender(org, ["3650000", "3700000", "3880000"])  # 1.37 % above the winner
    (flag,) = services.compute_for_tender(t)
    assert flag.kind == FlagKind.CLOSE_TO_WINNER and flag.figures["gap"] == "1.4"
    t2, _ = opened_tender(org, ["3650000", "3730000", "3880000"])  # 2.19 %: not close
    assert services.compute_for_tender(t2) == []


def test_late_bid_won(org):
    t, _ = opened_tender(org, ["3650000", "3790000", "3880000"], late={0})
    assert kinds(services.compute_for_tender(t)) == {FlagKind.LATE_BID_WON}
    t2, _ = opened_tender(org, ["3650000", "3790000", "3880000"], late={1})  # a late loser is not this flag
    assert services.compute_for_tender(t2) == []


def test_all_but_the_winner_disqualified(org):
    t, _ = opened_tender(org, ["3650000", "3790000", "3880000"],
                         statuses={1: BidStatus.DISQUALIFIED, 2: BidStatus.DISQUALIFIED})
    assert kinds(services.compute_for_tender(t)) == {FlagKind.OTHERS_DISQUALIFIED}
    t2, _ = opened_tender(org, ["3650000", "3790000", "3880000"], statuses={1: BidStatus.DISQUALIFIED})
    assert services.compute_for_tender(t2) == []


def test_lowest_bid_disqualified_under_price_only_award(org):
    prices = ["3500000", "3650000", "3880000"]
    t, _ = opened_tender(org, prices, statuses={0: BidStatus.DISQUALIFIED}, winner=1, award_criteria="priceOnly")
    assert kinds(services.compute_for_tender(t)) == {FlagKind.LOWEST_DISQUALIFIED}
    t2, _ = opened_tender(org, prices, statuses={0: BidStatus.DISQUALIFIED}, winner=1,
                          award_criteria="ratedCriteria")
    assert services.compute_for_tender(t2) == []


def test_heavily_discounted_bid(org):
    t, _ = opened_tender(org, ["2900000", "3790000", "3880000"])  # 27.5 % under the 4,000,000 cap, and won
    (flag,) = services.compute_for_tender(t)
    assert flag.kind == FlagKind.HEAVY_DISCOUNT and flag.severity == Severity.MEDIUM
    assert flag.figures["discount"] == "27.5"
    t2, _ = opened_tender(org, ["3100000", "3790000", "3880000"])  # 22.5 %
    assert services.compute_for_tender(t2) == []


def test_tampered_bid_raises_a_high_flag_and_alerts_the_owner(org, django_capture_on_commit_callbacks):
    t, bids = opened_tender(org, ["3650000", "3790000", "3880000"], statuses={2: BidStatus.TAMPERED})
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(events.BID_TAMPERED, bid_id=bids[2].pk)
    flag = RedFlag.objects.get(kind=FlagKind.TAMPERED_BID)
    assert (flag.subject_type, flag.subject_id, flag.severity) == ("procurement.bid", bids[2].pk, Severity.HIGH)
    assert bids[2].supplier.name in flag.reason
    note = Notification.objects.get(recipient=t.project.responsible_person, kind="insight.redflag")
    assert note.link.endswith(f"/{flag.pk}/")
    services.compute_for_tender(t)  # recomputing alerts once
    assert Notification.objects.filter(kind="insight.redflag").count() == 1


def test_large_award_to_contract_change_and_change_orders(org):
    built = f.process(org, "contracted")
    assert services.compute_for_contract(built.contract) == []
    built.contract.value = built.award.value * Decimal("1.15")
    built.contract.save()
    f.variation(built.contract, Decimal("300000.00"), org.user("a_housing"))
    f.variation(built.contract, Decimal("900000.00"), org.user("a_housing"), approved=False)
    flags = {fl.kind: fl for fl in services.compute_for_contract(built.contract)}
    assert set(flags) == {FlagKind.AWARD_CONTRACT_CHANGE, FlagKind.CHANGE_ORDERS}
    assert flags[FlagKind.AWARD_CONTRACT_CHANGE].figures["change"] == "15.0"
    assert flags[FlagKind.CHANGE_ORDERS].figures["count"] == 1  # the proposed one does not count
    assert flags[FlagKind.CHANGE_ORDERS].severity == Severity.LOW


def _direct(org, value, *, supplier=None, number=None, days_ago=10):
    project = f.project_in(org, "a")
    return f.contract(project, supplier or f.supplier(), Decimal(value), org.user("a_housing"), number=number,
                      signed_on=timezone.localdate() - dt.timedelta(days=days_ago))


def test_purchase_just_under_a_must_tender_threshold(org):
    c = _direct(org, "3900000")  # 97.5 % of the 4,000,000 works threshold
    (flag,) = services.compute_for_contract(c)
    assert flag.kind == FlagKind.SPLIT_NEAR_THRESHOLD and flag.figures["share"] == "97.5"
    assert services.compute_for_contract(_direct(org, "3000000")) == []


def test_tendered_contract_near_a_threshold_is_not_a_split(org):
    built = f.process(org, "contracted", prices=("3900000.00", "3950000.00", "3990000.00"))
    assert FlagKind.SPLIT_NEAR_THRESHOLD not in kinds(services.compute_for_contract(built.contract))


def test_same_supplier_on_nearby_days(org):
    s = f.supplier()
    a = _direct(org, "600000", supplier=s, days_ago=20, number="QX-CG-0101")
    b = _direct(org, "500000", supplier=s, days_ago=10, number="QX-CG-0201")
    services.compute_for_contract(b)
    assert set(RedFlag.objects.values_list("kind", "subject_id")) == {
        (FlagKind.SPLIT_SAME_SUPPLIER, a.pk), (FlagKind.SPLIT_SAME_SUPPLIER, b.pk)}
    s2 = f.supplier()
    _direct(org, "600000", supplier=s2, days_ago=120, number="QX-CG-0301")
    c = _direct(org, "500000", supplier=s2, days_ago=10, number="QX-CG-0401")
    assert services.compute_for_contract(c) == []


def test_sequential_numbers_in_one_category(org):
    a = _direct(org, "600000", number="QX-CG-0007")
    b = _direct(org, "500000", number="QX-CG-0008")
    services.compute_for_contract(b)
    assert set(RedFlag.objects.values_list("kind", "subject_id")) == {
        (FlagKind.SPLIT_SEQUENTIAL, a.pk), (FlagKind.SPLIT_SEQUENTIAL, b.pk)}
    RedFlag.objects.all().delete()
    _direct(org, "600000", number="QX-CG-0017")
    c = _direct(org, "500000", number="QX-CG-0019")
    assert services.compute_for_contract(c) == []


def test_duplicate_invoices_by_number_and_by_supplier_amount_date(org):
    built = f.process(org, "paid")
    actor = org.user("a_housing")
    c, m = built.contract, built.milestones[1]
    clean = f.payment(c, m, Decimal("12345.00"), actor)
    assert services.compute_for_payment(clean) == []
    again = f.payment(c, m, Decimal("20000.00"), actor, invoice_number=clean.invoice_number)
    (flag,) = services.compute_for_payment(again)
    assert flag.kind == FlagKind.DUPLICATE_INVOICE and flag.figures == {
        "by": "number", "invoice": clean.invoice_number, "first": clean.pk}
    assert flag.owner == org.user("a_finance")  # payment flags go to the finance officer
    same = f.payment(c, m, Decimal("12345.00"), actor, invoice_date=clean.invoice_date)
    (flag2,) = services.compute_for_payment(same)
    assert flag2.figures["by"] == "same" and flag2.figures["first"] == clean.pk
    rejected = f.payment(c, m, Decimal("777.00"), actor, status="rejected")
    later = f.payment(c, m, Decimal("888.00"), actor, invoice_number=rejected.invoice_number)
    assert services.compute_for_payment(later) == []  # a rejected request used no invoice


def _bulk_payments(contract, milestone, amounts, actor):
    PaymentRequest = apps.get_model("finance", "PaymentRequest")
    today = timezone.localdate()
    PaymentRequest.objects.bulk_create([
        PaymentRequest(project=contract.project, contract=contract, milestone=milestone, amount=a,
                       invoice_number=f"B{contract.pk:04d}{i:06d}", invoice_amount=a,
                       invoice_date=today - dt.timedelta(days=i % 300), status="paid", requested_by=actor)
        for i, a in enumerate(amounts)
    ])


def benford_amounts(n, rng):
    """n amounts whose first digits follow Benford's law (counts rounded), of varied size."""
    out = []
    for d in range(1, 10):
        for _ in range(round(n * detectors.BENFORD[d - 1])):
            out.append(Decimal(f"{d}{rng.randint(100, 99999)}.{rng.randint(0, 99):02d}"))
    return out


def test_benford_by_department_and_by_supplier(org):
    rng = random.Random(7)
    actor = org.user("a_housing")
    good = f.process(org, "contracted")
    _bulk_payments(good.contract, good.milestones[0], benford_amounts(600, rng), actor)
    bad = f.process(org, "contracted", county="b")
    fives = [Decimal(f"5{rng.randint(1000, 9999)}.00") for _ in range(400)]
    _bulk_payments(bad.contract, bad.milestones[0], fives, actor)
    services.recompute_all()
    flags = {(fl.kind, fl.subject_id): fl for fl in RedFlag.objects.filter(kind__startswith="benford")}
    dept = bad.project.lead_department
    assert set(flags) == {(FlagKind.BENFORD_DEPARTMENT, dept.pk), (FlagKind.BENFORD_SUPPLIER, bad.contract.supplier_id)}
    flag = flags[(FlagKind.BENFORD_DEPARTMENT, dept.pk)]
    assert flag.severity == Severity.MEDIUM and flag.figures["band"] == "nonconforming"
    assert flag.figures["n"] == 400 and flag.owner == org.user("b_finance")
    assert flag.division_path == dept.division.path


def test_benford_needs_a_minimum_count(org):
    bad = f.process(org, "contracted", county="b")
    _bulk_payments(bad.contract, bad.milestones[0], [Decimal("5100.00")] * 299, org.user("a_housing"))
    services.recompute_all()
    assert not RedFlag.objects.filter(kind__startswith="benford").exists()


@pytest.mark.parametrize(("mad", "band"), [(0.005, "close"), (0.008, "acceptable"), (0.013, "marginal"),
                                           (0.02, "nonconforming")])
def test_benford_bands_follow_domain(mad, band):
    rules = services.Rules.from_values(
        {"close_to_winner_ratio": "0.02", "heavy_discount_ratio": "0.25", "award_contract_change_ratio": "0.1",
         "split_band": ["0.95", "1.00"], "split_nearby_days": 30, "benford_min_count": 300,
         "benford_bands": ["0.006", "0.012", "0.015"]},
        {"works": "4000000"}, {"open": 20}, {"warn": "0.10", "higher_approval": "0.15"})
    assert detectors.benford_band(mad, rules) == band


def test_benford_mad_of_a_perfect_distribution_is_zero():
    counts = {d: round(detectors.BENFORD[d - 1] * 100000) for d in range(1, 10)}
    mad, n = detectors.benford_mad(counts)
    assert mad < 0.0001 and n == sum(counts.values())


def test_full_recompute_matches_per_subject_and_keeps_decisions(org):
    t, _ = opened_tender(org, ["3650000", "3880000", "3880000"], period_days=8)
    c = _direct(org, "3900000")
    built = f.process(org, "paid")
    dup = f.payment(built.contract, built.milestones[1], Decimal("5.00"), org.user("a_housing"),
                    invoice_number=built.payments[0].invoice_number)
    counts = services.recompute_all()
    assert counts == {FlagKind.SHORT_PERIOD: 1, FlagKind.IDENTICAL_PRICES: 1, FlagKind.SPLIT_NEAR_THRESHOLD: 1,
                      FlagKind.DUPLICATE_INVOICE: 1, FlagKind.CHANGE_ORDERS: 1}
    assert RedFlag.objects.get(kind=FlagKind.DUPLICATE_INVOICE).subject_id == dup.pk
    assert RedFlag.objects.get(kind=FlagKind.SPLIT_NEAR_THRESHOLD).subject_id == c.pk
    short = RedFlag.objects.get(kind=FlagKind.SHORT_PERIOD)
    services.redflag_decide(actor=org.user("a_auditor"), flag=short, status=FlagStatus.DISMISSED,
                            comment="应急抢修项目，经批准缩短")
    t.submission_deadline = t.published_at + dt.timedelta(days=25)
    t.save()
    ident = RedFlag.objects.get(kind=FlagKind.IDENTICAL_PRICES)
    services.recompute_all()
    short.refresh_from_db()
    assert short.status == FlagStatus.DISMISSED  # decided flags stay
    assert RedFlag.objects.filter(pk=ident.pk).exists()
    assert RedFlag.objects.count() == 5


def test_open_flag_is_removed_when_its_condition_clears(org):
    t, _ = opened_tender(org, ["3650000", "3790000", "3880000"], period_days=8)
    assert services.compute_for_tender(t)
    t.submission_deadline = t.published_at + dt.timedelta(days=25)
    t.save()
    assert services.compute_for_tender(t) == []
    assert not RedFlag.objects.exists()
