"""The demo city's history is anchored, so every demo project shows receipts that verify."""

import json

import pytest

from minsheng.demo import city
from minsheng.ledger import demo
from minsheng.ledger.models import Checkpoint, Leaf
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
    report = verify()
    assert report.ok, report
    # Anchoring again adds nothing (idempotent on type, record and digest).
    demo.anchor_history()
    assert Leaf.objects.count() == expected
