"""Per-jurisdiction rules: the value that applies to a division on a date.

A rule set on a division applies to everything below it unless a nearer division overrides it.
When no row exists, the built-in default below applies; each default names its source and
whether it still needs checking against a primary text (shown in the UI as 待核实).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone

from minsheng.core.models import Division, JurisdictionSetting


@dataclass(frozen=True)
class Rule:
    key: str
    value: Any
    source: str
    needs_verification: bool
    division: Division | None


DEFAULTS: dict[str, tuple[Any, str, bool]] = {
    # Simplified lifecycle paths by total investment (yuan). Example: Ningxia rules.
    "lifecycle.simplified_path": (
        {"all_documents_from": "50000000", "fsr_replaces_proposal_from": "15000000"},
        "宁夏回族自治区政府投资项目审批规定（示例，需按本地规定核实）",
        True,
    ),
    # Which level approves a gate, by total investment (yuan): the first tier whose ceiling is above it.
    "lifecycle.approval_tiers": (
        [
            {"below": "50000000", "level": 3},
            {"below": "500000000", "level": 2},
            {"below": None, "level": 1},
        ],
        "政府投资条例（2019）第九条：按项目审批权限分级审批；分级额度为示例，需按本地规定核实",
        True,
    ),
    # Projects at or above this size always need opinion survey, expert review and risk assessment.
    "lifecycle.major_project_from": (
        "50000000",
        "政府投资条例第十一条：重大项目应当进行风险评估并听取公众意见；额度为示例，需核实",
        True,
    ),
    # Whether the person who requests a gate is barred from approving it. Off by default because a
    # county department often has a single officer; a jurisdiction with enough staff turns it on.
    "lifecycle.separation_of_duties": (
        False,
        "内部控制：不相容岗位相分离（行政事业单位内部控制规范）；是否强制由本地确定",
        False,
    ),
    # A 概算 more than this share above the FSR 估算 must be reported (and may need a new FSR).
    "finance.estimate_excess_ratio": (
        "0.10",
        "政府投资条例第十二条；10% 口径需核实",
        True,
    ),
}


def rule_for(key: str, division: Division | None, on: dt.date | None = None) -> Rule:
    on = on or timezone.localdate()
    qs = JurisdictionSetting.objects.filter(key=key, valid_from__lte=on).filter(
        Q(valid_to__isnull=True) | Q(valid_to__gte=on)
    )
    ancestor_ids: list[int] = []
    if division is not None:
        ancestor_ids = [int(p) for p in division.path.strip("/").split("/") if p]
    rows = list(qs.filter(Q(division__isnull=True) | Q(division_id__in=ancestor_ids)).select_related("division"))
    if rows:
        depth = {pk: i for i, pk in enumerate(ancestor_ids)}
        best = max(rows, key=lambda r: (depth.get(r.division_id, -1), r.valid_from))
        return Rule(key, best.value, best.source, best.needs_verification, best.division)
    value, source, verify = DEFAULTS[key]
    return Rule(key, value, source, verify, None)
