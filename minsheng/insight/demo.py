"""Demo city: red flags computed over its procurement and payments, an example audit sample, and its OCDS
releases published. Called by `minsheng demo` after the procurement and finance demo data exist."""

from __future__ import annotations

from typing import Any

from minsheng.accounts.roles import Role


def publish_ocds() -> int:
    """One OCDS release per demo process (idempotent: a second call writes nothing)."""
    from minsheng.procurement.ocds import publisher

    return publisher.publish_all()


def generate_insight(*, sample_size: int = 10, seed: int = 2026) -> dict[str, Any]:
    """Compute every red flag, and let the first auditor draw one reproducible sample of payments."""
    from django.apps import apps

    from minsheng.insight import services
    from minsheng.insight.models import AuditSample

    counts = services.recompute_all()
    User = apps.get_model("accounts", "User")
    auditor = User.objects.filter(role=Role.AUDITOR, is_active=True, division__isnull=False).order_by("pk").first()
    sample = None
    if auditor is not None and not AuditSample.objects.filter(seed=seed, drawn_by=auditor).exists():
        sample = services.sample_draw(actor=auditor, title="演示：季度资金抽查", size=sample_size, seed=seed)
    return {"flags": counts, "sample": sample.pk if sample else None}
