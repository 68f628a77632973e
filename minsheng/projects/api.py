"""Projects API: registry, WBS, gates, documents, history. Parse → call a service/selector → return."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import PageNumberPagination, paginate
from ninja.responses import Status

from minsheng.accounts.roles import Cap
from minsheng.core.errors import NotFound, PermissionDenied, ValidationFailed
from minsheng.core.models import Department
from minsheng.projects import selectors, services
from minsheng.projects.models import GateRequest, WbsItem
from minsheng.projects.schemas import (
    AuditOut,
    DocumentOut,
    GateDecisionIn,
    GateOptionOut,
    GateRequestIn,
    GateRequestOut,
    ProgressIn,
    ProjectIn,
    ProjectListOut,
    ProjectOut,
    ProjectPatch,
    TargetIn,
    TargetOut,
    WbsIn,
    WbsOut,
    WbsPatch,
)

router = Router(tags=["projects"])


class ProjectQuery(Schema):
    division: int | None = None
    domain: str | None = None
    stage: str | None = None
    overdue: bool = False
    q: str = ""


@router.get("/projects", response=list[ProjectListOut], summary="Projects visible to you, filtered")
@paginate(PageNumberPagination, page_size=25)
def project_list(request: HttpRequest, filters: Query[ProjectQuery]):
    return selectors.project_list(request.user, selectors.ProjectFilters(**filters.dict()))


@router.post("/projects", response={201: ProjectOut}, summary="Register a project")
def project_create(request: HttpRequest, payload: ProjectIn):
    data = payload.dict()
    partner_ids = data.pop("partner_departments")
    partners = list(Department.objects.select_related("division").filter(pk__in=partner_ids))
    if len(partners) != len(set(partner_ids)):
        raise ValidationFailed(fields={"partner_departments": [_("部门不存在。")]})
    project = services.project_create(actor=request.user, data=data, partners=partners)
    return Status(201, selectors.project_get(request.user, pk=project.pk))


@router.get("/projects/{int:project_id}", response=ProjectOut)
def project_detail(request: HttpRequest, project_id: int):
    return selectors.project_get(request.user, pk=project_id)


@router.get("/projects/by-code/{code}", response=ProjectOut, summary="Look a project up by its national code")
def project_by_code(request: HttpRequest, code: str):
    return selectors.project_get(request.user, code=code)


@router.patch("/projects/{int:project_id}", response=ProjectOut)
def project_update(request: HttpRequest, project_id: int, payload: ProjectPatch):
    project = selectors.project_get(request.user, pk=project_id)
    services.project_update(actor=request.user, project=project, data=payload.dict(exclude_unset=True))
    return selectors.project_get(request.user, pk=project_id)


@router.post("/projects/{int:project_id}/targets", response={201: TargetOut})
def target_add(request: HttpRequest, project_id: int, payload: TargetIn):
    project = selectors.project_get(request.user, pk=project_id)
    return Status(201, services.target_add(actor=request.user, project=project, **payload.dict()))


@router.get("/projects/{int:project_id}/wbs", response=list[WbsOut], summary="The responsibility checklist")
def wbs_list(request: HttpRequest, project_id: int):
    project = selectors.project_get(request.user, pk=project_id)
    return selectors.wbs_for_project(project)


@router.post("/projects/{int:project_id}/wbs", response={201: WbsOut})
def wbs_create(request: HttpRequest, project_id: int, payload: WbsIn):
    project = selectors.project_get(request.user, pk=project_id)
    return Status(201, services.wbs_item_create(actor=request.user, project=project, data=payload.dict()))


def _wbs_item(request: HttpRequest, item_id: int) -> WbsItem:
    item = (
        WbsItem.objects.filter(pk=item_id, project__in=selectors.projects_visible(request.user))
        .select_related("project", "project__lead_department", "responsible")
        .first()
    )
    if item is None:
        raise NotFound()
    return item


@router.patch("/wbs/{int:item_id}", response=WbsOut)
def wbs_update(request: HttpRequest, item_id: int, payload: WbsPatch):
    item = _wbs_item(request, item_id)
    return services.wbs_item_update(actor=request.user, item=item, data=payload.dict(exclude_unset=True))


@router.post("/wbs/{int:item_id}/progress", response=WbsOut, summary="Report a sub-item's progress (0–100)")
def wbs_progress(request: HttpRequest, item_id: int, payload: ProgressIn):
    item = _wbs_item(request, item_id)
    return services.wbs_progress(actor=request.user, item=item, progress=payload.progress)


@router.get("/wbs/overdue", response=list[WbsOut], summary="Overdue sub-items you can see")
@paginate(PageNumberPagination, page_size=50)
def wbs_overdue(request: HttpRequest):
    return selectors.overdue_items(request.user)


@router.get(
    "/projects/{int:project_id}/gates", response=list[GateOptionOut], summary="Gates open now and what each lacks"
)
def gate_options(request: HttpRequest, project_id: int):
    project = selectors.project_get(request.user, pk=project_id)
    # Labels are lazy translations: render them now, in the request's language.
    return [
        {**o, "to_label": str(o["to_label"]), "path_label": str(o["path_label"]), "slots": [str(s) for s in o["slots"]]}
        for o in services.gate_options(project)
    ]


@router.post("/projects/{int:project_id}/gates", response={201: GateRequestOut}, summary="Request a stage transition")
def gate_request(request: HttpRequest, project_id: int, payload: GateRequestIn):
    project = selectors.project_get(request.user, pk=project_id)
    req = services.gate_request(actor=request.user, project=project, **payload.dict())
    return Status(201, req)


def _gate_request(request: HttpRequest, request_id: int) -> GateRequest:
    req = (
        GateRequest.objects.filter(pk=request_id, project__in=selectors.projects_visible(request.user))
        .select_related("project", "project__division", "project__lead_department")
        .first()
    )
    if req is None:
        raise NotFound()
    return req


@router.get("/gate-requests", response=list[GateRequestOut], summary="Gate requests waiting for you")
def gates_waiting(request: HttpRequest):
    return selectors.gates_waiting_for(request.user)


@router.get("/gate-requests/{int:request_id}", response=GateRequestOut)
def gate_request_detail(request: HttpRequest, request_id: int):
    return _gate_request(request, request_id)


@router.post("/gate-requests/{int:request_id}/decision", response=GateRequestOut, summary="Approve or refuse a gate")
def gate_decide(request: HttpRequest, request_id: int, payload: GateDecisionIn):
    req = _gate_request(request, request_id)
    return services.gate_decide(actor=request.user, request=req, **payload.dict())


@router.post("/gate-requests/{int:request_id}/withdraw", response=GateRequestOut)
def gate_withdraw(request: HttpRequest, request_id: int):
    req = _gate_request(request, request_id)
    return services.gate_withdraw(actor=request.user, request=req)


@router.get("/projects/{int:project_id}/documents", response=list[DocumentOut])
def document_list(request: HttpRequest, project_id: int):
    project = selectors.project_get(request.user, pk=project_id)
    return project.documents.all()


@router.post("/projects/{int:project_id}/documents", response={201: DocumentOut}, summary="Upload a document")
def document_upload(request: HttpRequest, project_id: int, kind: Form[str], title: Form[str], file: File[UploadedFile]):
    project = selectors.project_get(request.user, pk=project_id)
    doc = services.document_upload(
        actor=request.user, project=project, kind=kind, title=title, fileobj=file, filename=file.name or ""
    )
    return Status(201, doc)


@router.get("/projects/{int:project_id}/history", response=list[AuditOut], summary="The project's audit trail")
def project_history(request: HttpRequest, project_id: int):
    project = selectors.project_get(request.user, pk=project_id)
    if not request.user.can(Cap.AUDIT_VIEW) and not services.can_manage(request.user, project):
        raise PermissionDenied()
    return selectors.project_history(request.user, project)
