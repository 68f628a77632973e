"""Every role (and anonymous) against every endpoint of the JSON API, on an object in the user's own
county and on one in the other county. The endpoints are read from the OpenAPI schema, so an endpoint
added without a row here fails `test_every_endpoint_has_a_matrix_row`."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from minsheng.api import api
from minsheng.projects import services
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import MemberRole
from minsheng.projects.tests.helpers import PDF_BYTES, fresh, request_gate, upload
from minsheng.testing.factories import WbsItemFactory, project_in

# One representative user per role; supervisor, contractor and evaluator are assigned to the own project.
ROLES = {
    "leader": "a_leader",
    "dept_officer": "a_housing",
    "finance_officer": "a_finance",
    "supervisor": "a_supervisor",
    "township_inspector": "a_inspector",
    "auditor": "a_auditor",
    "evaluator": "a_evaluator",
    "contractor": "a_contractor",
    "sysadmin": "admin",
    "anonymous": None,
}
ROLE_ORDER = list(ROLES)

# Expected status per role, as (own county, other county). A single value: the endpoint takes no object.
_ALL_200 = {r: 200 for r in ROLE_ORDER} | {"anonymous": 401}
_SEE = {r: (200, 404) for r in ROLE_ORDER} | {"sysadmin": (200, 200), "anonymous": (401, 401)}


def _only(ok: int, who: set[str], others: int = 403) -> dict[str, Any]:
    """`ok` for the roles in `who`, `others` for the rest who can see the object; 404 abroad."""
    row = {r: ((ok if r in who else others), 404) for r in ROLE_ORDER}
    row["sysadmin"] = (ok, ok) if "sysadmin" in who else (others, others)
    row["anonymous"] = (401, 401)
    return row


MANAGERS = {"dept_officer", "sysadmin"}
INSPECTORS = {"supervisor", "township_inspector", "dept_officer", "sysadmin"}
ALARM_HANDLERS = {"supervisor", "dept_officer", "sysadmin"}

_FEEDBACK_SEE = {r: (200, 404) for r in ROLE_ORDER} | {
    r: (404, 404) for r in ("supervisor", "evaluator", "contractor")} | {"sysadmin": (200, 200),
                                                                        "anonymous": (401, 401)}
_FEEDBACK_ACT = {r: ((403, 404) if v == (200, 404) else v) for r, v in _FEEDBACK_SEE.items()} | {
    "dept_officer": (200, 404)}


def _feedback_act(ok: int) -> dict[str, Any]:
    """The owner unit gets `ok` (a 409 when the fresh request is not yet in the step's state)."""
    return _FEEDBACK_ACT | {"dept_officer": (ok, 404), "sysadmin": (ok, ok)}


def _feedback_no_transfer() -> dict[str, Any]:
    """Transfer steps on a request with no transfer pending: 409 for whoever can see it."""
    return {r: tuple(409 if s == 200 else s for s in v) for r, v in _FEEDBACK_SEE.items()}

# insight: red flags are seen by those who review them (leader, finance officer, auditor) in their area and by
# the flag's named owner (here the project's housing officer), who may not decide it.
_REDFLAG_SEE = {r: (404, 404) for r in ROLE_ORDER} | {
    r: (200, 404) for r in ("leader", "finance_officer", "auditor", "dept_officer")} | {
    "sysadmin": (200, 200), "anonymous": (401, 401)}

_SUPPLIER_SEE = {r: (404, 404) for r in ROLE_ORDER} | {
    r: (200, 200) for r in ("leader", "dept_officer", "finance_officer", "auditor", "sysadmin")} | {
    "anonymous": (401, 401)}


def _supplier_keep(ok: int) -> dict[str, Any]:
    """Tender managers keep the supplier registry; other readers get 403, the rest 404."""
    return {r: ((403, 403) if v == (200, 200) else v) for r, v in _SUPPLIER_SEE.items()} | {
        "dept_officer": (ok, ok), "sysadmin": (ok, ok)}


MATRIX: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/me"): _ALL_200,
    # Everyone's own notifications (test_notifications.py: never another person's).
    ("GET", "/notifications"): _ALL_200,
    ("POST", "/notifications/read"): _ALL_200,
    ("GET", "/redflags"): _ALL_200,
    ("GET", "/redflags/{flag_id}"): _REDFLAG_SEE,
    ("POST", "/redflags/{flag_id}/decision"): _REDFLAG_SEE | {"dept_officer": (403, 404)},
    ("GET", "/divisions"): _ALL_200,
    ("GET", "/divisions/{division_id}"): _SEE
    | {r: (404, 404) for r in ("supervisor", "evaluator", "contractor")},
    ("GET", "/departments"): _ALL_200,
    ("GET", "/staff"): _ALL_200,
    ("GET", "/projects"): _ALL_200,
    ("POST", "/projects"): {r: (403, 403) for r in ROLE_ORDER}
    | {"dept_officer": (201, 400), "sysadmin": (201, 201), "anonymous": (401, 401)},
    ("GET", "/projects/{project_id}"): _SEE,
    ("PATCH", "/projects/{project_id}"): _only(200, MANAGERS),
    ("GET", "/projects/by-code/{code}"): _SEE,
    ("POST", "/projects/{project_id}/targets"): _only(201, MANAGERS),
    ("GET", "/projects/{project_id}/wbs"): _SEE,
    ("POST", "/projects/{project_id}/wbs"): _only(201, MANAGERS),
    ("PATCH", "/wbs/{item_id}"): _only(200, MANAGERS),
    ("POST", "/wbs/{item_id}/progress"): _only(200, MANAGERS | {"supervisor"}),
    ("GET", "/wbs/overdue"): _ALL_200,
    ("GET", "/projects/{project_id}/gates"): _SEE,
    ("POST", "/projects/{project_id}/gates"): _only(201, MANAGERS),
    ("GET", "/gate-requests"): _ALL_200,
    ("GET", "/gate-requests/{request_id}"): _SEE,
    # The pending request is a suspension: only a leader of the division or above fills its slot.
    ("POST", "/gate-requests/{request_id}/decision"): _only(200, {"leader"}),
    ("POST", "/gate-requests/{request_id}/withdraw"): _only(200, MANAGERS),
    ("GET", "/projects/{project_id}/documents"): _SEE,
    ("POST", "/projects/{project_id}/documents"): _only(
        201, MANAGERS | {"finance_officer", "supervisor", "contractor"}
    ),
    ("GET", "/projects/{project_id}/history"): _only(
        200, MANAGERS | {"leader", "finance_officer", "auditor"}
    ),
    # construction (supervision): inspectors are the assigned supervisor, the township inspector of the
    # area and the managing department; the foreign project has no contractor to send an order to.
    ("GET", "/projects/{project_id}/progress-gap"): _SEE,
    ("GET", "/projects/{project_id}/supervision-logs"): _SEE,
    ("POST", "/projects/{project_id}/supervision-logs"): _only(201, {"supervisor", "sysadmin"}),
    ("GET", "/projects/{project_id}/inspections"): _SEE,
    ("POST", "/projects/{project_id}/inspections"): _only(201, INSPECTORS),
    ("GET", "/projects/{project_id}/rectifications"): _SEE,
    ("POST", "/projects/{project_id}/rectifications"): _only(201, INSPECTORS) | {"sysadmin": (201, 400)},
    # Only the project's contractor gets past the permission check; the empty evidence list is then refused.
    ("POST", "/projects/{project_id}/progress-reports"): _only(400, {"contractor"}),
    # telemetry: ingest authenticates devices, not users, so an empty batch is 400 for everyone.
    ("POST", "/telemetry"): {r: 400 for r in ROLE_ORDER},
    ("GET", "/projects/{project_id}/devices"): _SEE,
    ("GET", "/projects/{project_id}/alarms"): _SEE,
    # supervision from the phone: an inspection synced with its idempotency key (the body names the
    # project); photos are added by the inspection's own inspector only (own: the supervisor's).
    ("POST", "/inspections"): _only(201, INSPECTORS),
    ("POST", "/inspections/{inspection_id}/photos"): _only(201, {"supervisor"}),
    # village representatives' observations: nobody here is a 村民代表 (their own tests cover them).
    ("GET", "/projects/{project_id}/observations"): _SEE,
    ("POST", "/projects/{project_id}/observations"): _only(201, set()),
    ("POST", "/projects/{project_id}/observations/with-photos"): _only(201, set()),
    # devices and alarms: who may handle an alarm is the project's responsible person and managers,
    # its assigned supervisor and the system administrator.
    ("GET", "/devices/{device_id}"): _SEE,
    ("GET", "/alarms/{alarm_id}"): _SEE,
    ("POST", "/alarms/{alarm_id}/acknowledge"): _only(200, ALARM_HANDLERS),
    ("POST", "/alarms/{alarm_id}/clear"): _only(200, ALARM_HANDLERS),
    ("POST", "/alarms/{alarm_id}/comments"): _only(201, ALARM_HANDLERS),
    ("POST", "/alarms/{alarm_id}/assign"): _only(200, ALARM_HANDLERS),
    # feedback: a citizen request in the county's town, owned by its housing bureau. Department officers
    # see their own unit's requests, other staff their subtree; only the owner unit acts on one.
    ("GET", "/citizen-requests"): _ALL_200,
    ("GET", "/citizen-requests/{citizen_request_id}"): _FEEDBACK_SEE,
    ("POST", "/citizen-requests/{citizen_request_id}/accept"): _FEEDBACK_ACT,
    ("POST", "/citizen-requests/{citizen_request_id}/reply"): _FEEDBACK_ACT,
    # procurement: published tenders are public to bidders (contractor sees them in any county); only a
    # supplier's account asks or bids; a bid is visible to its supplier alone before the opening; a
    # variation is decided by the managing officer or a leader, never by its proposer (here the 发改 officer).
    ("GET", "/tenders"): _ALL_200,
    ("GET", "/tenders/{tender_id}"): _SEE | {"contractor": (200, 200)},
    ("GET", "/tenders/{tender_id}/clarifications"): _SEE | {"contractor": (200, 200)},
    ("POST", "/tenders/{tender_id}/clarifications"): _only(201, {"contractor"}) | {"contractor": (201, 201)},
    ("GET", "/tenders/{tender_id}/bids"): _SEE | {"contractor": (200, 200)},
    ("POST", "/tenders/{tender_id}/bids"): _only(201, {"contractor"}) | {"contractor": (201, 201)},
    ("POST", "/bids/{bid_id}/withdraw"): {r: (404, 404) for r in ROLE_ORDER}
    | {"contractor": (200, 200), "anonymous": (401, 401)},
    ("GET", "/contracts"): _ALL_200,
    ("GET", "/contracts/{contract_id}"): _SEE,
    ("GET", "/contracts/{contract_id}/variations"): _SEE,
    ("POST", "/contracts/{contract_id}/variations"): _only(201, MANAGERS),
    ("POST", "/variations/{variation_id}/decision"): _only(200, MANAGERS | {"leader"}),
    # the organiser cancels a published tender before the award (with a reason).
    ("POST", "/tenders/{tender_id}/cancel"): _only(200, MANAGERS),
    # suppliers: a company bids in any county, so staff who organise, sign, oversee or audit procurement read the
    # whole registry and tender managers keep it; a contractor account sees only its own supplier (not this one).
    ("GET", "/suppliers"): _ALL_200,
    ("POST", "/suppliers"): {r: 403 for r in ROLE_ORDER} | {"dept_officer": 201, "sysadmin": 201, "anonymous": 401},
    ("GET", "/suppliers/{supplier_id}"): _SUPPLIER_SEE,
    ("PATCH", "/suppliers/{supplier_id}"): _supplier_keep(200),
    ("POST", "/suppliers/{supplier_id}/users"): _supplier_keep(200),
    ("DELETE", "/suppliers/{supplier_id}/users/{user_id}"): _supplier_keep(200),
    ("POST", "/citizen-requests/{citizen_request_id}/contact"): _FEEDBACK_ACT,
    ("POST", "/citizen-requests/{citizen_request_id}/wait"): _feedback_act(409),
    ("POST", "/citizen-requests/{citizen_request_id}/transfer"): _feedback_act(201),
    ("POST", "/citizen-requests/{citizen_request_id}/transfer/accept"): _feedback_no_transfer(),
    ("POST", "/citizen-requests/{citizen_request_id}/transfer/refuse"): _feedback_no_transfer(),
    ("POST", "/citizen-requests/{citizen_request_id}/transfer/decide"): _feedback_no_transfer(),
    ("POST", "/citizen-requests/{citizen_request_id}/return-visit"): _feedback_act(409),
    ("POST", "/citizen-requests/{citizen_request_id}/close"): _feedback_act(409),
    # The citizen's reopen takes no login (receipt code and phone); the fresh request is not closed.
    ("POST", "/citizen-requests/reopen"): {r: 409 for r in ROLE_ORDER},
    # finance: managers prepare and submit budgets; the submitted 预算 (1,000 yuan) is the county finance
    # officer's to decide. The payment was requested by the 发改 officer: the housing officer (its 主管部门)
    # approves the department step; finance may not act before it. Only county a's project has a supervisor,
    # so the administrator's request abroad lacks the sign-off (400).
    ("GET", "/projects/{project_id}/budgets"): _SEE,
    ("POST", "/projects/{project_id}/budgets"): _only(201, MANAGERS),
    ("POST", "/budgets/{budget_id}/submit"): _only(200, MANAGERS),
    ("POST", "/budgets/{budget_id}/decision"): _only(200, {"finance_officer", "sysadmin"}),
    # a draft's lines: added, changed and removed by whoever may prepare the version
    ("POST", "/budgets/{budget_id}/lines"): _only(201, MANAGERS),
    ("PATCH", "/budget-lines/{line_id}"): _only(200, MANAGERS),
    ("DELETE", "/budget-lines/{line_id}"): _only(200, MANAGERS),
    ("GET", "/projects/{project_id}/payment-requests"): _SEE,
    ("POST", "/projects/{project_id}/payment-requests"): _only(201, MANAGERS) | {"sysadmin": (201, 400)},
    ("POST", "/payment-requests/{payment_id}/approve"): _only(200, MANAGERS),
    ("POST", "/payment-requests/{payment_id}/reject"): _only(200, MANAGERS),
    # a request waiting for its supervisor: only the supervisor it names confirms it (the administrator neither)
    ("POST", "/payment-requests/{payment_id}/signoff"): _only(200, {"supervisor"}),
    ("GET", "/projects/{project_id}/evm"): _SEE,
    ("GET", "/evm/rollup"): _ALL_200,
}


