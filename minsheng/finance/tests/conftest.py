"""Fixtures for finance tests: a county-a project under construction with an approved 估算 and 概算, a contract
with two milestones, its supervisor, one evidence document and a second housing officer (the department
approver of payments a_housing requests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from minsheng.accounts.roles import Role
from minsheng.finance.models import BudgetKind
from minsheng.finance.tests import factories as f
from minsheng.projects.lifecycle import Stage
from minsheng.testing.factories import UserFactory, project_in


@dataclass
class Money:
    org: Any
    project: Any
    estimate: Any
    design: Any
    contract: Any
    m1: Any
    m2: Any
    doc: Any
    approver: Any  # second housing officer


@pytest.fixture
def money(org) -> Money:
    project = project_in(org, "a", stage=Stage.CONSTRUCTION)
    estimate = f.approved(org, project, BudgetKind.ESTIMATE, "2900000")
    design = f.approved(org, project, BudgetKind.DESIGN, "3000000")
    contract = f.contract(org, project, "1000000")
    m1, m2 = list(contract.milestones.order_by("position"))
    f.supervise(org, project)
    doc = f.evidence(org, project)
    approver = UserFactory(username="a_housing2", role=Role.DEPT_OFFICER, division=org.county_a,
                           department=org.depts["a.housing"])
    org.users["a_housing2"] = approver
    project.refresh_from_db()
    return Money(org, project, estimate, design, contract, m1, m2, doc, approver)
