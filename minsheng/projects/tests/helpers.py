"""Small helpers shared by the project tests: files, uploads and walking a project through gates."""

from __future__ import annotations

import io
from decimal import Decimal

from minsheng.projects import services
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import GateRequest, GateStatus, Project
from minsheng.testing.factories import Org

PDF_BYTES = b"%PDF-1.7\n%minsheng test\n" + b"0" * 64


def pdf(content: bytes = PDF_BYTES) -> io.BytesIO:
    return io.BytesIO(content)


def upload(org: Org, project: Project, kind: str, who: str = "a_housing"):
    return services.document_upload(
        actor=org.user(who),
        project=project,
        kind=kind,
        title=str(kind),
        fileobj=pdf(PDF_BYTES + kind.encode()),
        filename=f"{kind}.pdf",
    )


def fresh(project: Project) -> Project:
    return Project.objects.select_related("division", "lead_department").get(pk=project.pk)


def request_gate(org: Org, project: Project, to_stage: str, who: str = "a_housing", **kw) -> GateRequest:
    return services.gate_request(actor=org.user(who), project=fresh(project), to_stage=to_stage, **kw)


def approve(org: Org, request: GateRequest, *who: str) -> GateRequest:
    for key in who:
        request = services.gate_decide(actor=org.user(key), request=request, approve=True, comment="同意")
    return request


# (to_stage, document to upload first, approvers) for a small county project led by county a housing.
SMALL_PROJECT_PATH = [
    (Stage.PROPOSAL, None, ()),
    (Stage.FEASIBILITY, DocumentKind.PROPOSAL, ("a_drc",)),
    (Stage.DESIGN, DocumentKind.FSR, ("a_drc",)),
    (Stage.PROCUREMENT, DocumentKind.DESIGN, ("a_drc",)),
    (Stage.CONSTRUCTION, DocumentKind.CONTRACT, ("a_housing",)),
    (Stage.ACCEPTANCE, DocumentKind.COMPLETION, ("a_housing",)),
    (Stage.FINAL_ACCOUNTS, DocumentKind.ACCEPTANCE, ("a_housing",)),
    (Stage.OPERATION, DocumentKind.FINAL_ACCOUNTS, ("a_finance", "a_housing")),
    (Stage.POST_EVALUATION, DocumentKind.OM_REPORT, ("a_drc",)),
]


def advance(org: Org, project: Project, until: str) -> Project:
    """Walk a small county-a project along the full path up to (and including) `until`."""
    for to_stage, doc, approvers in SMALL_PROJECT_PATH:
        if to_stage == Stage.PROCUREMENT and fresh(project).design_estimate_amount is None:
            services.project_update(
                actor=org.user("a_housing"),
                project=fresh(project),
                data={"design_estimate_amount": str(fresh(project).estimate_amount or Decimal("3000000"))},
            )
        if to_stage == Stage.ACCEPTANCE and not project.wbs_items.exists():
            item = services.wbs_item_create(
                actor=org.user("a_housing"),
                project=fresh(project),
                data={
                    "code": "1",
                    "name": "主体工程",
                    "responsible": org.user("a_housing"),
                    "due_date": "2099-01-01",
                },
            )
            services.wbs_progress(actor=org.user("a_housing"), item=item, progress=100)
        if doc:
            upload(org, fresh(project), doc)
        req = approve(org, request_gate(org, project, to_stage), *approvers)
        assert req.status == GateStatus.APPROVED, (to_stage, req.status)
        if to_stage == until:
            break
    return fresh(project)
