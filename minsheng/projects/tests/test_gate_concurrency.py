"""Two approvers acting at once produce exactly one transition (real threads, real connections)."""

from __future__ import annotations

import threading

from django.db import close_old_connections, connection

from minsheng.accounts.roles import Role
from minsheng.core.errors import Conflict, PermissionDenied
from minsheng.core.models import AuditEvent
from minsheng.projects import services
from minsheng.projects.lifecycle import DocumentKind, Stage
from minsheng.projects.models import GateApproval, GateRequest, GateStatus, StageTransition
from minsheng.projects.tests.helpers import advance, fresh, request_gate, upload
from minsheng.testing.factories import UserFactory, build_org, project_in


def _race(calls):
    """Run each call in its own thread (own DB connection), released together; collect outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(i, fn):
        try:
            barrier.wait(timeout=10)
            outcomes[i] = fn()
        except Exception as exc:  # the loser's refusal is the point of the test
            outcomes[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    close_old_connections()
    return outcomes


def _decide(user, request_pk):
    return lambda: services.gate_decide(
        actor=user, request=GateRequest.objects.get(pk=request_pk), approve=True, comment="同意"
    )


def test_two_approvers_of_the_same_slot_at_once_make_exactly_one_transition(concurrent_db):
    org = build_org()
    second_drc = UserFactory(
        username="a_drc2", role=Role.DEPT_OFFICER, division=org.county_a, department=org.depts["a.drc"]
    )
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)
    req = request_gate(org, project, Stage.FEASIBILITY)

    outcomes = _race([_decide(org.user("a_drc"), req.pk), _decide(second_drc, req.pk)])

    winners = [o for o in outcomes if isinstance(o, GateRequest)]
    losers = [o for o in outcomes if isinstance(o, Exception)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert isinstance(losers[0], Conflict | PermissionDenied)
    assert StageTransition.objects.filter(request_id=req.pk).count() == 1
    assert StageTransition.objects.filter(project=project, to_stage=Stage.FEASIBILITY).count() == 1
    assert GateApproval.objects.filter(request_id=req.pk).count() == 1
    assert GateRequest.objects.get(pk=req.pk).status == GateStatus.APPROVED
    assert fresh(project).stage == Stage.FEASIBILITY
    assert (
        AuditEvent.objects.filter(
            action="project.transition", project_code=project.code, after__stage=Stage.FEASIBILITY
        ).count()
        == 1
    )


def test_two_approvers_of_different_slots_at_once_still_move_the_project_once(concurrent_db):
    org = build_org()
    project = advance(org, project_in(org, "a"), Stage.FINAL_ACCOUNTS)
    upload(org, project, DocumentKind.FINAL_ACCOUNTS)
    req = request_gate(org, project, Stage.OPERATION)

    outcomes = _race([_decide(org.user("a_finance"), req.pk), _decide(org.user("a_housing"), req.pk)])

    assert all(isinstance(o, GateRequest) for o in outcomes), outcomes
    assert GateRequest.objects.get(pk=req.pk).status == GateStatus.APPROVED
    assert StageTransition.objects.filter(request_id=req.pk).count() == 1
    assert fresh(project).stage == Stage.OPERATION


def test_two_requests_for_the_same_project_at_once_leave_one_pending(concurrent_db):
    org = build_org()
    project = advance(org, project_in(org, "a"), Stage.PROPOSAL)
    upload(org, project, DocumentKind.PROPOSAL)

    def ask(who, to_stage, **kw):
        return lambda: services.gate_request(
            actor=org.user(who), project=fresh(project), to_stage=to_stage, **kw
        )

    outcomes = _race([ask("a_housing", Stage.FEASIBILITY), ask("a_leader", Stage.SUSPENDED, reason="暂缓")])
    assert sum(isinstance(o, GateRequest) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1, outcomes
    assert GateRequest.objects.filter(project=project, status=GateStatus.PENDING).count() == 1