def _schema_operations() -> set[tuple[str, str]]:
    prefix = "/api/v1"
    return {
        (method.upper(), path.removeprefix(prefix))
        for path, ops in api.get_openapi_schema()["paths"].items()
        for method in ops
    }


def test_every_endpoint_has_a_matrix_row():
    assert set(MATRIX) == _schema_operations()


def test_every_matrix_row_covers_every_role():
    for key, row in MATRIX.items():
        assert set(row) == set(ROLES), key


@dataclass
class World:
    org: Any
    own: dict[str, Any]
    foreign: dict[str, Any]


def _county(org, c: str) -> dict[str, Any]:
    officer = f"{c}_housing"
    project = project_in(org, c)
    item = WbsItemFactory(project=project, responsible=org.user(officer), code="1")
    gated = project_in(org, c)
    req = request_gate(org, gated, Stage.SUSPENDED, who=officer, reason="资金未到位")
    if c == "a":
        for key, role in (
            ("a_supervisor", MemberRole.SUPERVISOR),
            ("a_contractor", MemberRole.CONTRACTOR),
            ("a_evaluator", MemberRole.EVALUATOR),
        ):
            for p in (project, gated):
                services.member_add(actor=org.user("a_housing"), project=p, user=org.user(key), role=role)
    upload(org, fresh(project), DocumentKind.PROPOSAL, who=officer)
    inspection, device, alarm = _site(org, project, org.user("a_supervisor" if c == "a" else officer))
    town = org.town_a if c == "a" else org.town_b
    from minsheng.feedback import services as feedback_services

    citizen_request = feedback_services.request_submit(actor=None, data=feedback_services.Submission(
        kind="enquiry", category="housing", description="咨询老旧小区改造的时间安排", division=town,
        phone="13800001234"))
    from minsheng.finance.tests.factories import matrix_objects as finance_objects
    from minsheng.procurement.tests.factories import matrix_objects

    procurement = matrix_objects(org, c, project)
    return procurement | finance_objects(org, c, project, procurement["contract"]) | {
        "citizen_request": citizen_request,
        "redflag": _redflag(org, project, org.user(officer)),
        "project": project,
        "item": item,
        "request": req,
        "division": town,
        "lead": org.depts[f"{c}.housing"],
        "other_unit": org.depts[f"{c}.civil"],
        "person": org.user(officer),
        "inspection": inspection,
        "device": device,
        "alarm": alarm,
    }


