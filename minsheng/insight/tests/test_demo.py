from __future__ import annotations

import pytest

from minsheng.insight import demo
from minsheng.insight.models import AuditSample, RedFlag
from minsheng.procurement.models import OcdsRelease
from minsheng.procurement.ocds.tests import factories as f

pytestmark = pytest.mark.django_db


def test_demo_publishes_ocds_and_computes_flags_once(org):
    f.process(org, "paid")
    assert demo.publish_ocds() == 1 and demo.publish_ocds() == 0
    assert OcdsRelease.objects.count() == 1
    result = demo.generate_insight(sample_size=1)
    assert result["flags"] == {"change_orders": 1}
    assert RedFlag.objects.count() == 1
    sample = AuditSample.objects.get(pk=result["sample"])
    assert sample.items.count() == 1 and sample.drawn_by == org.user("a_auditor")
    assert demo.generate_insight(sample_size=1)["sample"] is None  # the same demo sample is not drawn twice
