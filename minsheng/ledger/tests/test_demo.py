"""The demo city's history is anchored, so every demo project shows receipts that verify."""

import json

import pytest

from minsheng.demo import city
from minsheng.ledger import demo
from minsheng.ledger.models import Checkpoint, Leaf, VerificationRun
from minsheng.ledger.verification import verify
from minsheng.projects.models import Document, GateApproval, StageTransition


@pytest.mark.django_db
def test_demo_history_is_anchored_in_time_order_and_verifies():
    city.generate(seed=7, projects=12)
    expected = StageTransition.objects.count() + GateApproval.objects.count() + Document.objects.count()
    assert demo.anchor_history() == expected
    assert Leaf.objects.count() == expected
    times = [json.loads(bytes(leaf.data))["time"] for leaf in Leaf.objects.order_by("index")]
    assert times == sorted(times)
    assert Checkpoint.objects.filter(size=expected).exists()
    run = VerificationRun.objects.order_by("-id").first()
    assert run is not None and run.ok, run
    report = verify()
    assert report.ok, report
    # Anchoring again adds nothing (idempotent on type, record and digest).
    demo.anchor_history()
    assert Leaf.objects.count() == expected


@pytest.mark.django_db
def test_public_evidence_shows_when_the_event_happened_not_only_when_it_was_anchored():
    from minsheng.ledger.selectors import public_evidence

    city.generate(seed=7, projects=12)
    demo.anchor_history()
    transition = StageTransition.objects.select_related("project").order_by("at").first()
    entries = public_evidence(transition.project.code, receipt_url=lambda i: f"/r/{i}")
    happened = {e["happened_at"].replace(microsecond=0) for e in entries}
    assert transition.at.replace(microsecond=0) in happened
    assert all(e["happened_at"] <= e["at"] for e in entries)
