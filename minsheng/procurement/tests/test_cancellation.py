"""Cancelling a tender before the award (终止招标): the reason is required, sealed bids are never opened, the
notice is audited, anchored in the evidence ledger, told to bidders, panel and key holders, published in OCDS
(tag tenderCancellation, validated against the schema) and on the public tender page."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, Notification
from minsheng.ledger import registry
from minsheng.ledger.models import Leaf
from minsheng.procurement import services
from minsheng.procurement.models import BidStatus, OcdsRelease, TenderCancellation, TenderStatus
from minsheng.procurement.ocds import builder, publisher
from minsheng.procurement.ocds.tests.ocds_schema import assert_valid
from minsheng.procurement.tests.factories import (
    bid,
    bidder,
    draft_tender,
    expert,
    opened_tender,
    pass_deadline,
    published_tender,
)

REASON = "项目选址调整，原招标内容不再实施。"


def _client(user=None) -> Client:
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


def _with_bids_and_panel(org):
    setup = published_tender(org)
    bid(setup, "1000000")
    bid(setup, "1100000")
    member = expert()
    services.panel_add(actor=org.user("a_housing"), tender=setup.tender, expert=member)
    return setup, member


def test_cancelling_a_published_tender_keeps_its_sealed_bids_sealed_for_good(org):
    setup, _member = _with_bids_and_panel(org)
    c = services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=f"  {REASON} ")
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.CANCELLED and c.reason == REASON
    assert c.status_before == TenderStatus.PUBLISHED
    bids = list(setup.tender.bids.all())
    assert sorted(c.bid_commitments) == sorted(b.commitment for b in bids)
    assert all(b.status == BidStatus.SEALED and b.price is None and b.content is None for b in bids)
    pass_deadline(setup.tender)
    with pytest.raises(Conflict) as exc:
        services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares[:2])
    assert exc.value.code == "cancelled"
    assert all(b.status == BidStatus.SEALED and b.opened_at is None for b in setup.tender.bids.all())


def test_cancellation_is_audited_and_anchored_in_the_ledger(org):
    setup, _member = _with_bids_and_panel(org)
    c = services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    event = AuditEvent.objects.get(action="tender.cancel", object_id=str(setup.tender.pk))
    assert event.before["status"] == "published" and event.after["status"] == "cancelled"
    assert event.after["reason"] == REASON
    assert event.after["sealed_bids"] == 2 and event.project_code == setup.project.code
    leaf = Leaf.objects.get(index=c.ledger_index)
    assert (leaf.kind, leaf.record_model, leaf.record_id) == (
        "tender_cancellation", "procurement.tendercancellation", str(c.pk))
    assert leaf.digest == registry.digest(c, "sha256") and leaf.project_code == setup.project.code
    # An edit after anchoring no longer matches the anchored digest (what `ledger verify` checks).
    TenderCancellation.objects.filter(pk=c.pk).update(reason="另有原因")
    assert registry.digest(TenderCancellation.objects.get(pk=c.pk), "sha256") != leaf.digest


def test_bidders_panel_and_key_holders_are_told(org):
    setup, member = _with_bids_and_panel(org)
    services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    notes = Notification.objects.filter(kind="tender_cancelled")
    for user, _s in setup.bidders:
        (note,) = notes.filter(recipient=user)
        assert setup.tender.reference in note.text and note.link == f"/procurement/tenders/{setup.tender.pk}/"
    assert notes.filter(recipient=member).count() == 1
    for holder in setup.holders:
        assert notes.filter(recipient=holder, text__contains="销毁").count() == 1


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_a_reason_is_required_and_nothing_is_written_without_one(org, reason):
    setup, _member = _with_bids_and_panel(org)
    leaves = Leaf.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=reason)
    assert "终止招标的理由" in str(exc.value.fields["reason"][0])
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.PUBLISHED and not TenderCancellation.objects.exists()
    assert Leaf.objects.count() == leaves and not AuditEvent.objects.filter(action="tender.cancel").exists()
    assert not Notification.objects.filter(kind="tender_cancelled").exists()


def test_an_awarded_tender_cannot_be_cancelled(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"], criteria="priceOnly")
    services.evaluation_finish(actor=org.user("a_housing"), tender=setup.tender)
    services.award_make(actor=org.user("a_housing"), tender=setup.tender)
    with pytest.raises(Conflict) as exc:
        services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    assert exc.value.code == "awarded" and not TenderCancellation.objects.exists()
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.AWARDED


def test_a_draft_or_cancelled_tender_cannot_be_cancelled(org):
    setup = draft_tender(org)
    with pytest.raises(Conflict):
        services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    setup = published_tender(org)
    services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    with pytest.raises(Conflict):
        services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    assert TenderCancellation.objects.count() == 1


@pytest.mark.parametrize(("who", "error"), [("b_housing", NotFound), ("a_auditor", PermissionDenied),
                                            ("a_finance", PermissionDenied), ("a_contractor", NotFound)])
def test_only_the_organiser_cancels(org, who, error):
    setup = published_tender(org)
    with pytest.raises(error):
        services.tender_cancel(actor=org.user(who), tender=setup.tender, reason=REASON)
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.PUBLISHED


def test_after_cancellation_no_bid_question_withdrawal_or_share_check(org):
    setup = published_tender(org)
    lodged = bid(setup, "1000000")
    owner = setup.bidders[0][0]
    services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    setup.tender.refresh_from_db()
    late, _s = bidder()
    with pytest.raises(Conflict):
        services.bid_submit(actor=late, tender=setup.tender, price="900000", technical="方案")
    with pytest.raises(Conflict):
        services.bid_withdraw(actor=owner, bid=lodged)
    with pytest.raises(Conflict):
        services.clarification_ask(actor=late, tender=setup.tender, question="还招吗？")
    with pytest.raises(Conflict) as exc:
        services.share_confirm(actor=setup.holders[0], tender=setup.tender, share_text=setup.shares[0])
    assert exc.value.code == "cancelled"


def test_a_tender_cancelled_after_the_opening_keeps_its_public_opening_record(org):
    setup = opened_tender(org, ["1000000", "1100000", "1200000"])
    c = services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    assert c.status_before == TenderStatus.OPENED
    page = _client().get(f"/procurement/tenders/{setup.tender.pk}/").content.decode()
    assert "开标记录" in page and "1100000.00" in page and REASON in page
    assert not Notification.objects.filter(text__contains="销毁").exists()  # the key was already used


# ---- OCDS -------------------------------------------------------------------------------------------------------


def test_cancellation_publishes_a_tender_cancellation_release_that_validates(org, django_capture_on_commit_callbacks):
    setup, _member = _with_bids_and_panel(org)
    ocid = builder.ocid_for_tender(setup.tender)
    publisher.publish_for_tender(setup.tender)  # the notice, as the publication's event publishes it
    with django_capture_on_commit_callbacks(execute=True):
        services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    assert list(OcdsRelease.objects.filter(ocid=ocid).order_by("date").values_list("tags", flat=True)) == [
        ["tender"], ["tenderCancellation"]]
    release = OcdsRelease.objects.filter(ocid=ocid).order_by("-date").first()
    tender = release.data["tender"]
    assert tender["status"] == "cancelled"
    (doc,) = tender["documents"]
    assert doc["documentType"] == "cancellationDetails" and doc["description"] == REASON
    assert "tenderers" not in tender and "numberOfTenderers" not in tender  # never opened: bids stay undisclosed
    assert_valid("release-schema.json", release.data)
    record = _client().get(f"/ocds/v1/records/{ocid}.json").json()
    assert_valid("record-package-schema.json", record)
    assert record["records"][0]["compiledRelease"]["tender"]["status"] == "cancelled"
    package = _client().get(f"/ocds/v1/releases/{ocid}.json").json()
    assert_valid("release-package-schema.json", package)


def test_a_cancellation_first_published_as_such_is_tagged_tender_and_cancellation(org):
    setup = published_tender(org)
    services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    release = publisher.publish_for_tender(setup.tender)
    assert release.tags == ["tender", "tenderCancellation"]
    assert_valid("release-schema.json", release.data)


def test_the_batch_publisher_carries_the_cancellation_too(org):
    setup = published_tender(org)
    services.tender_cancel(actor=org.user("a_housing"), tender=setup.tender, reason=REASON)
    assert publisher.publish_all() == 1
    release = OcdsRelease.objects.get(ocid=builder.ocid_for_tender(setup.tender))
    assert release.tags == ["tender", "tenderCancellation"]
    assert release.data["tender"]["documents"][0]["description"] == REASON
    assert_valid("release-schema.json", release.data)


# ---- pages and API ----------------------------------------------------------------------------------------------


def test_console_cancel_needs_a_reason_then_the_portal_shows_the_notice(org):
    setup, _member = _with_bids_and_panel(org)
    url = f"/console/procurement/tenders/{setup.tender.pk}/"
    c = _client(org.user("a_housing"))
    assert "终止招标" in c.get(url).content.decode()
    assert "cancel/" not in _client(org.user("a_auditor")).get(url).content.decode()
    r = c.post(url + "cancel/", {"reason": " "})
    assert r.status_code == 400 and "终止招标的理由" in r.content.decode() and not TenderCancellation.objects.exists()
    r = c.post(url + "cancel/", {"reason": REASON})
    assert r.status_code == 302
    console = c.get(url).content.decode()
    assert "终止公告" in console and REASON in console and "cancel/" not in console
    page = _client().get(f"/procurement/tenders/{setup.tender.pk}/").content.decode()
    assert "终止公告" in page and REASON in page and "不会开启" in page and "密封递交" not in page


def test_console_cancel_is_refused_to_other_staff(org):
    setup = published_tender(org)
    url = f"/console/procurement/tenders/{setup.tender.pk}/cancel/"
    assert _client(org.user("a_auditor")).post(url, {"reason": REASON}).status_code == 403
    assert _client(org.user("b_housing")).post(url, {"reason": REASON}).status_code == 404
    assert not TenderCancellation.objects.exists()


def test_api_cancel(org):
    setup = published_tender(org)
    c = _client(org.user("a_housing"))
    url = f"/api/v1/tenders/{setup.tender.pk}/cancel"
    r = c.post(url, data=json.dumps({"reason": ""}), content_type="application/json")
    assert r.status_code == 400 and "reason" in r.json()["error"]["fields"]
    r = c.post(url, data=json.dumps({"reason": REASON}), content_type="application/json")
    body = r.json()
    assert r.status_code == 200 and body["status"] == "cancelled" and body["cancellation_reason"] == REASON
    assert body["cancellation_ledger_index"] is not None
    r = c.post(url, data=json.dumps({"reason": REASON}), content_type="application/json")
    assert r.status_code == 409
