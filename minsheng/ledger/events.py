"""What the ledger anchors, and the `ledger.anchor` event any app can send on commit.

    from minsheng.ledger.events import anchor_on_commit
    anchor_on_commit(kind="disbursement", project_code=p.code, record=payment, actor=actor)

is the one line a later feature adds (inside its service's transaction). The record's type must be
registered in `ledger.registry` unless an explicit `digest` is given.
"""

from __future__ import annotations

from typing import Any

from django.db import models

from minsheng.core.events import send_on_commit, subscribe


def anchor_on_commit(
    *,
    kind: str,
    project_code: str,
    record: models.Model | tuple[str, str],
    digest: str | None = None,
    actor: Any = None,
    actor_role: str = "",
) -> None:
    label, pk = (record._meta.label_lower, str(record.pk)) if isinstance(record, models.Model) else record
    send_on_commit(
        "ledger.anchor",
        kind=kind,
        project_code=project_code,
        record_model=label,
        record_id=str(pk),
        digest=digest,
        actor_id=getattr(actor, "pk", actor),
        actor_role=actor_role,
    )


@subscribe("ledger.anchor")
def _anchor(**payload: Any) -> None:
    from minsheng.ledger.tasks import anchor_record

    anchor_record.enqueue(**payload)


@subscribe("projects.stage_changed")
def _stage_changed(*, transition_id: int) -> None:
    from minsheng.ledger.tasks import anchor_record

    anchor_record.enqueue(
        kind="stage_transition",
        project_code=None,
        record_model="projects.stagetransition",
        record_id=str(transition_id),
    )


@subscribe("projects.document_uploaded")
def _document_uploaded(*, document_id: int) -> None:
    from minsheng.ledger.tasks import anchor_record

    anchor_record.enqueue(
        kind="document", project_code=None, record_model="projects.document", record_id=str(document_id)
    )


@subscribe("projects.gate_approval_recorded")
def _gate_approval(*, approval_id: int) -> None:
    from minsheng.ledger.tasks import anchor_record

    anchor_record.enqueue(
        kind="gate_approval",
        project_code=None,
        record_model="projects.gateapproval",
        record_id=str(approval_id),
    )
