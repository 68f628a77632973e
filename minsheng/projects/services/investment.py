"""The approved cost figures a project carries (估算, 概算), set by the budget approval in `finance`.

`project_update` refuses to change the 概算 once it caps investment; an approved budget version (or an
approved 概算 adjustment) is the one way it changes afterwards, and it comes through here.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from minsheng.accounts.models import User
from minsheng.core import audit
from minsheng.projects.models import Project
from minsheng.projects.services.permissions import _require_visible

FIELDS = {"estimate": "estimate_amount", "design": "design_estimate_amount"}


@transaction.atomic
def project_record_approved_cost(*, actor: User, project: Project, kind: str, amount: Decimal,
                                 source: str = "") -> Project:
    """Record the total of an approved 估算 (`kind="estimate"`) or 概算 (`kind="design"`) on the project.
    The caller has decided the approval; this only writes the figure, bumps the version and audits."""
    _require_visible(actor, project)
    name = FIELDS[kind]
    locked = Project.objects.select_for_update().get(pk=project.pk)
    before = getattr(locked, name)
    Project.objects.filter(pk=locked.pk).update(**{name: amount, "version": F("version") + 1,
                                                   "updated_at": timezone.now()})
    locked.refresh_from_db()
    audit.record(actor=actor, action="project.approved_cost", obj=locked, before={name: before},
                 after={name: amount, "source": source}, project_code=locked.code,
                 division_path=locked.division_path)
    return locked
