"""Writes to projects: registration, edits, documents, gates and the responsibility checklist.

Every service takes the acting user, checks permission and input, writes in one transaction,
records the audit trail and sends events on commit. Callers import from this package:
`from minsheng.projects import services; services.gate_request(...)`.
"""

from minsheng.projects.services.checklist import (
    can_report_progress,
    wbs_item_create,
    wbs_item_update,
    wbs_progress,
)
from minsheng.projects.services.gates import (
    gate_decide,
    gate_options,
    gate_request,
    gate_withdraw,
    project_facts,
)
from minsheng.projects.services.investment import project_record_approved_cost
from minsheng.projects.services.permissions import can_fill_slot, can_manage, open_slots_for
from minsheng.projects.services.registry import (
    document_upload,
    member_add,
    project_create,
    project_update,
    target_add,
)

__all__ = [
    "can_fill_slot", "can_manage", "can_report_progress", "document_upload", "gate_decide", "gate_options",
    "gate_request", "gate_withdraw", "member_add", "open_slots_for", "project_create", "project_facts",
    "project_record_approved_cost", "project_update", "target_add", "wbs_item_create", "wbs_item_update",
    "wbs_progress",
]
