"""Who sees which red flags and samples, the console pages, the API, and the audit trail of decisions."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from minsheng.core.models import AuditEvent
from minsheng.insight import selectors, services
from minsheng.insight.models import AuditSample, FlagKind, FlagStatus, RedFlag
from minsheng.procurement.ocds.tests import factories as f
from minsheng.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


@pytest.fixture
def flags(org):
    """A short-period flag on a tender in each county (owner: that county's housing officer)."""
    out = {}
    for county in ("a", "b"):
        built = f.process(org, "awarded", county=county)
        t = built.tender
        t.published_at = t.submission_start = t.submission_deadline - dt.timedelta(days=5)
        t.save()
        (out[county],) = services.compute_for_tender(t)
    return out


@pytest.mark.parametrize(
    ("user", "sees"),
    [("a_auditor", {"a"}), ("a_finance", {"a"}), ("a_leader", {"a"}), ("b_finance", {"b"}),
     ("city_leader", {"a", "b"}), ("admin", {"a", "b"}), ("a_housing", {"a"}), ("b_housing", {"b"}),
     ("a_civil", set()), ("a_supervisor", set()), ("a_contractor", set()), ("a_inspector", set())],
)
def test_flag_scope(org, flags, user, sees):
    visible = set(selectors.flags_visible(org.user(user)).values_list("pk", flat=True))
    assert visible == {flags[c].pk for c in sees}


def test_owner_is_the_named_project_officer(org, flags):
    assert flags["a"].owner == org.user("a_housing") and flags["b"].owner == org.user("b_housing")


def test_list_page_with_filters_and_reasons(client, org, flags):
    login(client, org.user("a_auditor"))
    page = client.get("/console/insight/flags/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "投标期仅" in body and flags["a"].subject_label in body and flags["b"].subject_label not in body
    assert "风险线索" in body and 'href="/console/insight/flags/"' in body  # nav entry
    none = client.get("/console/insight/flags/", {"kind": FlagKind.SINGLE_BID}).content.decode()
    assert flags["a"].subject_label not in none
    some = client.get("/console/insight/flags/", {"severity": "high", "status": "open",
                                                   "department": flags["a"].department_id}).content.decode()
    assert flags["a"].subject_label in some


def test_nav_entry_only_for_those_who_review_flags(client, org, flags):
    login(client, org.user("a_civil"))
    assert "/console/insight/flags/" not in client.get("/console/").content.decode()


def test_decide_needs_a_comment_and_is_audited(client, org, flags):
    login(client, org.user("a_auditor"))
    url = f"/console/insight/flags/{flags['a'].pk}/decide/"
    refused = client.post(url, {"status": FlagStatus.DISMISSED, "comment": ""})
    assert refused.status_code == 400 and "请填写核查意见" in refused.content.decode()
    ok = client.post(url, {"status": FlagStatus.CONFIRMED, "comment": "公告期确实不足，已移交纪检"})
    assert ok.status_code == 302
    flag = RedFlag.objects.get(pk=flags["a"].pk)
    assert flag.status == FlagStatus.CONFIRMED and flag.decided_by == org.user("a_auditor")
    event = AuditEvent.objects.get(action="redflag.decide")
    assert event.after == {"status": "confirmed", "comment": "公告期确实不足，已移交纪检"}


def test_owner_sees_the_flag_but_cannot_decide_it(client, org, flags):
    login(client, org.user("a_housing"))
    page = client.get(f"/console/insight/flags/{flags['a'].pk}/")
    assert page.status_code == 200 and "保存结论" not in page.content.decode()
    response = client.post(f"/console/insight/flags/{flags['a'].pk}/decide/",
                           {"status": FlagStatus.DISMISSED, "comment": "不是问题"})
    assert response.status_code == 403
    assert RedFlag.objects.get(pk=flags["a"].pk).status == FlagStatus.OPEN


def test_a_flag_abroad_is_not_found(client, org, flags):
    login(client, org.user("a_auditor"))
    assert client.get(f"/console/insight/flags/{flags['b'].pk}/").status_code == 404


def test_api_lists_scoped_flags_and_takes_decisions(client, org, flags):
    login(client, org.user("b_finance"))
    data = client.get("/api/v1/redflags").json()
    assert data["count"] == 1 and data["items"][0]["id"] == flags["b"].pk
    assert data["items"][0]["reason"].startswith("投标期仅")
    assert client.get(f"/api/v1/redflags/{flags['a'].pk}").status_code == 404
    response = client.post(f"/api/v1/redflags/{flags['b'].pk}/decision",
                           data=json.dumps({"status": "dismissed", "comment": "经核实为应急采购"}),
                           content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "dismissed"
    bad = client.post(f"/api/v1/redflags/{flags['b'].pk}/decision",
                      data=json.dumps({"status": "maybe", "comment": "x"}), content_type="application/json")
    assert bad.status_code == 400


def test_reason_is_shown_in_english(client, org, flags):
    login(client, org.user("a_auditor"))
    data = client.get("/api/v1/redflags", HTTP_ACCEPT_LANGUAGE="en").json()
    assert data["items"][0]["reason"].startswith("The submission period")


# ---- audit samples -------------------------------------------------------------------------------------------------


@pytest.fixture
def payments(org):
    out = {}
    for county in ("a", "b"):
        built = f.process(org, "paid", county=county)
        actor = org.user(f"{county}_housing")
        out[county] = [built.payments[0]] + [
            f.payment(built.contract, built.milestones[1], Decimal(1000 + i), actor, status="paid")
            for i in range(11)
        ]
    return out


def test_sample_is_reproducible_and_scoped(org, payments):
    auditor = org.user("a_auditor")
    first = services.sample_draw(actor=auditor, title="2026年第一季度抽查", size=5, seed=42)
    again = services.sample_draw(actor=auditor, title="复核", size=5, seed=42)
    ids = list(first.items.values_list("payment_id", flat=True))
    assert ids == list(again.items.values_list("payment_id", flat=True))
    assert set(ids) <= {p.pk for p in payments["a"]} and len(set(ids)) == 5
    assert first.frame_count == 12 and first.seed == 42
    other = services.sample_draw(actor=auditor, title="另一种子", size=5, seed=43)
    assert list(other.items.values_list("payment_id", flat=True)) != ids
    assert AuditSample.objects.filter(pk=first.pk).exists()
    assert not selectors.samples_visible(org.user("b_finance")).filter(pk=first.pk).exists()


def test_stratified_sample_allocates_by_department(org, payments):
    sample = services.sample_draw(actor=org.user("admin"), title="分层",
                                  size=6, seed=1, stratify=True)
    by_county = {c: sum(1 for i in sample.items.all() if i.payment_id in {p.pk for p in payments[c]})
                 for c in ("a", "b")}
    assert by_county == {"a": 3, "b": 3}


def test_sample_page_and_findings(client, org, payments):
    login(client, org.user("a_auditor"))
    assert client.get("/console/insight/samples/").status_code == 200
    response = client.post("/console/insight/samples/", {"title": "专项抽查", "size": 3, "seed": 7})
    assert response.status_code == 302
    sample = AuditSample.objects.get(title="专项抽查")
    page = client.get(response["Location"]).content.decode()
    assert "专项抽查" in page and "7" in page
    item = sample.items.first()
    client.post(f"/console/insight/samples/items/{item.pk}/finding/", {"result": "issue", "finding": ""})
    item.refresh_from_db()
    assert item.result == "pending"  # an issue needs a written finding
    client.post(f"/console/insight/samples/items/{item.pk}/finding/",
                {"result": "issue", "finding": "监理签认日期晚于付款日期"})
    item.refresh_from_db()
    assert item.result == "issue" and item.checked_by == org.user("a_auditor")
    assert AuditEvent.objects.filter(action="audit_sample.finding").count() == 1


def test_sample_bad_input_is_refused(client, org, payments):
    login(client, org.user("a_auditor"))
    response = client.post("/console/insight/samples/", {"title": "", "size": 0})
    assert response.status_code == 400
    assert not AuditSample.objects.exists()


def test_only_auditors_finance_and_admin_draw_samples(client, org, payments):
    login(client, org.user("a_housing"))
    assert client.get("/console/insight/samples/").status_code == 403
    login(client, org.user("b_finance"))
    sample = services.sample_draw(actor=org.user("a_auditor"), title="甲", size=2, seed=3)
    assert client.get(f"/console/insight/samples/{sample.pk}/").status_code == 404
