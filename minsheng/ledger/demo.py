"""Anchor the demo city's generated history in the evidence ledger.

The demo generator writes years of stage transitions, gate decisions and documents directly; in a
real deployment each of them was anchored when it happened (ledger.events). This replays that, in
time order and in batches, then signs a checkpoint and runs a full verification, so every demo
project has receipts to verify.
"""

from __future__ import annotations

from typing import Any

from minsheng.ledger import services, verification
from minsheng.projects.models import Document, GateApproval, StageTransition

BATCH = 500


def anchor_history() -> int:
    events: list[tuple[Any, dict[str, Any]]] = []
    for t in StageTransition.objects.select_related("project", "actor"):
        events.append((t.at, {"kind": "stage_transition", "project_code": t.project.code, "record": t,
                              "actor": t.actor_id, "actor_role": t.actor.role, "at": t.at}))
    for a in GateApproval.objects.select_related("request__project", "approver"):
        events.append((a.at, {"kind": "gate_approval", "project_code": a.request.project.code, "record": a,
                              "actor": a.approver_id, "actor_role": a.approver.role, "at": a.at}))
    for d in Document.objects.select_related("project", "uploaded_by"):
        events.append((d.uploaded_at, {"kind": "document", "project_code": d.project.code, "record": d,
                                       "actor": d.uploaded_by_id, "actor_role": d.uploaded_by.role,
                                       "at": d.uploaded_at}))
    events.sort(key=lambda e: e[0])
    items = [payload for _at, payload in events]
    for start in range(0, len(items), BATCH):
        services.anchor_many(items[start:start + BATCH])
    services.checkpoint_create(force=True)
    # A first full verification, so the log health page starts from a checked state.
    verification.verify()
    return len(items)
