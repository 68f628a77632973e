from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from minsheng.core.events import send_on_commit
from minsheng.procurement.models import AwardStatus, BidStatus, OcdsRelease, TenderStatus
from minsheng.procurement.ocds import builder, events, publisher
from minsheng.procurement.ocds.tests import factories as f
from minsheng.procurement.ocds.tests.ocds_schema import assert_valid, errors

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("stage", f.STAGES)
def test_release_at_every_stage_validates_against_schema_and_closed_codelists(org, stage):
    built = f.process(org, stage)
    release = publisher.publish_for_tender(built.tender)
    assert release is not None
    assert_valid("release-schema.json", release.data)


def test_a_value_outside_a_closed_codelist_fails_validation(org):
    built = f.process(org, "paid")
    data = publisher.publish_for_tender(built.tender).data
    data["tender"]["status"] = "open"  # not in tenderStatus.csv
    data["contracts"][0]["value"]["currency"] = "RMB"  # not in currency.csv
    found = "\n".join(errors("release-schema.json", data))
    assert "tender/status" in found and "currency" in found


@pytest.mark.parametrize(
    ("method", "expected"),
    [("open", "open"), ("invited", "selective"), ("negotiation", "limited"), ("single_source", "direct")],
)
def test_methods_map_to_the_closed_method_codelist_with_rationale(org, method, expected):
    built = f.process(org, "awarded", method=method)
    tender = publisher.publish_for_tender(built.tender).data["tender"]
    assert tender["procurementMethod"] == expected
    if method == "open":
        assert "procurementMethodRationale" not in tender
    else:
        assert tender["procurementMethodRationale"]


def test_release_is_filled_from_the_real_rows(org, settings):
    settings.MINSHENG_OCID_PREFIX = "ocds-qx2026"
    built = f.process(org, "paid")
    data = publisher.publish_for_tender(built.tender).data
    assert data["ocid"] == f"ocds-qx2026-{built.project.code}-{built.tender.pk}"
    budget = data["planning"]["budget"]
    assert budget["projectID"] == built.project.code and len(budget["projectID"]) == 24
    assert budget["amount"] == {"amount": 5000000.0, "currency": "CNY"}
    tender = data["tender"]
    assert tender["mainProcurementCategory"] == "works"
    assert tender["numberOfTenderers"] == 3 and len(tender["tenderers"]) == 3
    assert tender["value"]["amount"] == 4000000.0
    assert tender["tenderPeriod"]["endDate"] == builder.iso(built.tender.submission_deadline)
    parties = {p["id"]: p for p in data["parties"]}
    winner = parties[f"CN-USCC-{built.award.supplier.credit_code}"]
    assert winner["identifier"] == {"scheme": "CN-USCC", "id": built.award.supplier.credit_code,
                                    "legalName": built.award.supplier.name}
    assert set(winner["roles"]) == {"tenderer", "supplier", "payee"}
    buyer = parties[data["buyer"]["id"]]
    assert set(buyer["roles"]) == {"buyer", "procuringEntity", "payer"}
    assert data["awards"][0]["value"]["amount"] == 3650000.0
    contract = data["contracts"][0]
    assert contract["awardID"] == data["awards"][0]["id"]
    assert contract["value"]["amount"] == 3650000.0 + 180000.0  # the approved variation
    assert [a["id"] for a in contract["amendments"]] == ["1"]
    assert [m["status"] for m in contract["milestones"]] == ["met", "scheduled", "scheduled"]
    (tx,) = contract["implementation"]["transactions"]
    assert tx["value"] == {"amount": 1000000.0, "currency": "CNY"}
    assert tx["payer"]["id"] == buyer["id"] and tx["payee"]["id"] == winner["id"]


def test_bids_are_not_disclosed_before_the_opening(org):
    built = f.process(org, "published")
    data = publisher.publish_for_tender(built.tender).data
    assert "numberOfTenderers" not in data["tender"] and "tenderers" not in data["tender"]
    assert [p["roles"] for p in data["parties"]] == [["buyer", "procuringEntity"]]


def test_unapproved_variations_and_payments_are_not_published(org):
    built = f.process(org, "contracted")
    actor = org.user("a_housing")
    f.variation(built.contract, Decimal("50000.00"), actor, approved=False)
    f.payment(built.contract, built.milestones[0], Decimal("10000.00"), actor, status="submitted")
    contract = publisher.publish_for_tender(built.tender).data["contracts"][0]
    assert "amendments" not in contract and "implementation" not in contract


def test_the_same_state_never_yields_a_second_release(org):
    built = f.process(org, "paid")
    assert publisher.publish_for_tender(built.tender) is not None
    assert publisher.publish_for_tender(built.tender) is None
    assert publisher.publish_for_tender(built.tender, ["tenderUpdate"]) is None
    assert OcdsRelease.objects.filter(ocid=builder.ocid_for_tender(built.tender)).count() == 1


