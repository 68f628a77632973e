"""Contracts: milestones within value and period, variations with a second approver and the leader above
the higher threshold, the ceiling the finance helper pays against."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from minsheng.core.errors import PermissionDenied, ValidationFailed
from minsheng.procurement import selectors, services
from minsheng.procurement.models import ContractMilestone, Variation
from minsheng.procurement.tests.factories import matrix_objects
from minsheng.testing.factories import WbsItemFactory, project_in


@pytest.fixture
def contract(org):
    project = project_in(org, "a")
    return matrix_objects(org, "a", project)["contract"]  # value 450,000.00, 90 days from today


def test_milestones_must_fit_the_value_and_the_period(org, contract):
    officer = org.user("a_housing")
    today = timezone.localdate()
    item = WbsItemFactory(project=contract.project, responsible=officer)
    services.milestone_add(actor=officer, contract=contract, title="主体完工", due_date=today + dt.timedelta(days=30),
                           amount="300000", wbs_item=item.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.milestone_add(actor=officer, contract=contract, title="竣工", due_date=today + dt.timedelta(days=60),
                               amount="150000.01")
    assert "amount" in exc.value.fields
    with pytest.raises(ValidationFailed) as exc:
        services.milestone_add(actor=officer, contract=contract, title="竣工", due_date=today + dt.timedelta(days=91),
                               amount="100")
    assert "due_date" in exc.value.fields
    other = WbsItemFactory(project=project_in(org, "a"), responsible=officer)
    with pytest.raises(ValidationFailed) as exc:
        services.milestone_add(actor=officer, contract=contract, title="x", due_date=today, amount="1",
                               wbs_item=other.pk)
    assert "wbs_item" in exc.value.fields
    assert ContractMilestone.objects.filter(contract=contract).count() == 1


def test_a_variation_is_approved_by_someone_else_and_raises_the_ceiling(org, contract):
    v = Variation.objects.get(contract=contract)  # proposed by a_drc, 1,000.00
    with pytest.raises(PermissionDenied):
        services.variation_decide(actor=org.user("a_drc"), variation=v, approve=True)
    services.variation_decide(actor=org.user("a_housing"), variation=v, approve=True)
    assert selectors.contract_ceiling(contract) == Decimal("451000.00")


def test_cumulative_share_warns_above_ten_and_needs_a_leader_above_fifteen_percent(org, contract):
    officer, drc = org.user("a_housing"), org.user("a_drc")
    Variation.objects.filter(contract=contract).delete()
    v1 = services.variation_propose(actor=drc, contract=contract, reason="增加管线", amount="49500")  # 11 %
    services.variation_decide(actor=officer, variation=v1, approve=True)
    summary = selectors.contract_summary(contract)
    assert summary.warn and not summary.needs_leader and summary.share_percent == Decimal("11.0")
    v2 = services.variation_propose(actor=drc, contract=contract, reason="取消绿化", amount="-22500")  # +5 % → 16 %
    with pytest.raises(PermissionDenied) as exc:
        services.variation_decide(actor=officer, variation=v2, approve=True)
    assert "16.0%" in str(exc.value.message)
    services.variation_decide(actor=org.user("a_leader"), variation=v2, approve=True)
    summary = selectors.contract_summary(contract)
    assert summary.needs_leader and summary.ceiling == Decimal("477000.00")


@pytest.mark.parametrize("amount", ["abc", "1.001", "0", "-450000"])
def test_bad_variation_amounts_are_refused(org, contract, amount):
    with pytest.raises(ValidationFailed):
        services.variation_propose(actor=org.user("a_drc"), contract=contract, reason="x", amount=amount)
    assert Variation.objects.filter(contract=contract).count() == 1


def test_signing_activates_the_award_and_closes_the_tender(org, contract):
    contract.tender.refresh_from_db()
    assert contract.award.status == "active" and contract.tender.status == "contracted"
    assert contract.supplier == contract.award.supplier and contract.value == contract.award.value
