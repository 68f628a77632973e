"""Background work for the ledger: thin wrappers over services."""

from __future__ import annotations

import logging
from typing import Any

from django.utils.translation import gettext as _
from django_tasks import task

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core.services import notify
from minsheng.ledger import registry, services, verification

log = logging.getLogger(__name__)


@task()
def anchor_record(
    *,
    kind: str,
    project_code: str | None,
    record_model: str,
    record_id: str,
    digest: str | None = None,
    actor_id: int | None = None,
    actor_role: str = "",
) -> int:
    """Anchor a record after its transaction committed; returns the leaf index."""
    record: Any = (record_model, record_id)
    if registry.get(record_model) is not None:
        found = registry.fetch(record_model, [record_id])
        if record_id not in found:
            raise LookupError(f"{record_model} {record_id} not found")
        record = found[record_id]
        if project_code is None:
            project_code = _project_code(record)
    if actor_id is not None and not actor_role:
        actor_role = User.objects.filter(pk=actor_id).values_list("role", flat=True).first() or ""
    elif actor_id is None and not isinstance(record, tuple) and registry.actor_id(record) is not None:
        actor_id = registry.actor_id(record)
        actor_role = User.objects.filter(pk=actor_id).values_list("role", flat=True).first() or ""
    leaf = services.anchor(
        kind=kind,
        project_code=project_code or "",
        record=record,
        digest=digest,
        actor=actor_id,
        actor_role=actor_role,
    )
    return leaf.index


def _project_code(record: Any) -> str:
    for path in ("project", "request.project"):
        obj = record
        for part in path.split("."):
            obj = getattr(obj, part, None)
        if obj is not None and hasattr(obj, "code"):
            return obj.code
    return ""


@task()
def checkpoint_if_grown() -> int | None:
    """Sign a checkpoint when the tree has grown, and push it to the configured witnesses."""
    cp = services.checkpoint_create()
    if cp is not None:
        services.witness_push(cp)
    return cp.size if cp else None


@task()
def verify_log() -> bool:
    """Nightly: full verification; on failure, alert every system administrator and log an error."""
    report = verification.verify(records=True)
    if report.ok:
        return True
    log.error("ledger verification FAILED: %s", "; ".join(p["message"] for p in report.problems[:20]))
    text = _("证据日志完整性校验未通过：发现 %(n)d 处问题，请立即核查。") % {"n": len(report.problems)}
    for admin in User.objects.filter(is_active=True, role=Role.SYSADMIN):
        notify(
            recipient=admin,
            kind="ledger.verify_failed",
            text=text,
            link="/console/ledger/",
            dedupe_key=f"ledger-verify:{report.run_id}",
        )
    return False
