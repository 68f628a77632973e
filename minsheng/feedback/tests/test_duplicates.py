"""Near-duplicates (same category, nearby place, recent) are merged into one case; every reporter is told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from minsheng.core.errors import Conflict
from minsheng.feedback import metrics, services, sms
from minsheng.feedback.models import CitizenRequest, Status
from minsheng.feedback.tests.helpers import submit


@pytest.fixture(autouse=True)
def _clear():
    sms.outbox.clear()


def _c(org, **kw):
    return submit(org, **({"kind": "help", "latitude": "30.250000", "longitude": "120.160000"} | kw))


def test_distance():
    assert 100 < services.distance_m(30.25, 120.16, 30.251, 120.16) < 120


def test_nearby_report_is_merged_and_follows_the_case(org, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        primary = _c(org)
        dup = _c(org, latitude="30.250500", phone="13900002222")  # ~55 m away
    assert dup.merged_into == primary and dup.status == Status.CLOSED and dup.owner == primary.owner
    assert "合并办理" in sms.outbox[-1].text and sms.outbox[-1].phone == "13900002222"
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reply(actor=org.user("a_housing"), request=primary, text="已安排维修，本周完成")
    assert {m.phone for m in sms.outbox} == {"13800001234", "13900002222"}
    page = Client().post("/feedback/lookup/", {"receipt_code": dup.receipt_code, "phone": "13900002222"})
    text = page.content.decode()
    assert primary.receipt_code in text and "已安排维修" in text
    with pytest.raises(Conflict):
        services.request_reopen(receipt_code=dup.receipt_code, phone="13900002222", reason="问题还没解决呢")
    rows = metrics.metrics(CitizenRequest.objects.all(), "department")
    assert rows[0]["total"] == 1


@pytest.mark.parametrize("other", [
    {"latitude": "30.260000"},  # about 1.1 km away
    {"category": "welfare"},
    {"division_b": True},
    {"kind": "enquiry"},  # enquiries are answered one by one
])
def test_different_place_category_division_or_enquiry_is_not_merged(org, other):
    primary = _c(org)
    kw = dict(other)
    if kw.pop("division_b", False):
        kw["division"] = org.town_b
    second = submit(org, **({"kind": "help", "latitude": "30.250000", "longitude": "120.160000"} | kw))
    assert second.merged_into is None and primary.merged_into is None


def test_same_address_without_coordinates_is_merged_and_old_cases_are_not(org):
    first = submit(org, kind="help", address="青溪路 12 号")
    assert submit(org, kind="help", address="青溪路 12 号").merged_into == first
    CitizenRequest.objects.filter(pk=first.pk).update(created_at=first.created_at - dt.timedelta(hours=49))
    assert submit(org, kind="help", address="青溪路 12 号").merged_into is None


def test_the_distance_decides_at_the_edge_of_the_search_box(org):
    """Candidates are narrowed in SQL by a box a little larger than the circle; haversine decides."""
    first = _c(org)
    # 140 m north (inside 150 m) merges; 170 m north (inside the box, outside the circle) does not.
    assert _c(org, latitude="30.251259").merged_into == first
    assert _c(org, latitude="30.251529").merged_into is None
    # Same address, one with and one without coordinates: the address decides.
    located = _c(org, latitude="31.000000", address="青溪路 99 号")
    assert submit(org, kind="help", address="青溪路 99 号").merged_into == located


def test_a_report_with_no_place_is_nobodys_duplicate_and_costs_no_lookup(org):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submit(org, kind="help")
    with CaptureQueriesContext(connection) as ctx:
        second = submit(org, kind="help")
    assert second.merged_into is None
    lookups = [sql for sql in (q["sql"] for q in ctx.captured_queries)
               if sql.startswith("SELECT") and "feedback_citizenrequest" in sql and "merged_into_id" in sql]
    assert lookups == []
