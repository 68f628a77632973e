"""Earned value from the database: baselines, snapshots, warnings and roll-ups."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from minsheng.core.models import Notification
from minsheng.finance.models import BudgetKind, EvmSnapshot, PaymentRequest
from minsheng.finance.selectors import evm as sel
from minsheng.finance.services import evm as svc
from minsheng.finance.tests import factories as f
from minsheng.procurement.models import Contract
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import Project
from minsheng.testing.factories import WbsItemFactory, project_in

D = Decimal


def _pay(money, amount, on=None):
    req = PaymentRequest.objects.create(
        project=money.project, contract=money.contract, milestone=money.m1, amount=D(amount),
        invoice_number=f"I{amount}", invoice_amount=D(amount), invoice_date=timezone.localdate(),
        requested_by=money.org.user("a_housing"))
    return f.paid(req, on)


def test_baseline_from_contract_milestones_and_ev_from_the_wbs(money):
    today = timezone.localdate()
    Project.objects.filter(pk=money.project.pk).update(planned_start=today - dt.timedelta(days=60))
    project = Project.objects.get(pk=money.project.pk)
    WbsItemFactory(project=project, code="1", responsible=money.org.user("a_housing"), weight=D(1),
                   progress=D(40))
    WbsItemFactory(project=project, code="2", responsible=money.org.user("a_housing"), weight=D(3),
                   progress=D(20))
    _pay(money, "500000")
    result = svc.project_evm(project, today)
    m = result.measures
    assert result.baseline == "milestones" and m.bac == D("3000000")
    assert m.ev == D("750000.00")  # 25 % of BAC: (40×1 + 20×3) / 4
    assert m.ac == D("500000")
    # milestone 1 (300,000 of 1,000,000) due on day 30 has passed; milestone 2 runs day 30 → 120, now day 60
    assert m.pv == (D(3000000) * (D("0.3") + D("0.7") * D(30) / D(90))).quantize(D("0.01"))


def test_baseline_from_wbs_weights_and_due_dates_without_contracts(org):
    today = timezone.localdate()
    project = project_in(org, "a", stage=Stage.CONSTRUCTION, planned_start=today - dt.timedelta(days=10))
    f.approved(org, project, BudgetKind.DESIGN, "1000000")
    WbsItemFactory(project=project, code="1", responsible=org.user("a_housing"), weight=D(1),
                   due_date=today + dt.timedelta(days=10), progress=D(50))
    result = svc.project_evm(Project.objects.get(pk=project.pk), today)
    assert result.baseline == "wbs" and result.measures.pv == D("500000.00") and result.measures.spi == D(1)


def test_no_snapshot_without_an_approved_design(org):
    project = project_in(org, "a", stage=Stage.CONSTRUCTION)
    assert svc.evm_snapshot_take(project=project) is None and not EvmSnapshot.objects.exists()


def test_snapshot_is_one_per_day_and_warning_is_sent_once_when_health_worsens(money):
    today = timezone.localdate()
    project = Project.objects.get(pk=money.project.pk)
    Project.objects.filter(pk=project.pk).update(planned_start=today - dt.timedelta(days=60))
    project.refresh_from_db()
    WbsItemFactory(project=project, code="1", responsible=money.org.user("a_housing"), progress=D(60))
    yesterday = today - dt.timedelta(days=1)
    assert svc.evm_snapshot_take(project=project, as_of=yesterday).health == "green"
    assert not Notification.objects.exists()
    _pay(money, "2400000")  # CPI = 1,800,000 / 2,400,000 = 0.75
    snap = svc.evm_snapshot_take(project=project, as_of=today)
    assert snap.health == "red" and "cpi_red" in snap.reasons and snap.department_id_snapshot == \
        project.lead_department_id
    svc.evm_snapshot_take(project=project, as_of=today)  # the job ran twice today
    assert EvmSnapshot.objects.filter(project=project).count() == 2
    notes = Notification.objects.filter(kind="evm.health")
    assert notes.count() == 1 and notes[0].recipient == project.responsible_person
    assert "费用绩效指数低于 0.90" in notes[0].text


def test_daily_job_covers_tracked_projects(money, org):
    project_in(org, "a", stage=Stage.CONSTRUCTION)  # no 概算: skipped
    f.approved(org, project_in(org, "a", stage=Stage.DESIGN), BudgetKind.DESIGN, "100")  # not tracked yet
    from minsheng.finance.tasks import take_evm_snapshots

    assert take_evm_snapshots.call() == 1
    assert EvmSnapshot.objects.get().project_id == money.project.pk


def _snap(project, as_of, **kw):
    values = dict(bac=D(100), pv=D(50), ev=D(40), ac=D(50), health="green")
    values.update(kw)
    return EvmSnapshot.objects.create(project=project, as_of=as_of, department_id_snapshot=project.lead_department_id,
                                      division_path=project.division_path, **values)


@pytest.fixture
def snapshots(org):
    today = timezone.localdate()
    a1 = project_in(org, "a")
    a2 = project_in(org, "a", dept="civil", town=False)
    b1 = project_in(org, "b")
    _snap(a1, today, health="red")
    _snap(a2, today, pv=D(100), ev=D(100), ac=D(80))
    _snap(b1, today, health="amber")
    _snap(a1, today - dt.timedelta(days=1))  # an older day is not counted
    return today


def test_rollup_by_department_is_scoped(org, snapshots, django_assert_max_num_queries):
    rows = sel.rollup_by_department(org.user("admin"), as_of=snapshots)
    assert {r.label: r.projects for r in rows} == {"青溪区住房和城乡建设": 1, "青溪区民政": 1,
                                                   "东岭县住房和城乡建设": 1}
    with django_assert_max_num_queries(2):
        rows = sel.rollup_by_department(org.user("a_leader"), as_of=snapshots)
    assert [(r.label, r.red, r.spi, r.cpi) for r in rows] == [
        ("青溪区住房和城乡建设", 1, D("0.8"), D("0.8")), ("青溪区民政", 0, D(1), D("1.25"))]
    housing = sel.rollup_by_department(org.user("a_housing"), as_of=snapshots)
    assert [r.label for r in housing] == ["青溪区住房和城乡建设"]  # a department officer sees their own kind
    assert sel.rollup_by_department(org.user("a_contractor"), as_of=snapshots) == []


def test_rollup_by_division_folds_into_children(org, snapshots):
    rows = sel.rollup_by_division(org.user("admin"), as_of=snapshots, parent=org.city)
    assert {r.label: (r.projects, r.red, r.amber) for r in rows} == {"青溪区": (2, 1, 0), "东岭县": (1, 0, 1)}
    rows = sel.rollup_by_division(org.user("admin"), as_of=snapshots, parent=org.county_a)
    assert {r.label: r.projects for r in rows} == {"城关街道": 1, "青溪区": 1}  # the county's own project
    assert sel.rollup_by_division(org.user("b_leader"), as_of=snapshots, parent=org.county_a) == []
    assert sel.latest_date(org.user("a_leader")) == snapshots


def test_contract_baseline_ignores_terminated_contracts(money):
    Contract.objects.filter(pk=money.contract.pk).update(status="terminated")
    source, _segments = svc.baseline_for(Project.objects.get(pk=money.project.pk))
    assert source != "milestones"
