"""Per-jurisdiction rules: the value that applies to a division on a date.

A rule set on a division applies to everything below it unless a nearer division overrides it.
When no row exists, the built-in default below applies; each default names its source and
whether it still needs checking against a primary text (shown in the UI as 待核实).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
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
    # Citizen requests (12345): time budgets per phase. "1h" is wall-clock hours; "13wd" is working
    # days counted from the day after receipt ("0wd": the same day). Most specific wins: urgent,
    # then "category:<c>", then "kind:<k>", then "default".
    "feedback.sla": (
        {
            "first_contact": {"urgent": "1h", "default": "24h"},
            "reply": {"urgent": "0wd", "kind:enquiry": "3wd", "kind:help": "3wd", "kind:praise": "5wd",
                      "default": "13wd"},
            "closure": {"urgent": "3wd", "kind:enquiry": "5wd", "kind:help": "5wd", "kind:praise": "5wd",
                        "default": "15wd"},
        },
        "12345 热线通行做法：紧急事项当日、咨询求助当日或 3 个工作日、建议投诉举报自受理次日起 13 个工作日答复；"
        "紧急 1 小时内联系、24 小时内首次响应（示例城市口径，需按本地规定核实）",
        True,
    ),
    # Which kind of department a category goes to, in the request's county (or the nearest division
    # above that has one); "project" goes to the project's lead department.
    "feedback.routing": (
        {"roads": "transport", "housing": "housing", "water": "water", "environment": "ecology",
         "welfare": "civil", "education": "education", "health": "health", "project": "housing",
         "other": "govoffice"},
        "本平台默认分类派单表（按本地三定方案调整）",
        True,
    ),
    # Transfers: the receiving unit must accept within `transfer_accept`; a disputed transfer goes to
    # the coordinating office, which decides within `coordination`. Citizens may reopen a request
    # within `reopen_days` calendar days of its closure. A request of the same category in the same
    # division within `duplicate_hours` and `duplicate_metres` (or at the same address) of an open one
    # is merged into it.
    "feedback.workflow": (
        {"transfer_accept": "1wd", "coordination": "2wd", "reopen_days": 15, "coordinator_kind": "govoffice",
         "duplicate_hours": 48, "duplicate_metres": 150},
        "12345 热线通行做法：转办须说明理由，争议由热线工作机构协调（时限为示例，需核实）",
        True,
    ),
    # The citizen map: the area a request's location must fall in ([south, west, north, east] in
    # degrees, WGS-84) and the map's starting view. The default is mainland China; a city sets its own.
    "feedback.map": (
        {"bbox": [18.0, 73.0, 54.0, 135.5], "center": None, "zoom": 12},
        "本平台默认：全国范围（各地应设为本辖区的外接矩形）",
        False,
    ),
    # The citizen form asks the captcha after `after` submissions (or SMS-code requests) from one network
    # address or one phone within `window_minutes`, looked up for the division of the submission (the
    # form's division, or the project's). None: the operator's FEEDBACK_CAPTCHA_AFTER /
    # FEEDBACK_CAPTCHA_WINDOW_MINUTES. `after` 0 asks it every time.
    "feedback.captcha": (
        {"after": None, "window_minutes": None},
        "本平台默认：沿用运维设置 FEEDBACK_CAPTCHA_AFTER（默认 3 次）与 FEEDBACK_CAPTCHA_WINDOW_MINUTES"
        "（默认 60 分钟）；各地可按本地滥用情况调整",
        False,
    ),
    # Holidays and make-up working days for years the chinese_calendar library does not yet cover:
    # {"2027": {"holidays": ["2027-01-01", …], "workdays": ["2027-02-06", …]}}. Until filled in,
    # those years count Monday–Friday as working days.
    "feedback.holiday_table": (
        {},
        "国务院办公厅关于节假日安排的通知（逐年发布；库未覆盖的年份须在此补录）",
        True,
    ),
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
    # Who approves a budget version, by its total (yuan): the first tier whose ceiling is above it names
    # the approver's role and division level (3 county, 2 city, 1 province; a project above that level
    # is approved at its own). The preparer never approves their own version; a 概算 adjustment goes
    # back to whoever approved the original.
    "finance.budget_approval": (
        [
            {"below": "10000000", "level": 3, "role": "finance_officer"},
            {"below": "50000000", "level": 3, "role": "leader"},
            {"below": "500000000", "level": 2, "role": "leader"},
            {"below": None, "level": 1, "role": "leader"},
        ],
        "政府投资条例（2019）第九条、预算法：按审批权限分级审批；额度与审批人为示例，需按本地规定核实",
        True,
    ),
    # Reported minus evidenced progress (percentage points) above which a project is flagged.
    "construction.progress_gap_points": (
        "10",
        "本平台默认口径（各地可按监理管理办法调整）",
        True,
    ),
    # Evidence older than this (days) at the time of a progress claim does not support the claim.
    "construction.evidence_max_age_days": (
        30,
        "本平台默认口径：监理月报周期",
        True,
    ),
    # Days past a rectification deadline before the order is escalated to the project's responsible person.
    "construction.rectification_grace_days": (
        0,
        "本平台默认口径",
        True,
    ),
    # Night minimum flow (m³/h, 02:00–04:00) a village district meter may show before a leak is suspected.
    "telemetry.night_flow_allowance_m3h": (
        "0.5",
        "本平台默认口径（按村规模和用水户数核定）",
        True,
    ),
    # Must-tender thresholds by procurement category (yuan, single contract estimate): at or above them
    # only open or invited tendering is allowed. Splitting a purchase to stay below them is forbidden.
    "procurement.must_tender_from": (
        {"works": "4000000", "goods": "2000000", "services": "1000000"},
        "必须招标的工程项目规定（国家发展改革委令第16号，2018）第五条：施工 400 万元、重要设备材料 200 万元、"
        "勘察设计监理等服务 100 万元以上（需核实本地是否另有规定）",
        True,
    ),
    # Minimum days from publication to the submission deadline, per method.
    "procurement.min_submission_days": (
        {"open": 20, "invited": 20, "negotiation": 3, "single_source": 0},
        "招标投标法第二十四条：自招标文件发出之日起至提交投标文件截止之日止最短不得少于二十日；"
        "政府采购非招标采购方式管理办法：竞争性谈判不少于 3 个工作日（按日历日计，需核实）",
        True,
    ),
    # An invited tender invites at least this many suppliers.
    "procurement.invited_min_suppliers": (
        3,
        "招标投标法第十七条：应当向三个以上具备承担招标项目能力、资信良好的特定法人或组织发出投标邀请书",
        True,
    ),
    # Cumulative change orders as a share of the contract value: warn above `warn`; above
    # `higher_approval` the approval needs a leader (分管领导).
    "procurement.variation_share": (
        {"warn": "0.10", "higher_approval": "0.15"},
        "本平台默认口径：变更累计超过合同价 10% 提示、超过 15% 报分管领导审批（需按本地规定核实）",
        True,
    ),
    # Red flags (insight): thresholds of the procurement and payment detectors. A flag is a reason to look, not a
    # finding. Must-tender thresholds, minimum submission days and the change-order share come from the
    # procurement rules above.
    "insight.redflags": (
        {
            "close_to_winner_ratio": "0.02",  # a losing bid within 2 % of the winning price
            "heavy_discount_ratio": "0.25",  # a bid more than 25 % under the tender's price cap
            "award_contract_change_ratio": "0.10",  # contract value vs award value; twice this is high
            "split_band": ["0.95", "1.00"],  # amounts from 95 % of a must-tender threshold up to just below it
            "split_nearby_days": 30,  # same supplier and buyer within this many days
            "benford_min_count": 300,  # fewer payments than this are not judged
            "benford_bands": ["0.006", "0.012", "0.015"],  # MAD: close / acceptable / marginal / non-conforming
        },
        "Open Contracting Partnership《Red Flags for Integrity》(2016) 与 Cardinal 指标；Nigrini (2012) 本福特首位数字 "
        "MAD 区间；比例阈值为本平台默认口径，需按本地审计实践核实",
        True,
    ),
}


def rule_for(key: str, division: Division | None, on: dt.date | None = None) -> Rule:
    on = on or timezone.localdate()
    memo_key = (key, division.path if division is not None else None, on)
    version = _memo.version()
    if version is not None:
        found = _memo.rules.get(memo_key)
        if found is not None:
            return found
    rule = _read_rule(key, division, on)
    if version is not None:
        _memo.keep(memo_key, rule)
    return rule


def _read_rule(key: str, division: Division | None, on: dt.date) -> Rule:
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


class _Memo:
    """Rules (and divisions, `division_get`) already read in this process, valid while the settings version
    in the shared cache is the one they were read under. Every committed change of a setting or a division
    publishes a new version (a random token, so a version rolled back with a cache table can never be
    mistaken for a newer one); other processes see it on their next look at the version — at most
    MINSHENG_RULES_RECHECK_SECONDS after the change (default 1 s; one cache read per process and second,
    not one per lookup: the citizen portal looks up rules several times per submission). This process
    sees its own changes at once: a change not yet committed here turns the memo off until it commits
    (nothing uncommitted is ever remembered)."""

    LIMIT = 20_000
    KEY = "jurisdiction:version"

    def __init__(self) -> None:
        self.rules: dict[tuple, Any] = {}
        self.read_under: str | None = None
        self.checked_at = float("-inf")  # time.monotonic() of the last look at the shared version
        self.pending = 0
        self.lock = threading.Lock()

    def version(self) -> str | None:
        """The current version, or None when the memo must not be used."""
        if self.pending:
            return None
        now = time.monotonic()
        if self.read_under is not None and now - self.checked_at < _recheck_seconds():
            return self.read_under
        current = cache.get(self.KEY)
        if current is None:
            cache.add(self.KEY, uuid.uuid4().hex, timeout=None)
            current = cache.get(self.KEY)
        with self.lock:
            if current != self.read_under:
                self.rules = {}
                self.read_under = current
            self.checked_at = now
        return current

    def keep(self, memo_key: tuple, rule: Rule) -> None:
        with self.lock:
            if len(self.rules) >= self.LIMIT:
                self.rules = {}
            self.rules[memo_key] = rule

    def changed(self) -> None:
        with self.lock:
            self.rules = {}
            self.read_under = None
            self.checked_at = float("-inf")
            self.pending += 1
        transaction.on_commit(self.published)

    def published(self) -> None:
        cache.set(self.KEY, uuid.uuid4().hex, timeout=None)
        with self.lock:
            self.rules = {}
            self.checked_at = float("-inf")
            self.pending = max(0, self.pending - 1)


_memo = _Memo()


def _recheck_seconds() -> float:
    from django.conf import settings

    return float(getattr(settings, "MINSHENG_RULES_RECHECK_SECONDS", 1.0))


def division_get(pk: int, *, min_level: int = 1) -> Division | None:
    """The division `pk` at `min_level` or below, from the memo (read once per settings version and
    process) — the citizen form checks one on every submission; None when there is none."""
    version = _memo.version()
    key = ("division", pk)
    if version is not None and key in _memo.rules:
        found = _memo.rules[key]
    else:
        found = Division.objects.filter(pk=pk).first()
        if version is not None:
            _memo.keep(key, found)
    return found if found is not None and found.level >= min_level else None


@receiver([post_save, post_delete], sender=JurisdictionSetting)
@receiver([post_save, post_delete], sender=Division)
def _setting_changed(**_kwargs: Any) -> None:
    _memo.changed()
