"""Every role (and anonymous) against every page of the staff console, on an object in the user's own county
and on one in the other county, like the API's matrix (minsheng/projects/tests/test_api_permission_matrix.py),
in the same world. The pages are read from the URL resolver, so a console URL added without a row here (or a
line in POST_ONLY saying why it has none) fails `test_every_console_page_has_a_matrix_row`.

A role whose status is wrapped in `Bug` is what it should be where the code does otherwise today: those roles
run as a separate case marked xfail(strict=True), which fails once the code is fixed, so the marker is removed
with the fix."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver, resolve

from minsheng.core.models import AuditEvent
from minsheng.projects.tests.test_api_permission_matrix import ROLE_ORDER, ROLES, _county, _jpeg

LOGIN = "login"  # a 302 to /console/login/?next=…
LOGIN_URL = "/console/login/"


@dataclass(frozen=True)
class Bug:
    """What a role should get where the code gives something else today (reported; run as an xfail)."""

    expected: Any
    reason: str


@dataclass(frozen=True)
class Row:
    expect: dict[str, Any]
    obj: str | None = None  # the world object the URL's <pk> names
    data: Callable[[dict[str, Any]], dict[str, Any]] | None = None  # a POST row's form, from the world objects


# Expected status per role, as (own county, other county). A single value: the page takes no object.
_ALL_200 = {r: 200 for r in ROLE_ORDER} | {"anonymous": LOGIN}
_SEE = {r: (200, 404) for r in ROLE_ORDER} | {"sysadmin": (200, 200), "anonymous": (LOGIN, LOGIN)}


def _only(ok: Any, who: set[str], others: Any = 403) -> dict[str, Any]:
    """`ok` for the roles in `who`, `others` for the rest who can see the object; 404 abroad."""
    row = {r: ((ok if r in who else others), 404) for r in ROLE_ORDER}
    row["sysadmin"] = (ok, ok) if "sysadmin" in who else (others, others)
    row["anonymous"] = (LOGIN, LOGIN)
    return row


def _roles(ok: Any, who: set[str], others: Any = 403) -> dict[str, Any]:
    """A page with no object: `ok` for the roles in `who`, `others` for the rest."""
    return {r: (ok if r in who else others) for r in ROLE_ORDER} | {"anonymous": LOGIN}


def _swap(row: dict[str, Any], old: int, new: int) -> dict[str, Any]:
    """`row` with status `old` read as `new` (a page's 200 is its form's 302)."""
    def one(v: Any) -> Any:
        return new if v == old else v

    return {r: tuple(map(one, v)) if isinstance(v, tuple) else one(v) for r, v in row.items()}


def _bugs(row: dict[str, Any], reason: str, **should: Any) -> dict[str, Any]:
    return row | {r: Bug(v, reason) for r, v in should.items()}


MANAGERS = {"dept_officer", "sysadmin"}
INSPECTORS = {"supervisor", "township_inspector", "dept_officer", "sysadmin"}
ALARM_HANDLERS = {"supervisor", "dept_officer", "sysadmin"}
# Who sees the whole division's citizen requests (feedback.selectors): not the external companies.
OUTSIDERS = ("supervisor", "evaluator", "contractor")

_FEEDBACK_SEE = _SEE | {r: (404, 404) for r in OUTSIDERS}
# Only the owner unit acts on a request (the others who see it are refused).
_FEEDBACK_ACT = _swap(_FEEDBACK_SEE, 200, 403) | {"dept_officer": (302, 404), "sysadmin": (302, 302)}
# Red flags: their reviewers (leader, finance officer, auditor) in their area, and the flag's named owner (the
# project's housing officer), who may not decide it.
_REDFLAG_SEE = {r: (404, 404) for r in ROLE_ORDER} | {
    r: (200, 404) for r in ("leader", "finance_officer", "auditor", "dept_officer")} | {
    "sysadmin": (200, 200), "anonymous": (LOGIN, LOGIN)}
# The supplier registry is one for all counties: read by those who organise, sign, oversee or audit
# procurement, kept by tender managers; a contractor account sees only its own supplier (not these).
_SUPPLIER_SEE = {r: (404, 404) for r in ROLE_ORDER} | {
    r: (200, 200) for r in ("leader", "dept_officer", "finance_officer", "auditor", "sysadmin")} | {
    "anonymous": (LOGIN, LOGIN)}
_SUPPLIER_KEEP = _swap(_SUPPLIER_SEE, 200, 403) | {"dept_officer": (302, 302), "sysadmin": (302, 302)}
# Audit samples: those with audit.sample (finance officer, auditor) in their area; the others are refused first.
_SAMPLE_SEE = {r: (403, 403) for r in ROLE_ORDER} | {"finance_officer": (200, 404), "auditor": (200, 404),
                                                     "sysadmin": (200, 200), "anonymous": (LOGIN, LOGIN)}

MATRIX: dict[tuple[str, str], Row] = {
    # --- console: projects, gates, checklist, notifications
    ("GET", "/console/"): Row(_ALL_200),
    ("GET", "/console/projects/"): Row(_ALL_200),
    ("GET", "/console/projects/new/"): Row(_roles(200, MANAGERS)),
    ("GET", "/console/projects/<int:pk>/"): Row(_SEE, "project"),
    ("GET", "/console/projects/<int:pk>/edit/"): Row(_only(200, MANAGERS), "project"),
    ("GET", "/console/overdue/"): Row(_ALL_200),
    ("GET", "/console/notifications/"): Row(_ALL_200),
    # Everyone opens their own notification (marked read, then followed); nobody another's, not even the admin.
    ("GET", "/console/notifications/<int:pk>/"): Row(
        {r: (302, 404) for r in ROLE_ORDER} | {"anonymous": (LOGIN, LOGIN)}, "note"),
    # The pending request is a suspension: only a leader of the division or above fills its slot.
    ("POST", "/console/gate-requests/<int:pk>/decision/"): Row(
        _only(302, {"leader"}), "request", lambda o: {"decision": "approve", "comment": "同意"}),
    ("POST", "/console/gate-requests/<int:pk>/withdraw/"): Row(_only(302, MANAGERS), "request"),
    ("POST", "/console/wbs/<int:pk>/progress/"): Row(
        _only(302, MANAGERS | {"supervisor"}), "item", lambda o: {f"item{o['item'].pk}-progress": "50"}),
    # --- ledger: log health for those who audit; a project's evidence for whoever sees the project
    ("GET", "/console/ledger/"): Row(_roles(200, {"leader", "finance_officer", "auditor", "sysadmin"})),
    ("GET", "/console/ledger/projects/<int:pk>/"): Row(_SEE, "project"),
    # --- feedback: a citizen request in the county's town, owned by its housing bureau; lists are scoped
    ("GET", "/console/feedback/"): Row(_ALL_200),
    # Government staff register calls and visits (首问负责制); the companies see no citizen requests at all.
    ("GET", "/console/feedback/hotline/"): Row(_ALL_200 | dict.fromkeys(OUTSIDERS, 403)),
    ("POST", "/console/feedback/hotline/"): Row(
        _roles(302, set(ROLE_ORDER) - set(OUTSIDERS)),
        data=lambda o: {"kind": "complaint", "category": "housing", "division": o["division"].pk,
                        "description": "小区门口道路破损，雨天积水", "urgency": "normal", "phone": "13800004321"}),
    ("GET", "/console/feedback/metrics/"): Row(_ALL_200),
    ("GET", "/console/feedback/metrics.xlsx"): Row(_ALL_200),
    ("GET", "/console/feedback/<int:pk>/"): Row(_FEEDBACK_SEE, "citizen_request"),
    ("POST", "/console/feedback/<int:pk>/accept/"): Row(_FEEDBACK_ACT, "citizen_request"),
    ("POST", "/console/feedback/<int:pk>/transfer/"): Row(
        _FEEDBACK_ACT, "citizen_request", lambda o: {"to_unit": o["other_unit"].pk, "reason": "属于民政救助范围"}),
    # --- finance: whoever sees the project sees its budget, payments and earned value. The submitted 预算 is the
    # county finance officer's to decide; the payment (requested by the 发改 officer) the housing officer's; the
    # request awaiting sign-off names county a's supervisor, who alone confirms it.
    ("GET", "/console/finance/projects/<int:pk>/budget/"): Row(_SEE, "project"),
    ("GET", "/console/finance/projects/<int:pk>/payments/"): Row(_SEE, "project"),
    ("GET", "/console/finance/payments/"): Row(_ALL_200),
    ("GET", "/console/finance/payments/signoff/"): Row(_ALL_200),
    ("GET", "/console/finance/payments/<int:pk>/"): Row(_SEE, "payment"),
    ("GET", "/console/finance/projects/<int:pk>/evm/"): Row(_SEE, "project"),
    ("GET", "/console/finance/evm/"): Row(_ALL_200),
    ("POST", "/console/finance/budget-versions/<int:pk>/decision/"): Row(
        _only(302, {"finance_officer", "sysadmin"}), "budget", lambda o: {"approve": "1", "comment": "同意"}),
    ("POST", "/console/finance/budget-versions/<int:pk>/submit/"): Row(_only(302, MANAGERS), "budget_draft"),
    ("POST", "/console/finance/budget-lines/<int:pk>/delete/"): Row(_only(302, MANAGERS), "budget_line"),
    ("POST", "/console/finance/payments/<int:pk>/decision/"): Row(
        _only(302, MANAGERS), "payment", lambda o: {"approve": "1", "comment": "同意"}),
    ("POST", "/console/finance/payments/<int:pk>/signoff/"): Row(
        _only(302, {"supervisor"}), "payment_signoff", lambda o: {"confirm": "1", "comment": "计量属实"}),
    # --- insight: red flags and audit samples
    ("GET", "/console/insight/flags/"): Row(_ALL_200),
    ("GET", "/console/insight/flags/<int:pk>/"): Row(_REDFLAG_SEE, "redflag"),
    ("POST", "/console/insight/flags/<int:pk>/decide/"): Row(
        _swap(_REDFLAG_SEE, 200, 302) | {"dept_officer": (403, 404)}, "redflag",
        lambda o: {"status": "confirmed", "comment": "矩阵核查"}),
    ("GET", "/console/insight/samples/"): Row(_roles(200, {"finance_officer", "auditor", "sysadmin"})),
    ("GET", "/console/insight/samples/<int:pk>/"): Row(_SAMPLE_SEE, "sample"),
    ("POST", "/console/insight/samples/items/<int:pk>/finding/"): Row(
        {r: (404, 404) for r in ROLE_ORDER} | {"finance_officer": (302, 404), "auditor": (302, 404),
                                               "sysadmin": (302, 302), "anonymous": (LOGIN, LOGIN)},
        "sample_item", lambda o: {"result": "compliant"}),
    # --- procurement: published tenders are public to bidders (a contractor sees them in any county); the
    # evaluation screen is the panel's only (no expert here); a variation is decided by the managing officer or a
    # leader, never by its proposer (the 发改 officer).
    ("GET", "/console/procurement/tenders/"): Row(_ALL_200),
    # Only the project's tender manager gets the new-tender form; to anyone else the page is not found.
    ("GET", "/console/procurement/projects/<int:project_pk>/tenders/new/"): Row(
        _only(200, MANAGERS, others=404), "project"),
    ("GET", "/console/procurement/tenders/<int:pk>/"): Row(_SEE | {"contractor": (200, 200)}, "tender"),
    ("GET", "/console/procurement/tenders/<int:pk>/evaluate/"): Row(
        {r: (404, 404) for r in ROLE_ORDER} | {"anonymous": (LOGIN, LOGIN)}, "tender"),
    ("POST", "/console/procurement/tenders/<int:pk>/cancel/"): Row(
        _only(302, MANAGERS), "tender", lambda o: {"reason": "项目调整，终止招标"}),
    ("GET", "/console/procurement/contracts/"): Row(_ALL_200),
    ("GET", "/console/procurement/contracts/<int:pk>/"): Row(_SEE, "contract"),
    ("POST", "/console/procurement/variations/<int:pk>/decision/"): Row(
        _only(302, MANAGERS | {"leader"}), "variation", lambda o: {"approve": "yes", "comment": "同意"}),
    ("GET", "/console/procurement/suppliers/"): Row(_ALL_200),
    ("GET", "/console/procurement/suppliers/new/"): Row(_roles(200, MANAGERS)),
    ("GET", "/console/procurement/suppliers/<int:pk>/"): Row(_SUPPLIER_SEE, "supplier"),
    ("GET", "/console/procurement/suppliers/<int:pk>/edit/"): Row(_swap(_SUPPLIER_KEEP, 302, 200), "supplier"),
    ("POST", "/console/procurement/suppliers/<int:pk>/users/"): Row(
        _SUPPLIER_KEEP, "supplier", lambda o: {"user": o["free_contractor"].pk}),
    ("POST", "/console/procurement/suppliers/<int:pk>/users/<int:user_pk>/remove/"): Row(_SUPPLIER_KEEP, "supplier"),
    # --- construction: the phone inspection page, the village page, supervision of one project
    ("GET", "/console/inspect/"): Row(_ALL_200),
    # The one console URL open without a login: the offline page's service worker holds no data, and the
    # signed-out browser's worker (key "anonymous") is the one that drops the previous user's cache.
    ("GET", "/console/inspect/sw.js"): Row({r: 200 for r in ROLE_ORDER}),
    ("GET", "/console/village/"): Row(_ALL_200),
    ("GET", "/console/projects/<int:pk>/observations/"): Row(_SEE, "project"),
    ("GET", "/console/observation-photos/<int:pk>/"): Row(_SEE, "photo"),
    ("GET", "/console/projects/<int:pk>/supervision/"): Row(_SEE, "project"),
    ("POST", "/console/projects/<int:pk>/supervision/logs/"): Row(
        _only(302, {"supervisor", "sysadmin"}), "project",
        lambda o: {"date": "2025-01-01", "weather": "sunny", "work_done": "基础开挖", "workers": "12"}),
    # Inspectors: the assigned supervisor, the area's township inspector, the managing department. The foreign
    # project has no contractor to send the order to (the administrator's form comes back with the error).
    ("POST", "/console/projects/<int:pk>/supervision/rectifications/"): Row(
        _only(302, INSPECTORS) | {"sysadmin": (302, 400)}, "project",
        lambda o: {"defect": "临边防护缺失", "deadline": "2099-01-01"}),
    # --- telemetry: devices, stations, alarms and the dashboards of one project
    ("GET", "/console/devices/"): Row(_ALL_200),
    ("GET", "/console/projects/<int:pk>/devices/new/"): Row(_only(200, MANAGERS), "project"),
    # Background stations are kept by the ecology and housing bureaus' officers of the area.
    ("GET", "/console/stations/"): Row(_roles(200, MANAGERS)),
    ("GET", "/console/alarms/"): Row(_ALL_200),
    ("GET", "/console/alarms/<int:pk>/"): Row(_SEE, "alarm"),
    ("POST", "/console/alarms/<int:pk>/action/"): Row(
        _only(302, ALARM_HANDLERS), "alarm", lambda o: {"action": "acknowledge", "comment": "已到场"}),
    ("GET", "/console/projects/<int:pk>/water/"): Row(_SEE, "project"),
    ("GET", "/console/projects/<int:pk>/site/"): Row(_SEE, "project"),
}

# Console URLs with no GET page, each with why it has no row here (or where a POST row above covers it). The
# console views reach the same scoped selectors and services as the API, whose matrix covers the service checks.
POST_ONLY: dict[str, str] = {
    "/console/login/": "the sign-in form itself, for anonymous visitors (test_views.py test_login_and_logout)",
    "/console/logout/": "POST only; ends the caller's own session (test_views.py, construction test_offline_cache.py)",
    "/console/notifications/read/": "POST only; marks the caller's own notifications (test_notifications.py)",
    "/console/projects/<int:pk>/gates/": "POST only; gate_request as API POST /projects/{id}/gates",
    "/console/projects/<int:pk>/wbs/": "POST only; wbs_item_create as API POST /projects/{id}/wbs",
    "/console/projects/<int:pk>/documents/": "POST only; document_upload as API POST /projects/{id}/documents",
    "/console/gate-requests/<int:pk>/decision/": "POST only; POST row above",
    "/console/gate-requests/<int:pk>/withdraw/": "POST only; POST row above",
    "/console/wbs/<int:pk>/progress/": "POST only; POST row above",
    "/console/feedback/<int:pk>/<str:action>/": "POST only; rows above for accept and transfer, the other steps "
                                                "as the API's /citizen-requests/{id}/… rows",
    "/console/finance/projects/<int:pk>/budget/versions/": "POST only; budget_version_create as API POST "
                                                           "/projects/{id}/budgets",
    "/console/finance/projects/<int:pk>/budget/funding/": "POST only; funding_commit (finance test_views.py)",
    "/console/finance/budget-versions/<int:pk>/lines/": "POST only; budget_line_add as API POST /budgets/{id}/lines",
    "/console/finance/budget-versions/<int:pk>/submit/": "POST only; POST row above",
    "/console/finance/budget-versions/<int:pk>/decision/": "POST only; POST row above",
    "/console/finance/budget-versions/<int:pk>/copy/": "POST only; budget_version_copy checks can_prepare "
                                                       "(finance test_budgets.py)",
    "/console/finance/budget-versions/<int:pk>/adjustments/": "POST only; budget_adjustment_request "
                                                              "(finance test_budgets.py)",
    "/console/finance/budget-lines/<int:pk>/": "POST only; budget_line_update as API PATCH /budget-lines/{id}",
    "/console/finance/budget-lines/<int:pk>/delete/": "POST only; POST row above",
    "/console/finance/budget-adjustments/<int:pk>/decision/": "POST only; budget_adjustment_decide by the original "
                                                              "approver (finance test_budgets.py)",
    "/console/finance/funding/<int:pk>/arrivals/": "POST only; funding_arrive (finance test_views.py)",
    "/console/finance/projects/<int:pk>/payments/new/": "POST only; payment_request_create as API POST "
                                                        "/projects/{id}/payment-requests",
    "/console/finance/payments/<int:pk>/signoff/": "POST only; POST row above",
    "/console/finance/payments/<int:pk>/decision/": "POST only; POST row above",
    "/console/finance/payments/<int:pk>/paid/": "POST only; payment_mark_paid after the finance step "
                                                "(finance test_payments.py)",
    "/console/insight/flags/<int:pk>/decide/": "POST only; POST row above",
    "/console/insight/samples/items/<int:pk>/finding/": "POST only; POST row above",
    "/console/procurement/tenders/<int:pk>/publish/": "POST only; tender_publish requires the manager "
                                                      "(procurement test_views.py)",
    "/console/procurement/tenders/<int:pk>/share/": "POST only; share_confirm by the share's own holder "
                                                    "(procurement test_tenders.py)",
    "/console/procurement/tenders/<int:pk>/cancel/": "POST only; POST row above",
    "/console/procurement/tenders/<int:pk>/open/": "POST only; tender_open requires the manager and k shares",
    "/console/procurement/tenders/<int:pk>/panel/": "POST only; panel_add requires the manager",
    "/console/procurement/tenders/<int:pk>/declare/": "POST only; conflict_declare by a panel member",
    "/console/procurement/tenders/<int:pk>/finish/": "POST only; evaluation_finish requires the manager",
    "/console/procurement/tenders/<int:pk>/award/": "POST only; award_make requires the manager",
    "/console/procurement/tenders/<int:pk>/contract/": "POST only; contract_sign requires the contract manager",
    "/console/procurement/clarifications/<int:pk>/answer/": "POST only; clarification_answer requires the manager",
    "/console/procurement/bids/<int:pk>/score/": "POST only; score_record by a declared panel member",
    "/console/procurement/bids/<int:pk>/disqualify/": "POST only; bid_disqualify by the manager or panel chair",
    "/console/procurement/complaints/<int:pk>/resolve/": "POST only; complaint_resolve requires the manager",
    "/console/procurement/contracts/<int:pk>/milestones/": "POST only; milestone_add requires the contract manager",
    "/console/procurement/contracts/<int:pk>/variations/": "POST only; variation_propose as API POST "
                                                           "/contracts/{id}/variations",
    "/console/procurement/variations/<int:pk>/decision/": "POST only; POST row above",
    "/console/procurement/suppliers/<int:pk>/users/": "POST only; POST row above",
    "/console/procurement/suppliers/<int:pk>/users/<int:user_pk>/remove/": "POST only; POST row above",
    "/console/projects/<int:pk>/supervision/logs/": "POST only; POST row above",
    "/console/projects/<int:pk>/supervision/inspections/": "POST only; inspection_record as API POST "
                                                           "/projects/{id}/inspections",
    "/console/projects/<int:pk>/supervision/rectifications/": "POST only; POST row above",
    "/console/rectifications/<int:pk>/close/": "POST only; rectification_close by an inspector "
                                               "(construction test_views.py)",
    "/console/stations/<int:pk>/remove/": "POST only; background_remove in the officer's area "
                                          "(telemetry test_stations.py)",
    "/console/alarms/<int:pk>/action/": "POST only; POST row above",
}


def _console_routes() -> set[str]:
    def walk(patterns: list[Any], prefix: str) -> Iterator[str]:
        for p in patterns:
            route = prefix + str(p.pattern)
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, route)
            else:
                yield route

    return {"/" + r for r in walk(get_resolver().url_patterns, "") if r.startswith("console/")}


def _fill(path: str, values: dict[str, Any]) -> str:
    return re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(values[m.group(1)]), path)


def test_every_console_page_has_a_matrix_row():
    routes = _console_routes()
    pages = {path for method, path in MATRIX if method == "GET"}
    assert not pages & set(POST_ONLY)
    listed = pages | set(POST_ONLY)
    assert listed == routes, {"without a row": sorted(routes - listed), "no such URL": sorted(listed - routes)}


def test_post_rows_name_console_urls():
    routes = _console_routes()
    for method, path in MATRIX:
        if method == "POST":
            match = resolve(_fill(path, {"pk": 1, "user_pk": 1}))
            assert "/" + match.route in routes, path


def test_every_matrix_row_covers_every_role():
    for key, row in MATRIX.items():
        assert set(row.expect) == set(ROLES), key


def test_post_only_urls_refuse_get(org):
    """What POST_ONLY calls POST only is: a GET is 405 (the sign-in page excepted)."""
    client = Client()
    client.force_login(org.user("admin"))
    for path in set(POST_ONLY) - {"/console/login/"}:
        url = _fill(path, {"pk": 1, "user_pk": 1, "action": "accept"})
        assert client.get(url).status_code == 405, path


# ---------------------------------------------------------------------------------------------
# the world: the API matrix's objects in each county, and what only the console has


@dataclass
class World:
    org: Any
    own: dict[str, Any]
    foreign: dict[str, Any]
    foreign_marks: tuple[str, ...]  # what names the other county's objects on a page


# Pages that show a role something of the other county by design.
SEES_ABROAD = {
    ("contractor", "/console/procurement/tenders/"),  # published tenders (with their project) are public
}


def _console_objects(org: Any, c: str, objs: dict[str, Any]) -> dict[str, Any]:
    from minsheng.accounts.roles import Role
    from minsheng.construction.models import ObservationPhoto, VillageObservation
    from minsheng.core.models import DivisionLevel, Notification
    from minsheng.insight.models import AuditSample, AuditSampleItem
    from minsheng.testing.factories import UserFactory, make_division

    county = org.county_a if c == "a" else org.county_b
    auditor = org.user("a_auditor" if c == "a" else "b_finance")
    sample = AuditSample.objects.create(title="矩阵抽查", seed=1, size=1, division_path=county.path,
                                        drawn_by=auditor)
    item = AuditSampleItem.objects.create(sample=sample, position=1, payment=objs["payment"])
    village = make_division(f"{objs['division'].code}201", f"矩阵村{c}", DivisionLevel.VILLAGE, objs["division"])
    rep = UserFactory(username=f"matrix_rep_{c}", role=Role.VILLAGE_REP, division=village)
    observation = VillageObservation.objects.create(project=objs["project"], author=rep, village=village,
                                                    kind="quality", text="管沟未回填")
    photo = ObservationPhoto(observation=observation, sha256=f"{c}" * 64)
    photo.file.save("matrix.jpg", ContentFile(_jpeg()), save=False)
    photo.save()
    # Own county: a notification for each role's own user (and one for the anonymous request to aim at);
    # other county: one for that county's housing officer, whoever asks.
    if c == "a":
        notes = {u: Notification.objects.create(recipient=org.user(u), kind="matrix", text="矩阵通知",
                                                link="/console/") for u in ROLES.values() if u}
        notes[None] = notes["a_housing"]
    else:
        note = Notification.objects.create(recipient=org.user("b_housing"), kind="matrix", text="矩阵通知",
                                           link="/console/")
        notes = dict.fromkeys(ROLES.values(), note)
    return {"sample": sample, "sample_item": item, "photo": photo, "notes": notes}


@pytest.fixture
def world(org) -> World:
    own, foreign = _county(org, "a"), _county(org, "b")
    own |= _console_objects(org, "a", own)
    foreign |= _console_objects(org, "b", foreign)
    marks = (foreign["project"].name, foreign["request"].project.name, foreign["contract"].number,
             foreign["citizen_request"].receipt_code, foreign["device"].device_id)
    return World(org, own, foreign, marks)


def _status(client: Client, method: str, path: str, row: Row, objs: dict[str, Any], username: str | None,
            marks: tuple[str, ...] = ()) -> Any:
    """The status of one request, LOGIN for a redirect to the login page. A page must not show any of `marks`
    (the other county's names and numbers). A POST must write an audit event when it succeeds (a redirect back
    with a form error is no success) and none when it is refused."""
    obj = None
    if row.obj == "note":
        obj = objs["notes"][username]
    elif row.obj:
        obj = objs[row.obj]
    url = _fill(path, {"pk": obj.pk if obj else None, "project_pk": obj.pk if obj else None,
                       "user_pk": objs["supplier_user"].pk})
    if method == "GET":
        response = client.get(url)
        wrote = False
        page = response.status_code == 200 and response["Content-Type"].startswith("text/html")
        if page and any(m in response.content.decode() for m in marks):
            return "200 with the other county's data"
    else:
        before = AuditEvent.objects.count()
        response = client.post(url, row.data(objs) if row.data else {})
        wrote = AuditEvent.objects.count() != before
    if response.status_code == 302 and response["Location"].startswith(LOGIN_URL):
        status: Any = LOGIN
    else:
        status = response.status_code
    if method == "POST" and (status == LOGIN or status >= 400) and wrote:
        return f"{status} + write"
    if method == "POST" and status == 302 and not wrote:
        return "302 without a write"
    return status


def _cases() -> Iterator[Any]:
    """One case per row for the roles as expected; one more, xfail(strict), for the roles under a Bug."""
    for key in sorted(MATRIX):
        expect = MATRIX[key].expect
        bugs = tuple(r for r in ROLE_ORDER if isinstance(expect[r], Bug))
        yield pytest.param(*key, tuple(r for r in ROLE_ORDER if r not in bugs), id=" ".join(key))
        if bugs:
            reason = "; ".join(sorted({expect[r].reason for r in bugs}))
            yield pytest.param(*key, bugs, id=" ".join(key) + " known-bug",
                               marks=pytest.mark.xfail(strict=True, raises=AssertionError, reason=reason))


@pytest.mark.parametrize(("method", "path", "roles"), list(_cases()))
def test_console_permission_matrix(world, method, path, roles):
    row = MATRIX[(method, path)]
    expected = {r: (row.expect[r].expected if isinstance(row.expect[r], Bug) else row.expect[r]) for r in roles}
    actual: dict[str, Any] = {}
    for role in roles:
        username = ROLES[role]
        client = Client()
        if username:
            client.force_login(world.org.user(username))
        scopes = (world.own, world.foreign) if isinstance(expected[role], tuple) else (world.own,)
        statuses = []
        for objs in scopes:
            marks = world.foreign_marks if objs is world.own and role != "sysadmin" and (
                role, path) not in SEES_ABROAD else ()
            sid = transaction.savepoint()
            try:
                statuses.append(_status(client, method, path, row, objs, username, marks))
            finally:
                transaction.savepoint_rollback(sid)
        actual[role] = tuple(statuses) if len(statuses) > 1 else statuses[0]
    mismatches = {r: (expected[r], actual[r]) for r in roles if expected[r] != actual[r]}
    assert not mismatches, f"{method} {path}: role: (expected, actual) {mismatches}"


# ---------------------------------------------------------------------------------------------
# what a page shows, where the status is right but the content is not


def test_a_bidder_is_not_shown_the_evaluation_panel_nor_the_key_holders(org):
    """The panel (评标委员会) is secret until the result is fixed (招标投标法 第三十七条), and who holds a share of the
    opening key is nobody's business but the organiser's: the tender's console page shows neither to a bidder."""
    from minsheng.procurement import services
    from minsheng.procurement.tests.factories import expert, published_tender

    setup = published_tender(org)
    panelist = expert(username="panelist")
    panelist.full_name = "评标专家王某"
    panelist.save()
    services.panel_add(actor=org.user("a_housing"), tender=setup.tender, expert=panelist)
    url = f"/console/procurement/tenders/{setup.tender.pk}/"
    officer, bidder = Client(), Client()
    officer.force_login(org.user("a_housing"))
    bidder.force_login(org.user("a_contractor"))
    own = officer.get(url).content.decode()
    assert "评标专家王某" in own and "开标密钥分持人" in own  # the organiser sees whom he appointed
    response = bidder.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "评标专家王某" not in page and "开标密钥分持人" not in page