def _redflag(org, project, owner) -> Any:
    from minsheng.insight.models import RedFlag

    return RedFlag.objects.create(kind="single_bid", subject_type="procurement.tender", subject_id=project.pk,
                                  subject_label="矩阵", project=project, department=project.lead_department,
                                  division_path=project.division_path, reason="矩阵", owner=owner)


def _site(org, project, inspector) -> tuple[Any, Any, Any]:
    """An inspection (by `inspector`), a noise sensor and an open alarm on it."""
    import datetime as dt

    from django.utils import timezone

    from minsheng.construction import services as construction
    from minsheng.telemetry import alarms
    from minsheng.telemetry.models import Device

    inspection = construction.inspection_record(actor=inspector, project=project, passed=True,
                                                inspected_at=timezone.now() - dt.timedelta(hours=1),
                                                checklist={"安全防护": "ok"})
    device = Device(device_id=f"matrix-{project.pk}", kind="noise", name="噪声", project=project)
    device.set_credential()
    device.save()
    with transaction.atomic():
        alarm = alarms.raise_or_update(device=device, alarm_type="matrix", severity="major", message="噪声超标",
                                       value=80.0, at=timezone.now())
    return inspection, device, alarm


def _jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 90, 90)).save(out, format="JPEG")
    return out.getvalue()


