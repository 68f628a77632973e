"""Tender creation from an approved budget, method thresholds, publication and the key ceremony,
clarifications."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from minsheng.core.errors import Conflict, PermissionDenied, ValidationFailed
from minsheng.core.models import AuditEvent, JurisdictionSetting
from minsheng.finance.models import BudgetKind, BudgetStatus
from minsheng.procurement import sealing, services
from minsheng.procurement.models import Clarification, KeyShareHolder, Method, Tender, TenderStatus
from minsheng.procurement.tests.factories import (
    approved_budget,
    bidder,
    draft_tender,
    holders_for,
    published_tender,
    supplier,
)
from minsheng.testing.factories import project_in


def _create(org, project, budget, **kw):
    args = {"title": "施工", "category": "works", "method": Method.OPEN, "value": "1000000"} | kw
    return services.tender_create(actor=org.user("a_housing"), project=project, budget_version=budget, **args)


def test_tender_is_created_from_an_approved_budget(org):
    setup = draft_tender(org)
    assert setup.tender.status == TenderStatus.DRAFT
    assert setup.tender.reference == f"{setup.project.code}-T01"
    assert AuditEvent.objects.filter(action="tender.create", object_id=str(setup.tender.pk)).exists()


@pytest.mark.parametrize("change", ["unapproved", "estimate_kind", "other_project"])
def test_tender_needs_an_approved_design_or_construction_budget_of_the_project(org, change):
    project = project_in(org, "a")
    budget = approved_budget(project)
    if change == "unapproved":
        budget.status = BudgetStatus.SUBMITTED
        budget.save()
    elif change == "estimate_kind":
        budget.kind = BudgetKind.ESTIMATE
        budget.save()
    else:
        budget = approved_budget(project_in(org, "a"))
    with pytest.raises(ValidationFailed) as exc:
        _create(org, project, budget)
    assert "budget_version" in exc.value.fields
    assert not Tender.objects.exists()


def test_tender_value_cannot_exceed_what_is_left_of_the_budget(org):
    project = project_in(org, "a")
    budget = approved_budget(project, total="1500000")
    _create(org, project, budget, value="1000000")
    with pytest.raises(ValidationFailed) as exc:
        _create(org, project, budget, value="600000")
    assert "value" in exc.value.fields
    assert Tender.objects.count() == 1


@pytest.mark.parametrize("value", ["-1", "abc", "100.001", "0", "NaN"])
def test_bad_amounts_are_refused(org, value):
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed) as exc:
        _create(org, project, approved_budget(project), value=value)
    assert "value" in exc.value.fields


@pytest.mark.parametrize(("category", "value", "ok"), [
    ("works", "3999999.99", True), ("works", "4000000", False),
    ("goods", "2000000", False), ("services", "999999", True), ("services", "1000000", False),
])
def test_at_or_above_the_must_tender_threshold_only_open_or_invited(org, category, value, ok):
    project = project_in(org, "a")
    budget = approved_budget(project, total="9000000")
    args = {"category": category, "value": value, "method": Method.NEGOTIATION, "method_reason": "紧急"}
    if ok:
        assert _create(org, project, budget, **args).method == Method.NEGOTIATION
    else:
        with pytest.raises(ValidationFailed) as exc:
            _create(org, project, budget, **args)
        assert "method" in exc.value.fields


def test_thresholds_are_jurisdiction_data(org):
    JurisdictionSetting.objects.create(key="procurement.must_tender_from", division=org.county_a,
                                       value={"works": "1000000", "goods": "1", "services": "1"},
                                       valid_from=dt.date(2020, 1, 1), source="本地规定")
    project = project_in(org, "a")
    with pytest.raises(ValidationFailed):
        _create(org, project, approved_budget(project), value="1500000", method=Method.NEGOTIATION,
                method_reason="紧急")


def test_single_source_needs_a_reason_and_one_supplier(org):
    project = project_in(org, "a")
    budget = approved_budget(project)
    with pytest.raises(ValidationFailed) as exc:
        _create(org, project, budget, value="500000", method=Method.SINGLE_SOURCE)
    assert {"method_reason", "invited_suppliers"} <= set(exc.value.fields)
    t = _create(org, project, budget, value="500000", method=Method.SINGLE_SOURCE, method_reason="专利产品",
                invited_suppliers=[supplier()])
    assert t.invited_suppliers.count() == 1


def test_invited_tender_needs_three_suppliers(org):
    project = project_in(org, "a")
    budget = approved_budget(project)
    with pytest.raises(ValidationFailed) as exc:
        _create(org, project, budget, method=Method.INVITED, invited_suppliers=[supplier(), supplier()])
    assert "invited_suppliers" in exc.value.fields


def test_only_a_managing_officer_creates_tenders(org):
    project = project_in(org, "a")
    budget = approved_budget(project)
    with pytest.raises(PermissionDenied):
        services.tender_create(actor=org.user("a_finance"), project=project, budget_version=budget, title="x",
                               category="works", method="open", value="1")


def test_publication_splits_the_key_and_stores_only_digests_and_the_public_key(org):
    setup = published_tender(org)
    tender = setup.tender
    assert tender.status == TenderStatus.PUBLISHED and tender.published_at is not None
    rows = list(KeyShareHolder.objects.filter(tender=tender).order_by("index"))
    assert [r.holder for r in rows] == holders_for(org)
    assert [r.share_digest for r in rows] == [sealing.share_digest(s) for s in setup.shares]
    private = sealing.combine([sealing.parse_share(s)[1] for s in setup.shares[:2]])
    assert sealing.public_of(private) == bytes(tender.sealing_public_key)
    # Neither the private key nor any share text is in the audit trail.
    trail = str(list(AuditEvent.objects.values_list("before", "after")))
    assert private.hex() not in trail and not any(s in trail for s in setup.shares)


def test_submission_period_shorter_than_the_minimum_is_refused(org):
    setup = draft_tender(org)
    now = timezone.now()
    with pytest.raises(ValidationFailed) as exc:
        services.tender_publish(actor=org.user("a_housing"), tender=setup.tender, holders=holders_for(org),
                                submission_deadline=now + dt.timedelta(days=19), now=now)
    assert "20" in str(exc.value.fields["submission_deadline"][0])
    setup.tender.refresh_from_db()
    assert setup.tender.status == TenderStatus.DRAFT and not KeyShareHolder.objects.exists()


def test_negotiation_allows_a_shorter_period(org):
    setup = draft_tender(org, value="500000", method=Method.NEGOTIATION, method_reason="技术复杂")
    now = timezone.now()
    published = services.tender_publish(actor=org.user("a_housing"), tender=setup.tender,
                                         holders=holders_for(org), submission_deadline=now + dt.timedelta(days=3),
                                         now=now)
    assert published.tender.status == TenderStatus.PUBLISHED


def test_share_holders_must_be_officials_who_see_the_project(org):
    setup = draft_tender(org)
    user, _s = bidder()
    for holders in ([org.user("a_housing"), org.user("a_finance"), user],
                    [org.user("a_housing"), org.user("a_finance"), org.user("b_housing")],
                    [org.user("a_housing"), org.user("a_housing"), org.user("a_finance")]):
        with pytest.raises(ValidationFailed) as exc:
            services.tender_publish(actor=org.user("a_housing"), tender=setup.tender, holders=holders,
                                    submission_deadline=timezone.now() + dt.timedelta(days=30))
        assert "holders" in exc.value.fields


def test_a_holder_confirms_their_share(org):
    setup = published_tender(org)
    with pytest.raises(ValidationFailed):
        services.share_confirm(actor=org.user("a_housing"), tender=setup.tender, share_text=setup.shares[1])
    row = services.share_confirm(actor=org.user("a_housing"), tender=setup.tender, share_text=setup.shares[0])
    assert row.collected_at is not None
    with pytest.raises(PermissionDenied):
        services.share_confirm(actor=org.user("a_drc"), tender=setup.tender, share_text=setup.shares[0])


def test_publishing_twice_is_refused(org):
    setup = published_tender(org)
    with pytest.raises(Conflict):
        services.tender_publish(actor=org.user("a_housing"), tender=setup.tender, holders=holders_for(org),
                                submission_deadline=timezone.now() + dt.timedelta(days=30))


def test_bidders_ask_and_the_organiser_answers(org):
    setup = published_tender(org)
    user, _s = bidder()
    q = services.clarification_ask(actor=user, tender=setup.tender, question="是否允许联合体投标？")
    services.clarification_answer(actor=org.user("a_housing"), clarification=q, answer="不接受联合体投标。")
    q.refresh_from_db()
    assert q.answer and q.answered_by == org.user("a_housing")
    with pytest.raises(Conflict):
        services.clarification_answer(actor=org.user("a_housing"), clarification=q, answer="改")


def test_staff_cannot_ask_and_nobody_asks_after_the_clarification_deadline(org):
    setup = published_tender(org)
    with pytest.raises(PermissionDenied):
        services.clarification_ask(actor=org.user("a_housing"), tender=setup.tender, question="?")
    user, _s = bidder()
    late = setup.tender.clarification_deadline + dt.timedelta(minutes=1)
    with pytest.raises(Conflict):
        services.clarification_ask(actor=user, tender=setup.tender, question="?", now=late)
    assert not Clarification.objects.exists()
