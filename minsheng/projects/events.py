"""Reactions to project events: each enqueues a task, after commit."""

from __future__ import annotations

from minsheng.core.events import subscribe


@subscribe("projects.gate_requested")
def _gate_requested(*, request_id: int) -> None:
    from minsheng.projects.tasks import notify_gate_approvers

    notify_gate_approvers.enqueue(request_id)


@subscribe("projects.stage_changed")
def _stage_changed(*, transition_id: int) -> None:
    from minsheng.projects.tasks import notify_stage_changed

    notify_stage_changed.enqueue(transition_id)