def test_each_change_writes_one_immutable_release_with_its_tags(org):
    actor = org.user("a_housing")
    built = f.process(org, "published")
    t = built.tender
    tags = [publisher.publish_for_tender(t).tags]

    t.status = TenderStatus.OPENED
    t.opened_at = t.submission_deadline
    t.save()
    for b, price in zip(built.bids, ("3650000.00", "3720000.00", "3880000.00"), strict=True):
        b.status, b.price = BidStatus.OPENED, Decimal(price)
        b.save()
    tags.append(publisher.publish_for_tender(t).tags)

    t.status = TenderStatus.AWARDED
    t.save()
    a = f.award(t, built.bids[0], status=AwardStatus.STANDSTILL)
    tags.append(publisher.publish_for_tender(t).tags)

    a.status = AwardStatus.ACTIVE
    a.save()
    c = f.contract(built.project, a.supplier, a.value, actor, t=t, a=a)
    m = f.milestone(c, 1, Decimal("1000000.00"))
    tags.append(publisher.publish_for_tender(t).tags)

    f.variation(c, Decimal("-20000.00"), actor)
    tags.append(publisher.publish_for_contract(c).tags)

    p = f.payment(c, m, Decimal("500000.00"), actor)
    tags.append(publisher.publish_for_payment(p).tags)
    f.payment(c, m, Decimal("400000.00"), actor)
    tags.append(publisher.publish_for_payment(p).tags)

    assert tags == [
        ["tender"],
        ["tenderUpdate"],
        ["tenderUpdate", "award"],
        ["awardUpdate", "contract"],
        ["contractAmendment"],
        ["implementation"],
        ["implementationUpdate"],
    ]
    rows = list(OcdsRelease.objects.filter(ocid=builder.ocid_for_tender(t)).order_by("date", "id"))
    assert len(rows) == 7
    assert [r.date for r in rows] == sorted(r.date for r in rows)
    assert len({r.release_id for r in rows}) == 7
    assert all(r.data["id"] == r.release_id and r.data["tag"] == r.tags for r in rows)
    for r in rows:
        assert_valid("release-schema.json", r.data)


def test_a_draft_tender_publishes_a_planning_release(org):
    built = f.process(org, "draft")
    release = publisher.publish_for_tender(built.tender)
    assert release.tags == ["planning"]
    assert release.data["tender"]["status"] == "planned"


def test_cancellation_is_tagged(org):
    built = f.process(org, "published")
    publisher.publish_for_tender(built.tender)
    built.tender.status = TenderStatus.CANCELLED
    built.tender.save()
    assert publisher.publish_for_tender(built.tender).tags == ["tenderCancellation"]


def test_contract_without_a_tender_is_its_own_direct_process(org):
    actor = org.user("a_housing")
    project = f.project_in(org, "a")
    c = f.contract(project, f.supplier(), Decimal("380000.00"), actor)
    m = f.milestone(c, 1, Decimal("380000.00"))
    f.payment(c, m, Decimal("380000.00"), actor, status="paid")
    release = publisher.publish_for_contract(c)
    assert release.ocid == f"ocds-minsheng-{project.code}-c{c.pk}"
    data = release.data
    assert data["tender"]["procurementMethod"] == "direct"
    assert data["contracts"][0]["awardID"] == data["awards"][0]["id"]
    assert_valid("release-schema.json", data)


def test_events_sent_on_commit_publish_a_release(org, django_capture_on_commit_callbacks):
    built = f.process(org, "contracted")
    ocid = builder.ocid_for_tender(built.tender)
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(events.TENDER_PUBLISHED, tender_id=built.tender.pk)
    assert OcdsRelease.objects.filter(ocid=ocid).count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        f.variation(built.contract, Decimal("30000.00"), org.user("a_housing"))
        send_on_commit(events.VARIATION_APPROVED, variation_id=built.contract.variations.get().pk)
    p = f.payment(built.contract, built.milestones[0], Decimal("20000.00"), org.user("a_housing"))
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(events.PAYMENT_APPROVED, payment_id=p.pk)
    with django_capture_on_commit_callbacks(execute=True):
        send_on_commit(events.CONTRACT_UPDATED, contract_id=built.contract.pk)  # nothing changed
    assert list(OcdsRelease.objects.filter(ocid=ocid).order_by("date").values_list("tags", flat=True)) == [
        ["tender", "award", "contract"], ["contractAmendment"], ["implementation"],
    ]


def test_release_dates_increase_even_when_the_clock_does_not(org, monkeypatch):
    built = f.process(org, "awarded")
    frozen = timezone.now()
    monkeypatch.setattr(timezone, "now", lambda: frozen)
    first = publisher.publish_for_tender(built.tender)
    built.tender.title = "改名后的招标项目"
    built.tender.save()
    second = publisher.publish_for_tender(built.tender)
    assert second.date > first.date
    assert second.date - first.date < dt.timedelta(seconds=1)


def test_publish_all_publishes_each_changed_process_once(org):
    f.process(org, "paid")
    f.process(org, "opened", county="b")
    f.process(org, "draft")  # drafts are not public
    assert publisher.publish_all() == 2
    assert publisher.publish_all() == 0
