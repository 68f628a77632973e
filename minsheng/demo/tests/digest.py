"""A digest of the demo data's key fields, independent of primary keys (which differ between runs)."""

from __future__ import annotations

import hashlib
import json

from minsheng.accounts.models import User
from minsheng.core.models import AuditEvent, Department, Division
from minsheng.projects.models import (
    Document,
    GateApproval,
    GateRequest,
    PerformanceTarget,
    Project,
    ProjectMember,
    StageTransition,
    WbsItem,
)


def _rows() -> dict[str, list]:
    return {
        "divisions": sorted(Division.objects.values_list("code", "name", "level", "parent__code")),
        "departments": sorted(Department.objects.values_list("division__code", "kind", "name")),
        "users": sorted(
            User.objects.values_list(
                "username",
                "full_name",
                "title",
                "role",
                "division__code",
                "department__kind",
                "phone",
                "organisation",
                "is_superuser",
            )
        ),
        "projects": sorted(
            Project.objects.values_list(
                "code",
                "name",
                "domain",
                "stage",
                "previous_stage",
                "estimate_amount",
                "design_estimate_amount",
                "division__code",
                "lead_department__division__code",
                "lead_department__kind",
                "responsible_person__username",
                "latitude",
                "longitude",
                "planned_start",
                "planned_end",
                "actual_start",
                "actual_end",
                "progress",
                "created_at",
                "updated_at",
                "stage_changed_at",
                "version",
                "beneficiaries_total",
                "beneficiaries_elderly",
                "beneficiaries_disabled",
                "beneficiaries_low_income",
                "beneficiaries_children",
                "is_high_impact",
                "is_emergency",
            )
        ),
        "partners": sorted(
            Project.partner_departments.through.objects.values_list(
                "project__code", "department__division__code", "department__kind"
            )
        ),
        "wbs": sorted(
            WbsItem.objects.values_list(
                "project__code",
                "code",
                "name",
                "parent__code",
                "responsible__username",
                "due_date",
                "weight",
                "progress",
                "completed_at",
                "updated_at",
            )
        ),
        "documents": sorted(
            Document.objects.values_list(
                "project__code",
                "kind",
                "title",
                "sha256",
                "stage",
                "uploaded_by__username",
                "uploaded_at",
                "file",
            )
        ),
        "requests": sorted(
            GateRequest.objects.values_list(
                "project__code",
                "from_stage",
                "to_stage",
                "path",
                "status",
                "required_level",
                "requested_by__username",
                "requested_at",
                "decided_at",
            )
        ),
        "approvals": sorted(
            GateApproval.objects.values_list(
                "request__project__code",
                "request__requested_at",
                "slot",
                "approver__username",
                "approve",
                "at",
            )
        ),
        "transitions": sorted(
            StageTransition.objects.values_list(
                "project__code", "from_stage", "to_stage", "path", "actor__username", "at"
            )
        ),
        "targets": sorted(
            PerformanceTarget.objects.values_list(
                "project__code", "dimension", "indicator", "target_value", "actual_value"
            )
        ),
        "members": sorted(
            ProjectMember.objects.values_list("project__code", "user__username", "role", "since")
        ),
        "audit": sorted(
            AuditEvent.objects.values_list(
                "at", "actor_label", "action", "object_type", "object_repr", "project_code"
            )
        ),
    }


def demo_digest() -> str:
    text = json.dumps(_rows(), default=str, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
