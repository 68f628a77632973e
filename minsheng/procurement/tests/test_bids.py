"""Sealed bids: submission, the receipt and the ledger anchor, nobody reading a bid before the opening,
refusals, and the opening with its checks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from minsheng.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, Notification
from minsheng.ledger.models import Leaf
from minsheng.procurement import sealing, services
from minsheng.procurement.models import Bid, BidStatus, Method, TenderStatus
from minsheng.procurement.tests.factories import bid, bidder, pass_deadline, published_tender, supplier
from minsheng.testing.factories import UserFactory

SECRET_TEXT = "独家工法ZX-7：夜间不停水施工方案"


def test_submission_seals_commits_anchors_and_returns_a_receipt(org):
    setup = published_tender(org)
    user, _sup = bidder()
    receipt = services.bid_submit(actor=user, tender=setup.tender, price="1234567.89", technical=SECRET_TEXT,
                                  attachments=[{"name": "报价单.pdf", "sha256": "ab" * 32}])
    stored = Bid.objects.get(pk=receipt.bid.pk)
    assert stored.status == BidStatus.SEALED and stored.price is None and stored.content is None
    assert stored.commitment == receipt.commitment and stored.ledger_index == receipt.ledger_index
    leaf = Leaf.objects.get(index=receipt.ledger_index)
    assert (leaf.kind, leaf.record_model, leaf.record_id, leaf.digest) == (
        "bid_commitment", "procurement.bid", str(stored.pk), receipt.commitment)
    # The bidder can check the commitment with the salt from the receipt.
    assert len(receipt.salt) == 32
    assert AuditEvent.objects.filter(action="bid.submit", object_id=str(stored.pk)).exists()


def _dump_database() -> bytes:
    """Every value of every table, as bytes: what an administrator with database access could read."""
    out = []
    with connection.cursor() as cur:
        for model in apps.get_models():
            table = model._meta.db_table
            cur.execute(f'SELECT * FROM "{table}"')
            for row in cur.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        out.append(bytes(value))
                    elif value is not None:
                        out.append(str(value).encode())
    return b"\n".join(out)


def test_nobody_can_read_a_bid_before_the_opening(org, client):
    setup = published_tender(org)
    user, _sup = bidder()
    services.bid_submit(actor=user, tender=setup.tender, price="1234567.89", technical=SECRET_TEXT)
    private = sealing.combine([sealing.parse_share(s)[1] for s in setup.shares[:2]])
    dump = _dump_database()
    # Neither the bid's contents nor the key that would open it is anywhere in the database …
    assert SECRET_TEXT.encode() not in dump and b"1234567.89" not in dump
    assert private not in dump and private.hex().encode() not in dump
    assert not any(s.encode() in dump for s in setup.shares)
    # … and the administrator's console and API show only that a bid was received.
    client.force_login(org.user("admin"))
    page = client.get(f"/console/procurement/tenders/{setup.tender.pk}/")
    assert page.status_code == 200 and SECRET_TEXT not in page.content.decode()
    api = client.get(f"/api/v1/tenders/{setup.tender.pk}/bids")
    assert api.status_code == 200 and api.json() == []
    # An opening before the deadline is refused even with the shares.
    with pytest.raises(Conflict):
        services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares)


def test_a_bid_after_the_deadline_is_refused_and_nothing_written(org):
    setup = published_tender(org)
    user, _s = bidder()
    late = setup.tender.submission_deadline + dt.timedelta(seconds=1)
    leaves = Leaf.objects.count()
    with pytest.raises(Conflict) as exc:
        services.bid_submit(actor=user, tender=setup.tender, price="100", technical="x", now=late)
    assert exc.value.code == "deadline_passed"
    assert not Bid.objects.exists() and Leaf.objects.count() == leaves


def test_a_second_live_bid_is_refused_but_withdraw_and_resubmit_works(org):
    setup = published_tender(org)
    user, _s = bidder()
    first = services.bid_submit(actor=user, tender=setup.tender, price="100", technical="x").bid
    with pytest.raises(Conflict) as exc:
        services.bid_submit(actor=user, tender=setup.tender, price="90", technical="x")
    assert exc.value.code == "duplicate_bid" and Bid.objects.count() == 1
    services.bid_withdraw(actor=user, bid=first)
    second = services.bid_submit(actor=user, tender=setup.tender, price="90", technical="y").bid
    assert Bid.objects.get(pk=first.pk).status == BidStatus.WITHDRAWN and second.status == BidStatus.SEALED


def test_withdrawal_after_the_deadline_and_by_another_supplier_is_refused(org):
    setup = published_tender(org)
    b = bid(setup, "100")
    other, _s = bidder()
    with pytest.raises(NotFound):
        services.bid_withdraw(actor=other, bid=b)
    with pytest.raises(Conflict):
        services.bid_withdraw(actor=setup.bidders[0][0], bid=b, now=setup.tender.submission_deadline)


def test_an_uninvited_supplier_cannot_bid_on_an_invited_tender(org):
    invited = [bidder() for _ in range(3)]
    setup = published_tender(org, method=Method.INVITED, invited_suppliers=[s for _u, s in invited])
    outsider, _s = bidder()
    with pytest.raises(PermissionDenied):
        services.bid_submit(actor=outsider, tender=setup.tender, price="100", technical="x")
    assert not Bid.objects.exists()
    assert services.bid_submit(actor=invited[0][0], tender=setup.tender, price="100", technical="x").bid


@pytest.mark.parametrize(("price", "field"), [("-5", "price"), ("abc", "price"), ("10.001", "price"),
                                             ("1500000.01", "price"), ("0", "price")])
def test_bad_prices_are_refused(org, price, field):
    setup = published_tender(org)
    user, _s = bidder()
    with pytest.raises(ValidationFailed) as exc:
        services.bid_submit(actor=user, tender=setup.tender, price=price, technical="x")
    assert field in exc.value.fields and not Bid.objects.exists()


def test_staff_and_experts_cannot_bid(org):
    setup = published_tender(org)
    sup = supplier(users=[org.user("a_housing")])
    with pytest.raises(PermissionDenied):
        services.bid_submit(actor=org.user("a_housing"), tender=setup.tender, supplier=sup, price="1",
                            technical="x")
    expert = UserFactory(role="expert")
    with pytest.raises(PermissionDenied):
        services.bid_submit(actor=expert, tender=setup.tender, price="1", technical="x")


def test_opening_decrypts_and_checks_every_bid(org):
    setup = published_tender(org)
    b1, b2 = bid(setup, "1200000"), bid(setup, "1100000.50")
    services.bid_withdraw(actor=setup.bidders[1][0], bid=b2)
    b3 = bid(setup, "1300000")
    pass_deadline(setup.tender)
    result = services.tender_open(actor=org.user("a_housing"), tender=setup.tender,
                                  shares=[setup.shares[2], setup.shares[0]])
    assert [b.pk for b in result.opened] == [b1.pk, b3.pk] and not result.tampered
    b1.refresh_from_db()
    assert b1.status == BidStatus.OPENED and str(b1.price) == "1200000.00"
    assert b1.commitment_ok and b1.ledger_ok and b1.content["technical"].startswith("施工组织设计")
    assert Bid.objects.get(pk=b2.pk).status == BidStatus.WITHDRAWN
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.OPENED


def test_opening_needs_k_registered_shares(org):
    setup = published_tender(org)
    bid(setup, "100")
    pass_deadline(setup.tender)
    with pytest.raises(ValidationFailed):
        services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares[:1])
    other = published_tender(org)
    with pytest.raises(ValidationFailed):
        services.tender_open(actor=org.user("a_housing"), tender=setup.tender,
                             shares=[setup.shares[0], other.shares[1]])
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.PUBLISHED


@pytest.mark.parametrize("tamper", ["ciphertext", "commitment", "ledger"])
def test_a_tampered_bid_is_marked_and_raises_an_alert(org, tamper):
    setup = published_tender(org)
    good, bad = bid(setup, "1000000"), bid(setup, "1100000")
    if tamper == "ciphertext":
        ct = bytearray(bytes(bad.ciphertext))
        ct[5] ^= 0xFF
        Bid.objects.filter(pk=bad.pk).update(ciphertext=bytes(ct))
    elif tamper == "commitment":
        Bid.objects.filter(pk=bad.pk).update(commitment="0" * 64)
    else:
        Bid.objects.filter(pk=bad.pk).update(ledger_index=good.ledger_index)
    pass_deadline(setup.tender)
    result = services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares[:2])
    assert [b.pk for b in result.tampered] == [bad.pk] and [b.pk for b in result.opened] == [good.pk]
    bad.refresh_from_db()
    assert bad.status == BidStatus.TAMPERED and bad.price is None
    assert AuditEvent.objects.filter(action="bid.tampered", object_id=str(bad.pk)).exists()
    alerted = set(Notification.objects.filter(kind="bid_tampered").values_list("recipient__username", flat=True))
    assert {"a_auditor", "a_housing"} <= alerted


def test_moving_a_ciphertext_to_another_suppliers_row_is_detected(org):
    setup = published_tender(org)
    b1, b2 = bid(setup, "1000000"), bid(setup, "1100000")
    Bid.objects.filter(pk=b2.pk).update(ciphertext=bytes(b1.ciphertext), nonce=bytes(b1.nonce),
                                        ephemeral_public_key=bytes(b1.ephemeral_public_key),
                                        commitment=b1.commitment)
    pass_deadline(setup.tender)
    result = services.tender_open(actor=org.user("a_housing"), tender=setup.tender, shares=setup.shares[:2])
    assert [b.pk for b in result.tampered] == [b2.pk]


def test_only_the_organiser_opens(org):
    setup = published_tender(org)
    pass_deadline(setup.tender)
    with pytest.raises(PermissionDenied):
        services.tender_open(actor=org.user("a_finance"), tender=setup.tender, shares=setup.shares)
    assert timezone.now() > setup.tender.submission_deadline
