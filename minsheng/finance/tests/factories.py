"""Finance test data: approved budgets, and contracts with milestones made directly with the ORM (procurement's
own services are another team's; these tests only need the rows)."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

from django.utils import timezone

from minsheng.finance.models import BudgetKind, BudgetLine, BudgetStatus, BudgetVersion, PaymentRequest
from minsheng.procurement.models import Contract, ContractMilestone, Supplier
from minsheng.projects.lifecycle import DocumentKind
from minsheng.projects.models import Document, MemberRole, Project, ProjectMember
from minsheng.projects.tests.helpers import upload
from minsheng.testing.factories import Org

_seq = itertools.count(1)


def line(**kw: Any) -> dict[str, Any]:
    return {"category": "works", "item": "外墙保温", "quantity": "1200", "unit": "m²", "unit_cost": "85.50",
            "justification": "按设计图纸计量，单价参照本省 2024 年定额", "standard": "省建设工程计价定额 A-10-12"} | kw


def approved(org: Org, project: Project, kind: str, total: Decimal | str, *, approver: str = "a_finance",
             preparer: str = "a_housing") -> BudgetVersion:
    """An approved version with one line carrying the whole total."""
    total = Decimal(str(total))
    number = BudgetVersion.objects.filter(project=project, kind=kind).count() + 1
    v = BudgetVersion.objects.create(project=project, kind=kind, number=number, status=BudgetStatus.APPROVED,
                                     total=total, prepared_by=org.user(preparer), approved_by=org.user(approver),
                                     decided_at=timezone.now())
    BudgetLine.objects.create(version=v, category="works", item="工程费", quantity=Decimal(1), unit="项",
                              unit_cost=total, amount=total, justification="测算", standard="定额")
    if kind == BudgetKind.ESTIMATE:
        Project.objects.filter(pk=project.pk).update(estimate_amount=total)
    if kind == BudgetKind.DESIGN:
        Project.objects.filter(pk=project.pk).update(design_estimate_amount=total)
    return v


def supplier(name: str = "青溪建工集团有限公司") -> Supplier:
    n = next(_seq)
    return Supplier.objects.create(name=name, credit_code=f"91330100MA{n:08d}")


def contract(org: Org, project: Project, value: Decimal | str = "1000000", *,
             milestones: list[tuple[dt.date, Decimal | str]] | None = None, supplier_obj: Supplier | None = None,
             start: dt.date | None = None) -> Contract:
    start = start or timezone.localdate() - dt.timedelta(days=60)
    c = Contract.objects.create(project=project, supplier=supplier_obj or supplier(), number=f"HT-{next(_seq):05d}",
                                title="施工合同", value=Decimal(str(value)), signed_on=start, period_start=start,
                                period_end=start + dt.timedelta(days=180), created_by=org.user("a_housing"))
    if milestones is None:
        milestones = [(start + dt.timedelta(days=30), Decimal(str(value)) * Decimal("0.3")),
                      (start + dt.timedelta(days=120), Decimal(str(value)) * Decimal("0.7"))]
    for i, (due, amount) in enumerate(milestones):
        ContractMilestone.objects.create(contract=c, position=i, title=f"节点{i + 1}", due_date=due,
                                         amount=Decimal(str(amount)))
    return c


def supervise(org: Org, project: Project, who: str = "a_supervisor") -> None:
    ProjectMember.objects.get_or_create(project=project, user=org.user(who), role=MemberRole.SUPERVISOR)


def evidence(org: Org, project: Project) -> Document:
    return upload(org, project, DocumentKind.CONTRACT)


def payment_args(org: Org, milestone: ContractMilestone, doc: Document, **kw: Any) -> dict[str, Any]:
    n = next(_seq)
    return {
        "milestone": milestone, "amount": "100000", "invoice_number": f"INV{n:08d}", "invoice_amount": "100000",
        "invoice_date": (timezone.localdate() - dt.timedelta(days=n % 20)).isoformat(),
        "measured_quantities": [{"item": "外墙保温", "quantity": "400", "unit": "m²"}],
        "supervisor": org.user("a_supervisor"), "documents": [doc.pk],
    } | kw


def signoff(org: Org, req: PaymentRequest, who: str = "a_supervisor") -> PaymentRequest:
    """The supervisor the request names confirms its measured quantities (through the service)."""
    from minsheng.finance.services.payments import payment_signoff

    return payment_signoff(actor=org.user(who), request=req, confirm=True, comment="计量属实")


def paid(req: PaymentRequest, on: dt.date | None = None) -> PaymentRequest:
    PaymentRequest.objects.filter(pk=req.pk).update(status="paid", paid_on=on or timezone.localdate(),
                                                    payment_voucher="PZ-1")
    req.refresh_from_db()
    return req


def matrix_objects(org: Org, county: str, project: Project, contract: Contract) -> dict[str, Any]:
    """For the API permission matrix, on the county's project (approved 概算 and a contract from procurement's
    matrix objects): a draft 预算 and its line, a submitted 预算 small enough for the county finance officer, a
    milestone, a payment request the supervisor has confirmed, submitted by the county's 发改 officer (so the
    housing officer may approve it), and one still waiting for county a's supervisor to confirm it."""
    from minsheng.finance.models import BudgetKind, BudgetStatus

    officer = org.user(f"{county}_housing")

    def version(number: int, status: str) -> BudgetVersion:
        v = BudgetVersion.objects.create(project=project, kind=BudgetKind.BUDGET, number=number, status=status,
                                         total=Decimal(1000), prepared_by=officer)
        BudgetLine.objects.create(version=v, category="works", item="矩阵", quantity=Decimal(1), unit="项",
                                  unit_cost=Decimal(1000), amount=Decimal(1000), justification="矩阵", standard="矩阵")
        return v

    milestone = ContractMilestone.objects.create(contract=contract, title="矩阵节点", amount=Decimal(100000),
                                                 due_date=timezone.localdate() + dt.timedelta(days=30))
    payment = PaymentRequest.objects.create(
        project=project, contract=contract, milestone=milestone, amount=Decimal(2000), invoice_number=f"MX-{county}",
        invoice_amount=Decimal(2000), invoice_date=timezone.localdate() - dt.timedelta(days=3),
        measured_quantities=[{"item": "矩阵", "quantity": "1", "unit": "项"}], requested_by=org.user(f"{county}_drc"))
    awaiting = PaymentRequest.objects.create(
        project=project, contract=contract, milestone=milestone, amount=Decimal(1500), invoice_number=f"MS-{county}",
        invoice_amount=Decimal(1500), invoice_date=timezone.localdate() - dt.timedelta(days=2),
        measured_quantities=[{"item": "矩阵", "quantity": "1", "unit": "项"}], requested_by=org.user(f"{county}_drc"),
        supervisor_signoff=org.user("a_supervisor"), status="awaiting_signoff")
    doc = Document.objects.filter(project=project).first()
    draft = version(1, BudgetStatus.DRAFT)
    return {
        "budget_draft": draft,
        "budget_line": draft.lines.get(),
        "payment_signoff": awaiting,
        "budget": version(2, BudgetStatus.SUBMITTED),
        "payment": payment,
        "payment_body": {
            "milestone": milestone.pk, "amount": "1000", "invoice_number": f"MY-{county}", "invoice_amount": "1000",
            "invoice_date": timezone.localdate().isoformat(), "supervisor": org.user("a_supervisor").pk,
            "measured_quantities": [{"item": "矩阵", "quantity": "1", "unit": "项"}],
            "documents": [doc.pk] if doc else []},
    }


def matrix_body(method: str, path: str, objs: dict[str, Any]) -> dict[str, Any] | None:
    """The request body the permission matrix sends to a finance endpoint (None: not a finance endpoint)."""
    if (method, path) == ("POST", "/projects/{project_id}/budgets"):
        return {"kind": "budget", "lines": [line()]}
    if (method, path) == ("POST", "/projects/{project_id}/payment-requests"):
        return objs["payment_body"]
    if path == "/payment-requests/{payment_id}/approve":
        return {"comment": "同意"}
    if path == "/payment-requests/{payment_id}/reject":
        return {"comment": "计量不符"}
    if path == "/payment-requests/{payment_id}/signoff":
        return {"confirm": True, "comment": "计量属实"}
    if (method, path) == ("POST", "/budgets/{budget_id}/lines"):
        return line()
    if (method, path) == ("PATCH", "/budget-lines/{line_id}"):
        return {"quantity": "2"}
    if (method, path) == ("DELETE", "/budget-lines/{line_id}"):
        return {}
    return None
