"""首问负责制: transfers, disputes, ping-pong, and the invariant that an open request always has an owner."""

from __future__ import annotations

import random

import pytest

from minsheng.core.errors import MinshengError, PermissionDenied, ValidationFailed
from minsheng.feedback import services
from minsheng.feedback.models import CitizenRequest, Status, Transfer, TransferStatus
from minsheng.feedback.tests.helpers import add_coordinator, submit


@pytest.fixture
def office(org):
    return add_coordinator(org)


def test_transfer_keeps_the_owner_until_the_receiving_unit_accepts(org, office):
    req = submit(org)
    a, civil = org.depts["a.housing"], org.depts["a.civil"]
    services.transfer_request(actor=org.user("a_housing"), request=req, to_unit=civil, reason="属于民政救助范围")
    req.refresh_from_db()
    assert req.owner == a
    with pytest.raises(PermissionDenied):
        services.transfer_accept(actor=org.user("a_housing"), request=req)
    req = services.transfer_accept(actor=org.user("a_civil"), request=req)
    assert req.owner == civil and req.first_responder == a


@pytest.mark.parametrize(("to", "reason", "field"), [
    ("a.civil", "", "reason"),
    ("b.housing", "应由东岭县办理", "to_unit"),  # outside the request's division tree
    ("a.housing", "转给自己试试", "to_unit"),
])
def test_bad_transfers_are_refused_and_write_nothing(org, office, to, reason, field):
    req = submit(org)
    with pytest.raises(ValidationFailed) as exc:
        services.transfer_request(actor=org.user("a_housing"), request=req, to_unit=org.depts[to], reason=reason)
    assert field in exc.value.fields
    assert not Transfer.objects.exists()


def test_disputed_transfer_goes_to_the_coordinating_office(org, office):
    req = submit(org)
    services.transfer_request(actor=org.user("a_housing"), request=req, to_unit=org.depts["a.civil"],
                              reason="属于民政救助范围")
    t = services.transfer_dispute(actor=org.user("a_civil"), request=req, reason="不属于本单位职责")
    assert t.status == TransferStatus.DISPUTED and t.coordinator == office and t.coordinator_deadline
    req.refresh_from_db()
    assert req.owner == org.depts["a.housing"] and req.escalated
    with pytest.raises(PermissionDenied):
        services.transfer_decide(actor=org.user("a_civil"), request=req, unit=org.depts["a.civil"])
    req = services.transfer_decide(actor=org.user("coordinator"), request=req, unit=org.depts["a.civil"])
    assert req.owner == org.depts["a.civil"]


def test_ping_pong_is_detected_and_escalated(org, office):
    req = submit(org)
    services.transfer_request(actor=org.user("a_housing"), request=req, to_unit=org.depts["a.civil"],
                              reason="属于民政救助范围")
    services.transfer_accept(actor=org.user("a_civil"), request=req)
    t = services.transfer_request(actor=org.user("a_civil"), request=req, to_unit=org.depts["a.housing"],
                                  reason="还是住建的事情")
    assert t.status == TransferStatus.DISPUTED and t.coordinator == office
    req.refresh_from_db()
    assert req.escalated and req.owner == org.depts["a.civil"]
    assert office.pk in {n.recipient.department_id for n in org.user("coordinator").notifications.all()}


def test_random_sequences_never_leave_an_open_request_without_an_owner(org, office):
    """Randomized: many requests, many operations by many people, in any order; after every step no
    open request lacks an owner, at most one transfer per request is pending, and the first responder
    never changes."""
    rng = random.Random(20261125)
    units = [org.depts[k] for k in ("a.housing", "a.civil", "a.drc", "a.finance", "city.civil", "b.housing")]
    people = ["a_housing", "a_civil", "a_drc", "a_finance", "coordinator", "b_housing", "admin"]
    reqs = [submit(org, category=rng.choice(["housing", "welfare"]), phone=f"1380000{i:04d}") for i in range(12)]
    first = {r.pk: r.first_responder_id for r in reqs}
    ops = ["accept", "contact", "reply", "visit_ok", "visit_bad", "close", "transfer", "t_accept", "t_dispute",
           "t_decide", "wait", "resume"]
    weights = [2, 2, 2, 2, 1, 3, 4, 4, 3, 3, 1, 1]  # transfers more often than closing
    applied: set[str] = set()
    for _ in range(600):
        req = CitizenRequest.objects.get(pk=rng.choice(reqs).pk)
        # Mostly someone entitled to act (owner, receiving unit, coordinator), sometimes anyone.
        entitled = [k for k in people if org.user(k).department_id in {req.owner_id, *Transfer.objects.filter(
            request=req).exclude(status="accepted").values_list("to_unit_id", flat=True), office.pk}]
        actor = org.user(rng.choice(entitled if entitled and rng.random() < 0.8 else people))
        op = rng.choices(ops, weights)[0]
        try:
            match op:
                case "accept":
                    services.request_accept(actor=actor, request=req)
                case "contact":
                    services.request_contact(actor=actor, request=req, note="已电话联系")
                case "reply":
                    services.request_reply(actor=actor, request=req, text="已处理完毕，请查收")
                case "visit_ok" | "visit_bad":
                    services.request_return_visit(actor=actor, request=req, resolved=op == "visit_ok",
                                                  satisfaction=rng.randint(1, 5))
                case "close":
                    services.request_close(actor=actor, request=req)
                case "transfer":
                    services.transfer_request(actor=actor, request=req, to_unit=rng.choice(units),
                                              reason="不属于本单位职责范围")
                case "t_accept":
                    services.transfer_accept(actor=actor, request=req)
                case "t_dispute":
                    services.transfer_dispute(actor=actor, request=req, reason="不属于本单位职责")
                case "t_decide":
                    services.transfer_decide(actor=actor, request=req, unit=rng.choice(units))
                case "wait":
                    services.request_wait(actor=actor, request=req, waiting=True, note="请补充材料")
                case "resume":
                    services.request_wait(actor=actor, request=req, waiting=False)
            applied.add(op)
        except MinshengError:
            pass
        for r in CitizenRequest.objects.all():
            assert r.status == Status.CLOSED or r.owner_id is not None
            assert r.first_responder_id == first[r.pk]
            assert Transfer.objects.filter(request=r, status=TransferStatus.PENDING).count() <= 1
    # The walk really exercised the transfer machinery and the whole workflow.
    assert {"transfer", "t_accept", "t_dispute", "t_decide", "reply", "close"} <= applied, applied