@pytest.fixture
def world(org) -> World:
    return World(org, _county(org, "a"), _county(org, "b"))


def _call(client: Client, method: str, path: str, objs: dict[str, Any]):
    from minsheng.finance.tests.factories import matrix_body as finance_body

    url = "/api/v1" + path.format(
        division_id=objs["division"].pk,
        project_id=objs["project"].pk,
        code=objs["project"].code,
        item_id=objs["item"].pk,
        request_id=objs["request"].pk,
        citizen_request_id=objs["citizen_request"].pk,
        tender_id=objs["tender"].pk,
        bid_id=objs["bid"].pk,
        contract_id=objs["contract"].pk,
        variation_id=objs["variation"].pk,
        supplier_id=objs["supplier"].pk,
        user_id=objs["supplier_user"].pk,
        flag_id=objs["redflag"].pk,
        inspection_id=objs["inspection"].pk,
        device_id=objs["device"].pk,
        alarm_id=objs["alarm"].pk,
        budget_id=objs[("budget_draft" if path.endswith(("/submit", "/lines")) else "budget")].pk,
        line_id=objs["budget_line"].pk,
        payment_id=objs[("payment_signoff" if path.endswith("/signoff") else "payment")].pk,
    )
    body: dict[str, Any] | None = None
    if (method, path) == ("POST", "/projects"):
        body = {
            "name": "矩阵项目",
            "domain": "housing",
            "division": objs["division"].pk,
            "lead_department": objs["lead"].pk,
            "responsible_person": objs["person"].pk,
            "estimate_amount": "1000000",
        }
    elif finance_body(method, path, objs) is not None:
        body = finance_body(method, path, objs)
    elif (method, path) == ("PATCH", "/projects/{project_id}"):
        body = {"name": "改名"}
    elif path.endswith("/targets"):
        body = {"dimension": "output_quantity", "indicator": "户数", "unit": "户", "target_value": "10"}
    elif (method, path) == ("POST", "/projects/{project_id}/wbs"):
        body = {"code": "M1", "name": "矩阵子项", "responsible": objs["person"].pk, "due_date": "2099-01-01"}
    elif (method, path) == ("PATCH", "/wbs/{item_id}"):
        body = {"name": "改名"}
    elif path.endswith("/progress"):
        body = {"progress": "50"}
    elif (method, path) == ("POST", "/projects/{project_id}/gates"):
        body = {"to_stage": "proposal"}
    elif path == "/redflags/{flag_id}/decision":
        body = {"status": "confirmed", "comment": "矩阵核查"}
    elif path.endswith("/decision"):
        body = {"approve": True, "comment": "同意"}
    elif (method, path) == ("POST", "/projects/{project_id}/supervision-logs"):
        body = {"date": "2025-01-01", "weather": "sunny", "work_done": "基础开挖", "workers": 12}
    elif (method, path) == ("POST", "/projects/{project_id}/inspections"):
        body = {"inspected_at": "2025-01-01T10:00:00+08:00", "checklist": {"安全防护": "ok"}, "passed": True}
    elif (method, path) == ("POST", "/projects/{project_id}/rectifications"):
        body = {"defect": "临边防护缺失", "deadline": "2099-01-01"}
    elif (method, path) == ("POST", "/projects/{project_id}/progress-reports"):
        body = {"wbs_item": objs["item"].pk, "period_end": "2025-01-01", "progress": "50"}
    elif (method, path) == ("POST", "/citizen-requests/{citizen_request_id}/reply"):
        body = {"text": "已安排物业本周内处理"}
    elif (method, path) == ("POST", "/tenders/{tender_id}/clarifications"):
        body = {"question": "是否接受联合体投标？"}
    elif (method, path) == ("POST", "/tenders/{tender_id}/bids"):
        body = {"price": "300000", "technical": "矩阵方案"}
    elif (method, path) == ("POST", "/contracts/{contract_id}/variations"):
        body = {"reason": "增加工程量", "amount": "1000"}
    elif (method, path) == ("POST", "/variations/{variation_id}/decision"):
        body = {"approve": True, "comment": "同意"}
    elif path == "/tenders/{tender_id}/cancel":
        body = {"reason": "项目调整，终止招标"}
    elif (method, path) == ("POST", "/suppliers"):
        body = {"name": "矩阵供应商", "credit_code": "91330100MAMATRX021"}
    elif (method, path) == ("PATCH", "/suppliers/{supplier_id}"):
        body = {"address": "青溪市矩阵路 1 号"}
    elif (method, path) == ("POST", "/suppliers/{supplier_id}/users"):
        body = {"user": objs["free_contractor"].pk}
    elif path.endswith("/contact"):
        body = {"note": "已电话联系群众"}
    elif path.endswith("/wait"):
        body = {"waiting": True, "note": "请补充现场照片"}
    elif path.endswith("/transfer"):
        body = {"to_unit": objs["other_unit"].pk, "reason": "属于民政救助范围"}
    elif path.endswith("/transfer/refuse"):
        body = {"reason": "不属于本单位职责"}
    elif path.endswith("/transfer/decide"):
        body = {"unit": objs["lead"].pk}
    elif path.endswith("/return-visit"):
        body = {"resolved": True, "satisfaction": 5}
    elif path == "/citizen-requests/reopen":
        body = {"receipt_code": objs["citizen_request"].receipt_code, "phone": "13800001234", "reason": "问题仍未解决"}
    elif path == "/inspections":
        import uuid

        body = {"idempotency_key": str(uuid.uuid4()), "project": objs["project"].pk, "passed": True,
                "inspected_at": "2025-01-01T10:00:00+08:00", "checklist": {"安全防护": "ok"}}
    elif (method, path) == ("POST", "/projects/{project_id}/observations"):
        body = {"kind": "quality", "text": "管沟未回填"}
    elif path.startswith("/alarms/") and method == "POST":
        body = {"comment": "复测达标", "assignee": objs["person"].pk}
    if path.endswith("/observations/with-photos"):
        photo = io.BytesIO(_jpeg())
        photo.name = "village.jpg"
        return client.post(url, {"kind": "quality", "text": "管沟未回填", "photos": [photo]})
    if path.endswith("/photos"):
        from django.utils import timezone

        photo = io.BytesIO(_jpeg())
        photo.name = "site.jpg"
        return client.post(url, {"file": photo, "taken_at": timezone.now().isoformat(), "latitude": "30.05",
                                 "longitude": "119.6"})
    if path.endswith("/documents") and method == "POST":
        upload_file = io.BytesIO(PDF_BYTES)
        upload_file.name = "fsr.pdf"
        return client.post(url, {"kind": "fsr", "title": "可研", "file": upload_file})
    if method == "GET":
        return client.get(url)
    return client.generic(
        method, url, data=__import__("json").dumps(body or {}), content_type="application/json"
    )


@pytest.mark.parametrize(("method", "path"), sorted(MATRIX))
def test_permission_matrix(world, method, path):
    expected = MATRIX[(method, path)]
    actual: dict[str, Any] = {}
    for role, username in ROLES.items():
        client = Client()
        if username:
            client.force_login(world.org.user(username))
        statuses = []
        scopes = ("own",) if isinstance(expected[role], int) else ("own", "foreign")
        for scope in scopes:
            objs = world.own if scope == "own" else world.foreign
            sid = transaction.savepoint()
            try:
                response = _call(client, method, path, objs)
                statuses.append(response.status_code)
                if response.status_code >= 400:
                    body = response.json()
                    assert set(body) == {"error"} and {"code", "message", "fields"} <= set(body["error"]), (
                        body
                    )
            finally:
                transaction.savepoint_rollback(sid)
        actual[role] = statuses[0] if len(statuses) == 1 else tuple(statuses)
    mismatches = {r: (expected[r], actual[r]) for r in ROLES if expected[r] != actual[r]}
    assert not mismatches, f"{method} {path}: role: (expected, actual) {mismatches}"
