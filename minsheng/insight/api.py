"""Red flags over the JSON API: the scoped list with filters, one flag, and the auditor's decision."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from minsheng.insight import reasons, selectors, services
from minsheng.insight.models import FlagKind, RedFlag
from minsheng.insight.schemas import DecisionIn, RedFlagOut, RedFlagPage

router = Router(tags=["insight"])


class FlagQuery(Schema):
    kind: str = ""
    severity: str = ""
    status: str = ""
    department: int | None = None
    project: str = ""
    limit: int = 50
    offset: int = 0


def _out(flag: RedFlag) -> dict[str, Any]:
    return {
        "id": flag.pk, "kind": flag.kind, "kind_label": str(FlagKind(flag.kind).label), "severity": flag.severity,
        "subject_type": flag.subject_type, "subject_id": flag.subject_id, "subject_label": flag.subject_label,
        "project_code": flag.project.code if flag.project_id else None, "department_id": flag.department_id,
        "reason": reasons.render(flag.kind, flag.figures) or flag.reason, "figures": flag.figures,
        "owner_id": flag.owner_id, "owner_name": flag.owner.display_name if flag.owner_id else None,
        "status": flag.status, "comment": flag.comment, "computed_at": flag.computed_at,
        "decided_at": flag.decided_at,
    }


@router.get("/redflags", response=RedFlagPage, summary="Red flags the caller may see (auditors: their area)")
def flag_list(request: HttpRequest, q: Query[FlagQuery]):
    filters = selectors.FlagFilters(kind=q.kind, severity=q.severity, status=q.status, department=q.department,
                                    project=q.project)
    qs = selectors.flag_list(request.user, filters)
    limit = max(1, min(q.limit, 500))
    offset = max(0, q.offset)
    return {"count": qs.count(), "items": [_out(f) for f in qs[offset:offset + limit]]}


@router.get("/redflags/{int:flag_id}", response=RedFlagOut)
def flag_detail(request: HttpRequest, flag_id: int):
    return _out(selectors.flag_get(request.user, flag_id))


@router.post("/redflags/{int:flag_id}/decision", response=RedFlagOut,
             summary="Confirm or dismiss a red flag, with a comment")
def flag_decide(request: HttpRequest, flag_id: int, payload: DecisionIn):
    flag = selectors.flag_get(request.user, flag_id)
    flag = services.redflag_decide(actor=request.user, flag=flag, status=payload.status, comment=payload.comment)
    return _out(selectors.flag_get(request.user, flag.pk))
