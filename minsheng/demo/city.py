"""The demo city 青溪市 (江南省), generated deterministically from a seed.

`generate(seed=…)` writes into an empty database: one prefecture-level city with five counties
and districts, about 40 townships/streets and 200 villages/communities, the city's departments and
the main ones per county, about 60 staff (one fixed demo account per role, see `DEMO_ACCOUNTS`),
and at least 300 projects across every domain, stage and size (20万–5亿元). Every project is
consistent with the statutory gates: a project at stage X carries the documents, approved gate
requests, approvals and stage transitions its past gates required (checked by
`minsheng.demo.consistency`). The six cases of the requirement essay are named projects whose codes
are fixed in `CASES`.

Dates are relative to `as_of` (today by default) so the demo always looks current; the same seed
and the same `as_of` give identical data.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from minsheng.accounts.models import User
from minsheng.accounts.roles import Role
from minsheng.core.jurisdiction import rule_for
from minsheng.core.models import AuditEvent, Department, DepartmentKind, Division, DivisionLevel
from minsheng.demo import names
from minsheng.demo.cases import SIX_CASES, Case
from minsheng.demo.pdf import one_page
from minsheng.projects import code as project_code
from minsheng.projects import lifecycle, wbs
from minsheng.projects.lifecycle import ORDER, DocumentKind, PathKind, Slot, Stage
from minsheng.projects.models import (
    CodeSequence,
    Document,
    GateApproval,
    GateRequest,
    GateStatus,
    MemberRole,
    PerformanceTarget,
    Project,
    ProjectMember,
    StageTransition,
    WbsItem,
    document_path,
)

DEMO_PASSWORD = "minsheng-demo"  # noqa: S105 - the published password of the demo accounts
DEFAULT_SEED = 2026
DEFAULT_PROJECTS = 320
PROVINCE_CODE = "990000"
CITY_CODE = "990100"
SHANGHAI = ZoneInfo("Asia/Shanghai")

# The six essay cases: short key → national project code (stable across seeds and dates).
CASES: dict[str, str] = {
    "bikes": "202399010004010000000011",  # 青溪市公共自行车系统优化 — operation
    "water": "202599012108010000000018",  # 东岭县农村饮水安全巩固提升工程 — construction
    "bus": "202599010004010000000010",  # 青溪市城乡公交一体化改革 — construction
    "elderly": "202599010207010000000016",  # 青溪区颐养院（养老院）新建工程 — construction, faked progress
    "elevator": "202699010203010000000013",  # 城关街道老旧小区电梯加装 — construction
    "cloud": "202399010216010000000014",  # 青溪区民生工程云平台 — operation
}


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    division_code: str
    department_kind: str | None
    full_name: str
    title: str
    organisation: str = ""
    try_this: str = ""
    phone: str = ""  # fixed for accounts added later, so they draw nothing from the generator's random stream


# One account per role (plus a second county officer to show scoping). Fixed names and places so
# the README and `minsheng demo` can list them.
DEMO_ACCOUNTS: tuple[DemoAccount, ...] = (
    DemoAccount(
        "leader",
        Role.LEADER,
        CITY_CODE,
        None,
        "周明远",
        "副市长",
        try_this="全市项目总览；审批暂停、撤销；查看审计记录",
    ),
    DemoAccount(
        "drc",
        Role.DEPT_OFFICER,
        CITY_CODE,
        "drc",
        "陈立新",
        "投资科科长",
        try_this="市级审批的关口（可研、初设概算）待审批；城乡公交一体化（bus）",
    ),
    DemoAccount(
        "finance",
        Role.FINANCE_OFFICER,
        CITY_CODE,
        "finance",
        "林晓东",
        "预算科副科长",
        try_this="决算转运营的财政审批；全市项目资金视图",
    ),
    DemoAccount(
        "housing",
        Role.DEPT_OFFICER,
        "990102",
        "housing",
        "王建华",
        "城建科科员",
        try_this="青溪区住建牵头的项目；城关街道电梯加装（elevator）的责任清单",
    ),
    DemoAccount(
        "housing2",
        Role.DEPT_OFFICER,
        "990121",
        "housing",
        "赵思远",
        "村镇建设股股长",
        try_this="只看到东岭县住建项目：与 housing 对比权限范围",
    ),
    DemoAccount(
        "supervisor",
        Role.SUPERVISOR,
        "",
        None,
        "孙卫东",
        "总监理工程师",
        organisation=names.SUPERVISION_FIRMS[0],
        try_this="只看到受委托监理的项目；颐养院（elderly）填报与核实进度",
    ),
    DemoAccount(
        "inspector",
        Role.TOWNSHIP_INSPECTOR,
        "990102001",
        None,
        "黄秀霞",
        "网格巡查员",
        try_this="城关街道的日常巡查；电梯加装邻里互助小组的子项",
    ),
    DemoAccount(
        "auditor", Role.AUDITOR, CITY_CODE, "audit", "郑振华", "审计员", try_this="全市项目与审计记录（只读）"
    ),
    DemoAccount(
        "evaluator",
        Role.EVALUATOR,
        "",
        None,
        "何佳瑶",
        "绩效评价师",
        organisation=names.EVALUATORS[0],
        try_this="受委托的绩效评价项目：公共自行车（bikes）、云平台（cloud）",
    ),
    DemoAccount(
        "contractor",
        Role.CONTRACTOR,
        "",
        None,
        "刘刚",
        "项目经理",
        organisation=names.CONTRACTORS[0],
        try_this="承建项目的子项进度填报；颐养院（elderly）",
    ),
    DemoAccount(
        "village_rep",
        Role.VILLAGE_REP,
        "",  # the village is set with the rural-water case (construction.demo): a villagers' committee of 东岭县
        None,
        "张守义",
        "村民代表",
        try_this="农村饮水（water）：本村供水看板（今天疑似漏水、水质是否合格），记录看到的情况",
        phone="13957100218",
    ),
    DemoAccount(
        "admin",
        Role.SYSADMIN,
        CITY_CODE,
        None,
        "系统管理员",
        "信息中心工程师",
        try_this="/admin/ 与全部功能（超级用户）",
    ),
)

CITY_DEPT_NAMES = {
    "drc": "发展和改革委员会",
    "finance": "财政局",
    "housing": "住房和城乡建设局",
    "transport": "交通运输局",
    "education": "教育局",
    "health": "卫生健康委员会",
    "civil": "民政局",
    "water": "水利局",
    "ecology": "生态环境局",
    "audit": "审计局",
    "natres": "自然资源和规划局",
    "agri": "农业农村局",
    "culture": "文化广电旅游局",
    "sport": "体育局",
    "hr": "人力资源和社会保障局",
    "emergency": "应急管理局",
    "data": "数据资源局",
    "petition": "信访局",
    "disabled": "残疾人联合会",
    "govoffice": "人民政府办公室",
}
COUNTY_DEPT_KINDS = [
    "drc",
    "finance",
    "housing",
    "transport",
    "education",
    "health",
    "civil",
    "water",
    "ecology",
    "audit",
    "hr",
    "data",
]
COUNTY_DEPT_NAMES = {
    **CITY_DEPT_NAMES,
    "drc": "发展和改革局",
    "health": "卫生健康局",
    "ecology": "生态环境分局",
}
# Officers per county department (beyond leader, DRC and finance); the first county also runs the
# district cloud platform, the rural counties their water works.
COUNTY_OFFICER_KINDS = {
    "990102": ["housing", "civil", "education", "health", "data"],
    "990103": ["housing", "civil", "education", "health"],
    "990121": ["housing", "civil", "education", "water"],
    "990122": ["housing", "civil", "health", "water"],
    "990123": ["housing", "civil", "education", "water"],
}
CITY_OFFICER_KINDS = [
    "housing",
    "transport",
    "education",
    "health",
    "civil",
    "water",
    "ecology",
    "natres",
    "agri",
    "culture",
    "sport",
    "hr",
    "data",
    "govoffice",
]

STAGE_WEIGHTS = {
    Stage.RESERVE: 7,
    Stage.PROPOSAL: 6,
    Stage.FEASIBILITY: 9,
    Stage.DESIGN: 9,
    Stage.PROCUREMENT: 9,
    Stage.CONSTRUCTION: 26,
    Stage.ACCEPTANCE: 7,
    Stage.FINAL_ACCOUNTS: 5,
    Stage.OPERATION: 12,
    Stage.POST_EVALUATION: 4,
    Stage.SUSPENDED: 4,
    Stage.CANCELLED: 2,
}
# Days a project typically spends in a stage before passing its exit gate: (low, high).
STAGE_DAYS = {
    Stage.RESERVE: (20, 90),
    Stage.PROPOSAL: (30, 90),
    Stage.FEASIBILITY: (45, 150),
    Stage.DESIGN: (30, 120),
    Stage.PROCUREMENT: (30, 80),
    Stage.ACCEPTANCE: (20, 90),
    Stage.FINAL_ACCOUNTS: (30, 120),
    Stage.OPERATION: (365, 900),
    Stage.POST_EVALUATION: (30, 400),
    Stage.SUSPENDED: (20, 200),
    Stage.CANCELLED: (10, 400),
}
# Documents a project produces inside a stage besides the gate's own evidence.
EXTRA_DOCS = {Stage.PROCUREMENT: [DocumentKind.TENDER]}
REJECT_COMMENTS = [
    "材料不全，请补充后重新申请。",
    "绩效目标不够具体，请细化后再报。",
    "概算编制依据不足，请补充测算过程。",
    "请补充群众意见征询情况。",
]
SUSPEND_REASONS = [
    "用地手续未完善，暂停推进，待自然资源部门办结后恢复。",
    "资金来源未落实，经联席会议研究暂缓实施。",
    "群众对选址意见较大，暂停并重新征求意见。",
]
CANCEL_REASONS = [
    "与上级新建项目功能重复，经研究予以撤销。",
    "需求发生变化，经论证不再实施。",
    "选址地块规划调整，项目撤销，资金统筹用于其他民生项目。",
]


@dataclass
class Generated:
    seed: int
    as_of: dt.date
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# helpers


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    """An aware datetime on `day` at Shanghai office time, stored as UTC."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=SHANGHAI).astimezone(dt.UTC)


def _money(value: float) -> Decimal:
    """Round to whole hundreds of yuan, as budgets are written."""
    return Decimal(int(value // 100) * 100).quantize(Decimal("0.01"))


def _county_of(code: str) -> str | None:
    return code[:6] if len(code) > 6 or (len(code) == 6 and code not in (PROVINCE_CODE, CITY_CODE)) else None


@dataclass
class _Plan:
    """Everything decided about one project before rows are written."""

    project: Project
    county: str | None
    steps: list[tuple[str, str, str]]  # (from, to, path)
    entered: list[dt.date]  # entered[i]: date stage i of the walk was entered (0: registration)
    major: bool
    case: Case | None = None


class _Builder:
    def __init__(self, *, seed: int, as_of: dt.date, store_files: bool, wbs_range: tuple[int, int]) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - reproducible demo data, not security
        self.seed = seed
        self.as_of = as_of
        self.store_files = store_files
        self.wbs_range = wbs_range
        self.div: dict[str, Division] = {}
        self.townships: dict[str, list[Division]] = {}
        self.villages: dict[str, list[Division]] = {}
        self.dept: dict[tuple[str, str], Department] = {}
        self.users: dict[str, User] = {}
        self.officers: dict[tuple[str, str], list[User]] = {}
        self.leader: dict[str, User] = {}
        self.drc: dict[str, User] = {}
        self.finance: dict[str, User] = {}
        self.inspectors: dict[str, list[User]] = {}
        self.externals: dict[str, list[User]] = {}
        self.audit: list[
            tuple[dt.datetime, User | None, str, Any, dict | None, dict | None, Project | None]
        ] = []
        self.plans: list[_Plan] = []
        self.used_names: set[str] = set()
        self.person_names: set[str] = {a.full_name for a in DEMO_ACCOUNTS}
        self.docs: list[Document] = []
        self.requests: list[GateRequest] = []
        self.approvals: list[GateApproval] = []
        self.transitions: list[StageTransition] = []
        self.targets: list[PerformanceTarget] = []
        self.members: list[ProjectMember] = []
        self.wbs_items: list[WbsItem] = []
        self.partners: list[tuple[Project, Department]] = []
        self.roles_of: dict[int, list[tuple[User, str]]] = {}
        simplified = rule_for("lifecycle.simplified_path", None).value
        self.all_documents_from = Decimal(str(simplified["all_documents_from"]))
        self.fsr_from = Decimal(str(simplified["fsr_replaces_proposal_from"]))
        self.tiers = rule_for("lifecycle.approval_tiers", None).value
        self.major_from = Decimal(str(rule_for("lifecycle.major_project_from", None).value))
        self.excess_ratio = Decimal(str(rule_for("finance.estimate_excess_ratio", None).value))
        self.rule = lifecycle.SimplifiedPathRule(self.all_documents_from, self.fsr_from)

    # -- organisation -------------------------------------------------------------------------

    def place_name(self, taken: set[str], suffix: str) -> str:
        for _ in range(200):
            name = self.rng.choice(names.PLACE_FIRST) + self.rng.choice(names.PLACE_SECOND)
            if name[0] != name[1] and name not in taken:
                taken.add(name)
                return name + suffix
        raise RuntimeError("ran out of place names")

    def person_name(self) -> str:
        while True:
            given = "".join(self.rng.choice(names.GIVEN) for _ in range(self.rng.choice((1, 2, 2))))
            name = self.rng.choice(names.SURNAMES) + given
            if name not in self.person_names:
                self.person_names.add(name)
                return name

    def build_divisions(self) -> None:
        province = Division(code=PROVINCE_CODE, name="江南省", level=DivisionLevel.PROVINCE, path="")
        self._save_level([province], None)
        city = Division(code=CITY_CODE, name="青溪市", level=DivisionLevel.CITY, parent=province, path="")
        self._save_level([city], province)
        counties = [
            Division(code=c, name=n, level=DivisionLevel.COUNTY, parent=city, path="")
            for c, n, _k, _ll in names.COUNTIES
        ]
        self._save_level(counties, city)
        towns: list[Division] = []
        for county in counties:
            district = county.name.endswith("区")
            taken: set[str] = set()
            fixed = names.FIXED_TOWNSHIPS.get(county.code, [])
            count = self.rng.randint(7, 9)
            made: list[Division] = []
            for i in range(count):
                if i < len(fixed):
                    name = fixed[i]
                    taken.add(name[:2])
                else:
                    suffix = self.rng.choice(
                        names.TOWNSHIP_SUFFIX_DISTRICT if district else names.TOWNSHIP_SUFFIX_COUNTY
                    )
                    name = self.place_name(taken, suffix)
                # Streets are numbered 001–099, towns 100–199, townships 200–.
                base = 1 if name.endswith("街道") else 100 if name.endswith("镇") else 200
                serial = base + sum(1 for t in made if _town_base(t.name) == base)
                made.append(
                    Division(
                        code=f"{county.code}{serial:03d}",
                        name=name,
                        level=DivisionLevel.TOWNSHIP,
                        parent=county,
                        path="",
                    )
                )
            self.townships[county.code] = made
            towns += made
        self._save_level(towns, None)
        villages: list[Division] = []
        for town in towns:
            urban = town.name.endswith("街道")
            taken = set()
            made = []
            for _ in range(self.rng.randint(4, 6)):
                suffix = self.rng.choice(names.VILLAGE_SUFFIX_URBAN if urban else names.VILLAGE_SUFFIX_RURAL)
                name = self.place_name(taken, suffix)
                # Residents' committees 001–199, villagers' committees 200–.
                base = 1 if suffix == "社区" else 200
                serial = base + sum(1 for v in made if (1 if v.name.endswith("社区") else 200) == base)
                made.append(
                    Division(
                        code=f"{town.code}{serial:03d}",
                        name=name,
                        level=DivisionLevel.VILLAGE,
                        parent=town,
                        path="",
                    )
                )
            self.villages[town.code] = made
            villages += made
        self._save_level(villages, None)

    def _save_level(self, rows: list[Division], _parent: Division | None) -> None:
        Division.objects.bulk_create(rows)
        for d in rows:
            d.path = f"{d.parent.path if d.parent else '/'}{d.pk}/"
            self.div[d.code] = d
        Division.objects.bulk_update(rows, ["path"])
        created = _at(self.as_of - dt.timedelta(days=2200), 9, 0)
        for d in rows:
            self.audit.append(
                (
                    created,
                    None,
                    "division.create",
                    d,
                    None,
                    {"code": d.code, "name": d.name, "level": d.level},
                    None,
                )
            )

    def build_departments(self) -> None:
        rows: list[Department] = []
        city = self.div[CITY_CODE]
        for kind in DepartmentKind.values:
            if kind == DepartmentKind.TOWNSHIP:
                continue
            rows.append(Department(division=city, kind=kind, name=f"{city.name}{CITY_DEPT_NAMES[kind]}"))
        for code, *_rest in names.COUNTIES:
            county = self.div[code]
            for kind in COUNTY_DEPT_KINDS:
                rows.append(
                    Department(division=county, kind=kind, name=f"{county.name}{COUNTY_DEPT_NAMES[kind]}")
                )
            for town in self.townships[code]:
                office = "办事处" if town.name.endswith("街道") else "人民政府"
                rows.append(
                    Department(division=town, kind=DepartmentKind.TOWNSHIP, name=f"{town.name}{office}")
                )
        Department.objects.bulk_create(rows)
        created = _at(self.as_of - dt.timedelta(days=2200), 10, 0)
        for d in rows:
            self.dept[(d.division.code, d.kind)] = d
            self.audit.append(
                (created, None, "department.create", d, None, {"name": d.name, "kind": d.kind}, None)
            )

    def build_staff(self) -> None:
        password = make_password(DEMO_PASSWORD)  # hashed once: every demo account shares it
        rows: list[User] = []

        def add(
            username: str,
            role: str,
            division_code: str,
            kind: str | None,
            full_name: str,
            title: str,
            organisation: str = "",
            superuser: bool = False,
            fixed_phone: str = "",
        ) -> User:
            division = self.div.get(division_code) if division_code else None
            dept = self.dept.get((division_code, kind)) if kind else None
            phone = fixed_phone or f"13{self.rng.randint(0, 9)}{self.rng.randint(10_000_000, 99_999_999)}"
            user = User(
                username=username,
                password=password,
                full_name=full_name,
                title=title,
                phone=phone,
                role=role,
                division=division,
                department=dept,
                organisation=organisation or "",
                is_superuser=superuser,
                is_staff=superuser,
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            )
            user.date_joined = _at(self.as_of - dt.timedelta(days=2100), 9, 30)
            rows.append(user)
            self.users[username] = user
            if role == Role.DEPT_OFFICER and kind:
                self.officers.setdefault((division_code, kind), []).append(user)
            if role == Role.LEADER:
                self.leader[division_code] = user
            if role == Role.FINANCE_OFFICER:
                self.finance[division_code] = user
            if role == Role.DEPT_OFFICER and kind == "drc":
                self.drc[division_code] = user
            if role == Role.TOWNSHIP_INSPECTOR:
                self.inspectors.setdefault(division_code[:9], []).append(user)
            if role in (Role.SUPERVISOR, Role.CONTRACTOR, Role.EVALUATOR):
                self.externals.setdefault(role, []).append(user)
            return user

        for a in DEMO_ACCOUNTS:
            add(
                a.username,
                a.role,
                a.division_code,
                a.department_kind,
                a.full_name,
                a.title,
                a.organisation,
                superuser=a.role == Role.SYSADMIN,
                fixed_phone=a.phone,
            )
        officer_titles = names.STAFF_TITLES["officer"]
        for kind in CITY_OFFICER_KINDS:
            add(
                f"city_{kind}",
                Role.DEPT_OFFICER,
                CITY_CODE,
                kind,
                self.person_name(),
                self.rng.choice(officer_titles),
            )
        for code, _name, key, _ll in names.COUNTIES:
            add(
                f"{key}_leader",
                Role.LEADER,
                code,
                None,
                self.person_name(),
                names.STAFF_TITLES["leader_county"],
            )
            add(f"{key}_drc", Role.DEPT_OFFICER, code, "drc", self.person_name(), "投资股股长")
            add(f"{key}_finance", Role.FINANCE_OFFICER, code, "finance", self.person_name(), "预算股科员")
            for kind in COUNTY_OFFICER_KINDS[code]:
                if (code, kind) in self.officers:
                    continue  # the demo account already covers it (housing in 青溪区 and 东岭县)
                add(
                    f"{key}_{kind}",
                    Role.DEPT_OFFICER,
                    code,
                    kind,
                    self.person_name(),
                    self.rng.choice(officer_titles),
                )
            if code != "990102":  # 青溪区's inspector is the demo account `inspector` in 城关街道
                town = self.rng.choice(self.townships[code])
                add(
                    f"{key}_inspector",
                    Role.TOWNSHIP_INSPECTOR,
                    town.code,
                    None,
                    self.person_name(),
                    names.STAFF_TITLES["inspector"],
                )
        add(
            "supervisor2",
            Role.SUPERVISOR,
            "",
            None,
            self.person_name(),
            "专业监理工程师",
            organisation=names.SUPERVISION_FIRMS[1],
        )
        add(
            "contractor2",
            Role.CONTRACTOR,
            "",
            None,
            self.person_name(),
            "项目经理",
            organisation=names.CONTRACTORS[1],
        )
        User.objects.bulk_create(rows)
        created = _at(self.as_of - dt.timedelta(days=2100), 9, 30)
        admin = self.users["admin"]
        for u in rows:
            self.audit.append(
                (
                    created,
                    admin,
                    "user.create",
                    u,
                    None,
                    {"username": u.username, "role": u.role, "full_name": u.full_name},
                    None,
                )
            )

    # -- who does what ---------------------------------------------------------------------------

    def chain(self, project: Project) -> list[str]:
        """Division codes from the city down to the project's county (the ones with staff)."""
        county = _county_of(project.division.code)
        return [CITY_CODE] + ([county] if county else [])

    def lead_for(self, division: Division, kind: str) -> Department:
        county = _county_of(division.code)
        if county and (county, kind) in self.officers:
            return self.dept[(county, kind)]
        return self.dept[(CITY_CODE, kind)]

    def approver(self, slot: str, project: Project, level: int | None) -> User:
        chain = self.chain(project)
        if slot == Slot.INVESTMENT:
            effective = min(level or DivisionLevel.COUNTY, project.division.level)
            return self.drc[CITY_CODE if effective <= DivisionLevel.CITY else chain[-1]]
        if slot == Slot.LEAD_DEPARTMENT:
            return self.officers[(project.lead_department.division.code, project.lead_department.kind)][0]
        if slot == Slot.FINANCE:
            return self.finance[chain[-1]]
        if slot == Slot.LEADER:
            return self.leader[chain[-1]]
        raise ValueError(slot)

    def level_for(self, gate: lifecycle.Gate, amount: Decimal) -> int | None:
        return lifecycle.approval_level(self.tiers, amount) if gate.tiered else None

    # -- projects --------------------------------------------------------------------------------

    def plan_projects(self, count: int) -> None:
        for case in SIX_CASES:
            self.plan_case(case)
        domains = list(names.DOMAIN_WEIGHTS)
        weights = [names.DOMAIN_WEIGHTS[d] for d in domains]
        stages = list(STAGE_WEIGHTS)
        stage_weights = [STAGE_WEIGHTS[s] for s in stages]
        # Every domain and every stage appears at least once; the rest follow the weights.
        forced = [
            (domains[i % len(domains)], stages[i % len(stages)])
            for i in range(max(len(domains), len(stages)))
        ]
        for i in range(count - len(SIX_CASES)):
            if i < len(forced):
                domain, stage = forced[i]
            else:
                domain = self.rng.choices(domains, weights)[0]
                stage = self.rng.choices(stages, stage_weights)[0]
            self.plan_random(domain, stage)

    def pick_division(self, domain: str) -> Division:
        r = self.rng.random()
        city_share = 0.25 if domain in ("transport", "digital", "health") else 0.08
        if r < city_share:
            return self.div[CITY_CODE]
        county = self.rng.choices(names.COUNTIES, weights=[1.4, 1.1, 1, 0.9, 0.9])[0][0]
        if r < city_share + 0.25:
            return self.div[county]
        town = self.rng.choice(self.townships[county])
        if r < 0.75:
            return town
        return self.rng.choice(self.villages[town.code])

    def amount_for(self, division: Division) -> Decimal:
        low, high = {
            DivisionLevel.CITY: (3e6, 4.9e8),
            DivisionLevel.COUNTY: (1e6, 3e8),
            DivisionLevel.TOWNSHIP: (4e5, 8e7),
            DivisionLevel.VILLAGE: (2e5, 1.5e7),
        }[division.level]
        return _money(math.exp(self.rng.uniform(math.log(low), math.log(high))))

    def plan_random(self, domain: str, stage: str) -> None:
        rng = self.rng
        division = self.pick_division(domain)
        kind = names.DOMAIN_LEAD[domain]
        if domain == "culture_sport" and rng.random() < 0.3:
            kind = "sport"
        lead = self.lead_for(division, kind)
        responsible = rng.choice(self.officers[(lead.division.code, lead.kind)])
        place = division.name if division.level > DivisionLevel.CITY else "青溪市"
        if division.level == DivisionLevel.VILLAGE:
            place = f"{division.parent.name}{division.name}"
        name = rng.choice(names.NAME_TEMPLATES[domain]).format(place=place)
        base, phase = name, 1
        while name in self.used_names:
            phase += 1  # a second project of the same kind in the same place is its next phase
            name = f"{base}（{'一二三四五六七八九'[phase - 1] if phase <= 9 else phase}期）"
        self.used_names.add(name)
        estimate = self.amount_for(division)
        emergency = domain in ("water", "housing", "transport", "health") and rng.random() < 0.03
        high_impact = rng.random() < 0.08
        design = _money(float(estimate) * rng.uniform(0.93, 1.16))
        lat0, lng0 = self._centre(division)
        project = Project(
            name=name,
            domain=domain,
            summary=names.SUMMARY_TEMPLATES[domain].format(place=place),
            division=division,
            division_path=division.path,
            lead_department=lead,
            responsible_person=responsible,
            owner_unit=lead.name,
            address=f"{self._full_place(division)}",
            latitude=Decimal(str(round(lat0 + rng.uniform(-0.03, 0.03), 6))),
            longitude=Decimal(str(round(lng0 + rng.uniform(-0.03, 0.03), 6))),
            is_high_impact=high_impact,
            is_emergency=emergency,
            estimate_amount=estimate,
        )
        self._beneficiaries(project, domain, estimate)
        base = stage
        if stage in (Stage.SUSPENDED, Stage.CANCELLED):
            base = rng.choice(
                [Stage.PROPOSAL, Stage.FEASIBILITY, Stage.DESIGN, Stage.PROCUREMENT, Stage.CONSTRUCTION]
            )
        path = self._path_for(estimate, emergency)
        walk = self._walk(path, base)
        if walk is None:
            walk = self._walk(PathKind.FULL, base)
        steps = list(walk)
        if stage == Stage.SUSPENDED:
            steps.append((base, Stage.SUSPENDED, PathKind.SUSPEND))
        elif stage == Stage.CANCELLED:
            steps.append((base, Stage.CANCELLED, PathKind.CANCEL))
        if ORDER.index(base) >= ORDER.index(Stage.DESIGN) and (base != Stage.DESIGN or rng.random() < 0.6):
            project.design_estimate_amount = design
        durations = [rng.randint(*self._days(s, estimate)) for s, _t, _p in steps]
        lo, hi = self._days(stage, estimate)
        elapsed = rng.randint(max(5, lo // 5), max(10, int(hi * 0.9)))
        start = self.as_of - dt.timedelta(days=elapsed + sum(durations))
        entered = [start]
        for d in durations:
            entered.append(entered[-1] + dt.timedelta(days=d))
        major = high_impact or estimate >= self.major_from or design >= self.major_from
        self.plans.append(_Plan(project, _county_of(division.code), steps, entered, major))

    def plan_case(self, case: Case) -> None:
        division = self.div[case.division_code]
        lead = self.dept[case.lead]
        project = Project(
            name=case.name,
            domain=case.domain,
            summary=case.summary,
            division=division,
            division_path=division.path,
            lead_department=lead,
            responsible_person=self.users[case.responsible],
            owner_unit=case.owner_unit,
            address=case.address,
            latitude=Decimal(str(case.lat)),
            longitude=Decimal(str(case.lng)),
            is_high_impact=case.high_impact,
            estimate_amount=Decimal(case.estimate).quantize(Decimal("0.01")),
            design_estimate_amount=Decimal(case.design_estimate).quantize(Decimal("0.01")),
            beneficiaries_total=case.beneficiaries[0],
            beneficiaries_elderly=case.beneficiaries[1],
            beneficiaries_disabled=case.beneficiaries[2],
            beneficiaries_low_income=case.beneficiaries[3],
            beneficiaries_children=case.beneficiaries[4],
        )
        self.used_names.add(case.name)
        steps = self._walk(case.path, case.stage)
        assert steps is not None, case.key
        stage_entered = self.as_of - dt.timedelta(days=case.stage_entered)
        created = min(case.created, stage_entered - dt.timedelta(days=30 * len(steps)))
        # Anchor construction on the planned start and acceptance after the last sub-item was due;
        # spread the other gates evenly between the anchors.
        anchors = {0: created, len(steps): stage_entered}
        targets = [to for _f, to, _p in steps]
        if Stage.CONSTRUCTION in targets[:-1]:
            anchors[targets.index(Stage.CONSTRUCTION) + 1] = self.as_of + dt.timedelta(
                days=case.planned_start + 5
            )
        if Stage.ACCEPTANCE in targets[:-1]:
            last_due = max(w.due for w in case.wbs)
            anchors[targets.index(Stage.ACCEPTANCE) + 1] = self.as_of + dt.timedelta(days=last_due + 25)
        marks = sorted(anchors)
        entered: list[dt.date] = []
        for i in range(len(steps) + 1):
            lo = max(m for m in marks if m <= i)
            hi = min(m for m in marks if m >= i)
            span = (anchors[hi] - anchors[lo]).days
            entered.append(anchors[lo] + dt.timedelta(days=span * (i - lo) // max(1, hi - lo)))
        major = case.high_impact or Decimal(case.design_estimate) >= self.major_from
        self.plans.append(_Plan(project, _county_of(division.code), steps, entered, major, case=case))

    def _centre(self, division: Division) -> tuple[float, float]:
        county = _county_of(division.code)
        if county is None:
            return names.CITY_CENTRE
        lat, lng = next(ll for c, _n, _k, ll in names.COUNTIES if c == county)
        # Townships and villages scatter around their county seat, stably by code.
        h = int(hashlib.sha256(division.code.encode()).hexdigest()[:8], 16)
        return lat + ((h % 2000) / 1000 - 1) * 0.12, lng + (((h // 2000) % 2000) / 1000 - 1) * 0.12

    def _full_place(self, division: Division) -> str:
        parts = []
        d: Division | None = division
        while d is not None and d.level >= DivisionLevel.CITY:
            parts.append(d.name)
            d = d.parent
        return "".join(reversed(parts))

    def _beneficiaries(self, project: Project, domain: str, amount: Decimal) -> None:
        rng = self.rng
        per_head = (
            rng.uniform(150, 2500)
            if domain not in ("elderly", "childcare", "health")
            else rng.uniform(800, 9000)
        )
        total = max(30, int(float(amount) / per_head))
        elderly = {"elderly": rng.uniform(0.7, 0.95), "housing": rng.uniform(0.25, 0.45)}.get(
            domain, rng.uniform(0.1, 0.25)
        )
        children = {"education": rng.uniform(0.6, 0.9), "childcare": rng.uniform(0.8, 0.95)}.get(
            domain, rng.uniform(0.08, 0.2) if domain != "elderly" else 0
        )
        project.beneficiaries_total = total
        project.beneficiaries_elderly = int(total * elderly)
        project.beneficiaries_children = int(total * children * (1 - elderly))
        project.beneficiaries_disabled = int(total * rng.uniform(0.01, 0.06))
        project.beneficiaries_low_income = int(total * rng.uniform(0.03, 0.15))

    def _path_for(self, estimate: Decimal, emergency: bool) -> str:
        if emergency:
            return PathKind.EMERGENCY
        if estimate < self.fsr_from and self.rng.random() < 0.6:
            return PathKind.DESIGN_ONLY
        if estimate < self.all_documents_from and self.rng.random() < 0.5:
            return PathKind.FSR_REPLACES_PROPOSAL
        return PathKind.FULL

    @staticmethod
    def _walk(path: str, target: str) -> list[tuple[str, str, str]] | None:
        """The gates passed from reserve to `target` along `path`; None when the path skips target."""
        if target == Stage.RESERVE:
            return []
        first = {
            PathKind.FULL: Stage.PROPOSAL,
            PathKind.FSR_REPLACES_PROPOSAL: Stage.FEASIBILITY,
            PathKind.DESIGN_ONLY: Stage.DESIGN,
            PathKind.EMERGENCY: Stage.DESIGN,
        }[path]
        if ORDER.index(target) < ORDER.index(first):
            return None
        steps = [(Stage.RESERVE, first, path)]
        for i in range(ORDER.index(first), ORDER.index(target)):
            steps.append((ORDER[i], ORDER[i + 1], PathKind.FULL))
        return steps

    def _days(self, stage: str, amount: Decimal) -> tuple[int, int]:
        if stage == Stage.CONSTRUCTION:
            size = math.log10(max(float(amount), 2e5) / 2e5)  # 0 … 3.4
            return int(90 + 50 * size), int(160 + 140 * size)
        return STAGE_DAYS[stage]

    # -- rows per plan ---------------------------------------------------------------------------

    def write_projects(self) -> None:
        self.plans.sort(key=lambda p: (p.entered[0], p.project.name))
        serials: dict[tuple[int, str], int] = {}
        for plan in self.plans:
            if plan.case is not None:
                key = (plan.case.code_year, plan.project.division.region_code)
                serials[key] = max(serials.get(key, 0), 1)
        for plan in self.plans:
            p = plan.project
            if plan.case is not None:
                p.code = CASES[plan.case.key]
            else:
                key = (plan.entered[0].year, p.division.region_code)
                serials[key] = serials.get(key, 0) + 1
                p.code = project_code.build(
                    year=key[0], region=key[1], department_kind=p.lead_department.kind, serial=serials[key]
                ).value
            self._schedule(plan)
        Project.objects.bulk_create([p.project for p in self.plans], batch_size=500)
        CodeSequence.objects.bulk_create(
            [CodeSequence(year=y, region=r, last=n) for (y, r), n in sorted(serials.items())]
        )

    def _schedule(self, plan: _Plan) -> None:
        """Registration, gates, dates and everything the gates required, for one project."""
        rng = self.rng
        p = plan.project
        created = plan.entered[0]
        p.created_at = _at(created, 9 + rng.randint(0, 7), rng.randint(0, 59))
        self.audit.append(
            (
                p.created_at,
                p.responsible_person,
                "project.create",
                p,
                None,
                {
                    "name": p.name,
                    "domain": p.domain,
                    "estimate_amount": str(p.estimate_amount),
                    "division": p.division.code,
                },
                p,
            )
        )
        self._targets(plan)
        prev_entered = created
        for i, (frm, to, path) in enumerate(plan.steps):
            day = plan.entered[i + 1]
            self._gate(plan, frm, to, path, prev_entered, day, i)
            prev_entered = day
        # Where the project is now.
        final = plan.steps[-1][1] if plan.steps else Stage.RESERVE
        p.stage = final
        p.previous_stage = plan.steps[-1][0] if final == Stage.SUSPENDED else ""
        p.stage_changed_at = _at(plan.entered[-1], 16, 30) if plan.steps else p.created_at
        p.version = 1 + len(plan.steps)
        self._dates(plan)
        if (
            p.stage
            in (
                Stage.RESERVE,
                Stage.PROPOSAL,
                Stage.FEASIBILITY,
                Stage.DESIGN,
                Stage.PROCUREMENT,
                Stage.ACCEPTANCE,
                Stage.FINAL_ACCOUNTS,
                Stage.OPERATION,
            )
            and plan.case is None
            and rng.random() < 0.12
        ):
            self._pending(plan)

    def _gate(
        self, plan: _Plan, frm: str, to: str, path: str, stage_start: dt.date, day: dt.date, index: int
    ) -> None:
        rng = self.rng
        p = plan.project
        previous = plan.steps[index - 1][0] if frm == Stage.SUSPENDED else None
        gate = lifecycle.find_gate(frm, to, path, previous)
        assert gate is not None, (frm, to, path)
        amount = self._amount_at(p, frm)
        room = max(2, (day - stage_start).days)
        request_day = day - dt.timedelta(days=rng.randint(1, max(1, min(20, room // 2))))
        for kind in self._evidence(gate, plan, amount) + EXTRA_DOCS.get(frm, []):
            up = stage_start + dt.timedelta(days=rng.randint(0, max(0, (request_day - stage_start).days - 1)))
            self._document(plan, kind, frm, p.responsible_person, _at(up, 9, rng.randint(0, 59)))
        requester = p.responsible_person
        reason = ""
        if gate.path in (PathKind.SUSPEND, PathKind.CANCEL):
            requester = self.leader[self.chain(p)[-1]]
            reason = rng.choice(SUSPEND_REASONS if gate.path == PathKind.SUSPEND else CANCEL_REASONS)
        level = self.level_for(gate, amount)
        requested_at = _at(request_day, 10, rng.randint(0, 59))
        # Now and then an earlier request was sent back before the one that passed.
        if gate.slots and rng.random() < 0.07 and (request_day - stage_start).days > 6:
            early = _at(
                request_day - dt.timedelta(days=rng.randint(3, (request_day - stage_start).days - 2)), 10, 5
            )
            rejected = GateRequest(
                project=p,
                from_stage=frm,
                to_stage=to,
                path=gate.path,
                reason=reason,
                status=GateStatus.REJECTED,
                required_slots=list(gate.slots),
                required_level=level,
                requested_by=requester,
                requested_at=early,
                decided_at=early + dt.timedelta(hours=26),
            )
            self.requests.append(rejected)
            approver = self.approver(gate.slots[0], p, level)
            refusal = GateApproval(
                request=rejected,
                slot=gate.slots[0],
                approver=approver,
                approve=False,
                comment=rng.choice(REJECT_COMMENTS),
                at=early + dt.timedelta(hours=26),
            )
            self.approvals.append(refusal)
            self.audit.append(
                (early, requester, "gate.request", rejected, None, {"to_stage": to, "path": gate.path}, p)
            )
            self.audit.append(
                (refusal.at, approver, "gate.reject", refusal, None, {"comment": refusal.comment}, p)
            )
        decided_at = _at(day, 16, 30)
        request = GateRequest(
            project=p,
            from_stage=frm,
            to_stage=to,
            path=gate.path,
            reason=reason,
            status=GateStatus.APPROVED,
            required_slots=list(gate.slots),
            required_level=level,
            requested_by=requester,
            requested_at=requested_at,
            decided_at=decided_at,
        )
        self.requests.append(request)
        self.audit.append(
            (requested_at, requester, "gate.request", request, None, {"to_stage": to, "path": gate.path}, p)
        )
        actor = requester
        for j, slot in enumerate(gate.slots):
            approver = self.approver(slot, p, level)
            at = decided_at if j == len(gate.slots) - 1 else requested_at + (decided_at - requested_at) / 2
            approval = GateApproval(
                request=request,
                slot=slot,
                approver=approver,
                approve=True,
                comment="同意。" if rng.random() < 0.7 else "材料齐全，同意进入下一阶段。",
                at=at,
            )
            self.approvals.append(approval)
            self.audit.append((at, approver, "gate.approve", approval, None, {"slot": slot}, p))
            actor = approver
        self.transitions.append(
            StageTransition(
                project=p,
                from_stage=frm,
                to_stage=to,
                path=gate.path,
                request=request,
                actor=actor,
                at=decided_at,
            )
        )
        self.audit.append(
            (decided_at, actor, "project.transition", p, {"stage": frm}, {"stage": to, "path": gate.path}, p)
        )
        if Slot.INVESTMENT in gate.slots:
            reply = {
                Stage.FEASIBILITY: "项目建议书",
                Stage.DESIGN: "可行性研究报告",
                Stage.PROCUREMENT: "初步设计及概算",
            }.get(to, "项目")
            approver = self.approver(Slot.INVESTMENT, p, level)
            self._document(
                plan,
                DocumentKind.APPROVAL,
                to,
                approver,
                decided_at + dt.timedelta(hours=1),
                title=f"关于{p.name}{reply}的批复",
            )

    def _amount_at(self, p: Project, frm: str) -> Decimal:
        """Total investment as known when leaving `frm`: the 概算 once the design stage has produced it."""
        known = frm in ORDER and ORDER.index(frm) >= ORDER.index(Stage.DESIGN)
        if frm == Stage.SUSPENDED:
            known = True
        return (
            p.design_estimate_amount if known and p.design_estimate_amount else p.estimate_amount
        ) or Decimal(0)

    def _evidence(self, gate: lifecycle.Gate, plan: _Plan, amount: Decimal) -> list[str]:
        p = plan.project
        needed = list(gate.documents)
        if plan.major or p.is_high_impact or amount >= self.major_from:
            needed += list(gate.major_documents)
        if (
            gate.check_estimate_excess
            and p.estimate_amount
            and p.design_estimate_amount
            and p.design_estimate_amount > p.estimate_amount * (1 + self.excess_ratio)
        ):
            needed.append(DocumentKind.ESTIMATE_EXCESS)
        if gate.path == PathKind.EMERGENCY:
            needed = [DocumentKind.EMERGENCY_BASIS, *needed]
        return needed

    def _document(
        self, plan: _Plan, kind: str, stage: str, by: User, at: dt.datetime, title: str = ""
    ) -> None:
        p = plan.project
        label = DocumentKind(kind).label
        title = title or f"{p.name}{label}"
        seq = len(self.docs) + 1
        content = one_page(
            [
                "Minsheng demo document (fictional data, not a government record)",
                f"Project code: {project_code.parse(p.code).display}",
                f"Document kind: {kind}",
                f"Stage: {stage}",
                f"Dated: {at.astimezone(SHANGHAI):%Y-%m-%d}",
                f"Demo seed {self.seed}, document {seq}",
            ]
        )
        sha = hashlib.sha256(content).hexdigest()
        doc = Document(
            project=p,
            kind=kind,
            title=title[:128],
            original_name=f"{kind}-{seq}.pdf",
            content_type="application/pdf",
            size=len(content),
            sha256=sha,
            stage=stage,
            uploaded_by=by,
            uploaded_at=at,
        )
        name = document_path(doc, doc.original_name)
        if self.store_files and not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(content))
        doc.file.name = name
        self.docs.append(doc)
        self.audit.append(
            (at, by, "document.upload", doc, None, {"kind": kind, "title": doc.title, "sha256": sha}, p)
        )

    def _pending(self, plan: _Plan) -> None:
        """A request waiting for approval now: its evidence is in place, no slot filled yet."""
        p = plan.project
        options = [g for g in lifecycle.gates_from(p.stage) if g.path == PathKind.FULL and g.slots]
        if not options:
            return
        gate = options[0]
        if gate.fields and "design_estimate_amount" in gate.fields and p.design_estimate_amount is None:
            return
        stage_start = plan.entered[-1]
        request_day = self.as_of - dt.timedelta(days=self.rng.randint(1, 12))
        if request_day <= stage_start:
            return
        amount = self._amount_at(p, p.stage)
        for kind in self._evidence(gate, plan, amount):
            up = stage_start + dt.timedelta(
                days=self.rng.randint(0, max(0, (request_day - stage_start).days - 1))
            )
            self._document(plan, kind, p.stage, p.responsible_person, _at(up, 9, 15))
        at = _at(request_day, 10, 20)
        request = GateRequest(
            project=p,
            from_stage=p.stage,
            to_stage=gate.to_stage,
            path=gate.path,
            status=GateStatus.PENDING,
            required_slots=list(gate.slots),
            required_level=self.level_for(gate, amount),
            requested_by=p.responsible_person,
            requested_at=at,
        )
        self.requests.append(request)
        self.audit.append(
            (
                at,
                p.responsible_person,
                "gate.request",
                request,
                None,
                {"to_stage": gate.to_stage, "path": gate.path},
                p,
            )
        )

    def _targets(self, plan: _Plan) -> None:
        p = plan.project
        rng = self.rng
        at = p.created_at + dt.timedelta(hours=1)
        done = plan.steps and plan.steps[-1][1] in (Stage.OPERATION, Stage.POST_EVALUATION)
        if plan.case is not None:
            specs = [
                (
                    t.dimension,
                    t.indicator,
                    t.unit,
                    t.comparator,
                    Decimal(str(t.target)),
                    Decimal(str(t.actual)) if t.actual is not None else None,
                )
                for t in plan.case.targets
            ]
        else:
            templates = names.TARGET_TEMPLATES[p.domain]
            chosen = rng.sample(templates, k=rng.randint(min(2, len(templates)), len(templates)))
            specs = []
            for dim, indicator, unit, cmp, low, high in [*chosen, names.SATISFACTION_TARGET]:
                value = rng.uniform(low, high)
                target = Decimal(str(round(value, 1) if unit == "%" else round(value)))
                actual = None
                if done:
                    factor = rng.uniform(0.92, 1.08) if cmp != "=" else 1
                    actual = Decimal(
                        str(round(min(value * factor, 100) if unit == "%" else value * factor, 1))
                    )
                specs.append((dim, indicator, unit, cmp, target, actual))
        for dim, indicator, unit, cmp, target, actual in specs:
            row = PerformanceTarget(
                project=p,
                dimension=dim,
                indicator=indicator,
                unit=unit,
                comparator=cmp,
                target_value=target.quantize(Decimal("0.01")),
                actual_value=actual.quantize(Decimal("0.01")) if actual is not None else None,
            )
            self.targets.append(row)
            self.audit.append(
                (
                    at,
                    p.responsible_person,
                    "target.add",
                    row,
                    None,
                    {"indicator": indicator, "target_value": str(row.target_value)},
                    p,
                )
            )

    def _dates(self, plan: _Plan) -> None:
        """Planned and actual construction dates, members and the responsibility checklist."""
        rng = self.rng
        p = plan.project
        entered = {to: plan.entered[i + 1] for i, (_f, to, _p) in enumerate(plan.steps)}
        base = p.previous_stage or (
            plan.steps[-1][0] if p.stage == Stage.CANCELLED and plan.steps else p.stage
        )
        reached = ORDER.index(base) if base in ORDER else 0
        amount = p.total_investment or Decimal(0)
        lo, hi = self._days(Stage.CONSTRUCTION, amount)
        if plan.case is not None:
            p.planned_start = self.as_of + dt.timedelta(days=plan.case.planned_start)
            p.planned_end = self.as_of + dt.timedelta(days=plan.case.planned_end)
        elif Stage.CONSTRUCTION in entered:
            p.planned_start = entered[Stage.CONSTRUCTION] - dt.timedelta(days=rng.randint(0, 45))
            slip = rng.random() < 0.2
            length = rng.randint(lo, hi)
            p.planned_end = p.planned_start + dt.timedelta(days=int(length * (0.6 if slip else 1.15)))
        else:
            p.planned_start = self.as_of + dt.timedelta(days=rng.randint(30, 300))
            p.planned_end = p.planned_start + dt.timedelta(days=rng.randint(lo, hi))
        if Stage.CONSTRUCTION in entered:
            p.actual_start = entered[Stage.CONSTRUCTION]
        if Stage.ACCEPTANCE in entered:
            p.actual_end = entered[Stage.ACCEPTANCE]
        # Supervisors and contractors arrive with the contract; evaluators at acceptance.
        if reached >= ORDER.index(Stage.CONSTRUCTION) or plan.case is not None:
            since = p.actual_start or plan.entered[-1]
            roles: list[tuple[User, str]] = []
            if plan.case is not None:
                roles = [(self.users[u], r) for u, r in plan.case.members]
            else:
                roles.append(
                    (
                        self.users["supervisor"] if rng.random() < 0.3 else self.users["supervisor2"],
                        MemberRole.SUPERVISOR,
                    )
                )
                roles.append(
                    (
                        self.users["contractor"] if rng.random() < 0.25 else self.users["contractor2"],
                        MemberRole.CONTRACTOR,
                    )
                )
                if reached >= ORDER.index(Stage.ACCEPTANCE) and rng.random() < 0.6:
                    roles.append((self.users["evaluator"], MemberRole.EVALUATOR))
            self.roles_of[id(p)] = roles
            for user, role in roles:
                m = ProjectMember(project=p, user=user, role=role, since=since)
                self.members.append(m)
                self.audit.append(
                    (
                        _at(since, 11, 0),
                        p.responsible_person,
                        "member.add",
                        m,
                        None,
                        {"user": user.username, "role": role},
                        p,
                    )
                )
        if plan.case is not None:
            self._case_extras(plan)
            self._case_wbs(plan)
        else:
            self._random_partners(plan)
            self._random_wbs(plan, reached)

    def _case_extras(self, plan: _Plan) -> None:
        for key in plan.case.partners:
            self.partners.append((plan.project, self.dept[key]))

    def _random_partners(self, plan: _Plan) -> None:
        p = plan.project
        pool = [
            d
            for (code, _k), d in self.dept.items()
            if code in self.chain(p) and d.pk != p.lead_department.pk and d.kind != DepartmentKind.TOWNSHIP
        ]
        for d in self.rng.sample(pool, k=self.rng.choice((0, 1, 1, 2, 2, 3))):
            self.partners.append((p, d))

    def _wbs_people(self, p: Project) -> list[User]:
        people = list(self.officers[(p.lead_department.division.code, p.lead_department.kind)])
        if p.division.level >= DivisionLevel.TOWNSHIP:
            people += self.inspectors.get(p.division.code[:9], [])
        people += [u for u, role in self.roles_of.get(id(p), []) if role == MemberRole.CONTRACTOR]
        return people

    def _random_wbs(self, plan: _Plan, reached: int) -> None:
        rng = self.rng
        p = plan.project
        template = names.WBS_TEMPLATES[p.domain]
        k = rng.randint(*self.wbs_range)
        chosen = sorted(rng.sample(range(len(template)), k=min(k, len(template))))
        labels = [template[i] for i in chosen]
        while len(labels) < k:
            labels.append(f"{template[len(labels) % len(template)]}（二标段）")
        people = self._wbs_people(p)
        start = p.actual_start or p.planned_start
        end = p.planned_end
        span = max(30, (end - start).days)
        finished = reached >= ORDER.index(Stage.ACCEPTANCE)
        building = reached == ORDER.index(Stage.CONSTRUCTION)
        halted = p.stage in (Stage.SUSPENDED, Stage.CANCELLED)
        today = p.stage_changed_at.astimezone(SHANGHAI).date() if halted else self.as_of
        nodes = []
        for i, label in enumerate(labels):
            due = start + dt.timedelta(days=span * (i + 1) // len(labels) + rng.randint(-10, 10))
            if finished:
                # Done before the completion gate was requested (at most 20 days before acceptance).
                due = min(due, (p.actual_end or due) - dt.timedelta(days=21))
                progress = Decimal(100)
            elif building:
                begin = start + dt.timedelta(days=span * i // len(labels))
                if due < today:
                    progress = Decimal(100) if rng.random() < 0.8 else Decimal(rng.randint(30, 90))
                else:
                    share = (today - begin).days / max(1, (due - begin).days)
                    progress = Decimal(max(0, min(95, int(share * 100 * rng.uniform(0.7, 1.1)))))
            else:
                progress = Decimal(0)
            self._wbs_row(
                p,
                f"{i + 1:02d}",
                label,
                rng.choice(people),
                due,
                Decimal(rng.choice((1, 1, 2, 2, 3, 5))),
                progress,
                None,
                today,
            )
            nodes.append(wbs.Node(i, None, self.wbs_items[-1].weight, progress))
        p.progress, _ = wbs.rollup(nodes)

    def _case_wbs(self, plan: _Plan) -> None:
        p = plan.project
        by_code: dict[str, WbsItem] = {}
        nodes = []
        for i, w in enumerate(plan.case.wbs):
            parent = by_code.get(w.parent) if w.parent else None
            item = self._wbs_row(
                p,
                w.code,
                w.name,
                self.users[w.responsible],
                self.as_of + dt.timedelta(days=w.due),
                Decimal(str(w.weight)),
                Decimal(str(w.progress)),
                parent,
                self.as_of,
            )
            by_code[w.code] = item
            nodes.append(
                wbs.Node(i, list(by_code).index(w.parent) if w.parent else None, item.weight, item.progress)
            )
        total, per = wbs.rollup(nodes)
        for i, item in enumerate(by_code.values()):
            if any(n.parent_id == i for n in nodes):
                item.progress = per[i]  # a parent shows its children's roll-up
        p.progress = total

    def _wbs_row(
        self,
        p: Project,
        code: str,
        name: str,
        person: User,
        due: dt.date,
        weight: Decimal,
        progress: Decimal,
        parent: WbsItem | None,
        today: dt.date,
    ) -> WbsItem:
        rng = self.rng
        completed = None
        last_day = today - dt.timedelta(days=1)  # nothing is stamped later than the day before as_of
        if progress >= 100:
            done_day = min(due - dt.timedelta(days=rng.randint(0, 15)), last_day)
            completed = _at(done_day, 15, rng.randint(0, 59))
        item = WbsItem(
            project=p,
            parent=parent,
            code=code,
            name=name[:128],
            responsible=person,
            department=person.department or p.lead_department,
            due_date=due,
            weight=weight,
            progress=progress.quantize(Decimal("0.1")),
            completed_at=completed,
        )
        self.wbs_items.append(item)
        created = p.actual_start or p.created_at.astimezone(SHANGHAI).date()
        created_at = max(_at(min(created, last_day), 11, 30), p.created_at)
        self.audit.append(
            (
                created_at,
                p.responsible_person,
                "wbs.create",
                item,
                None,
                {
                    "code": code,
                    "name": item.name,
                    "responsible": person.username,
                    "due_date": due.isoformat(),
                },
                p,
            )
        )
        if item.progress > 0:
            reported = completed or _at(
                min(last_day, max(due, created) - dt.timedelta(days=rng.randint(0, 20))), 17, 10
            )
            self.audit.append(
                (
                    max(reported, created_at),
                    person,
                    "wbs.progress",
                    item,
                    {"progress": "0.0"},
                    {"progress": str(item.progress)},
                    p,
                )
            )
        return item

    # -- write everything -------------------------------------------------------------------------

    def write_rest(self) -> None:
        GateRequest.objects.bulk_create(self.requests, batch_size=1000)
        GateApproval.objects.bulk_create(self.approvals, batch_size=1000)
        StageTransition.objects.bulk_create(self.transitions, batch_size=1000)
        Document.objects.bulk_create(self.docs, batch_size=1000)
        PerformanceTarget.objects.bulk_create(self.targets, batch_size=1000)
        ProjectMember.objects.bulk_create(self.members, batch_size=1000)
        through = Project.partner_departments.through
        through.objects.bulk_create(
            [through(project_id=p.pk, department_id=d.pk) for p, d in self.partners], batch_size=2000
        )
        top = [w for w in self.wbs_items if w.parent is None]
        WbsItem.objects.bulk_create(top, batch_size=2000)
        WbsItem.objects.bulk_create([w for w in self.wbs_items if w.parent is not None], batch_size=2000)
        self.write_audit()
        # `auto_now` stamped the insert time; put back the dates the history says, in two UPDATEs
        # (bulk_update's CASE per row is quadratic in the batch size).
        latest = AuditEvent.objects.filter(project_code=OuterRef("code")).order_by("-at").values("at")[:1]
        Project.objects.update(updated_at=Coalesce(Subquery(latest), F("created_at")))
        project_time = Project.objects.filter(pk=OuterRef("project_id")).values("updated_at")[:1]
        WbsItem.objects.update(updated_at=Coalesce(F("completed_at"), Subquery(project_time)))

    def write_audit(self) -> None:
        rows = []
        self.audit.sort(key=lambda e: e[0])
        for at, actor, action, obj, before, after, project in self.audit:
            rows.append(
                AuditEvent(
                    at=at,
                    actor=actor,
                    actor_label=(actor.display_name if actor else "system")[:128],
                    actor_role=actor.role if actor else "",
                    action=action,
                    object_type=obj._meta.label_lower,
                    object_id=str(obj.pk),
                    object_repr=str(obj)[:255],
                    project_code=project.code if project else "",
                    division_path=project.division_path if project else getattr(obj, "path", "") or "",
                    before=before,
                    after=after,
                )
            )
        AuditEvent.objects.bulk_create(rows, batch_size=2000)


def _town_base(name: str) -> int:
    return 1 if name.endswith("街道") else 100 if name.endswith("镇") else 200


DEMO_EMAIL_DOMAIN = "demo.minsheng.invalid"


def has_demo_city() -> bool:
    """The demo's own accounts mark a database the generator wrote (a real 990000 division does not)."""
    return User.objects.filter(username="leader", email=f"leader@{DEMO_EMAIL_DOMAIN}").exists()


def generate(
    *,
    seed: int = DEFAULT_SEED,
    projects: int = DEFAULT_PROJECTS,
    as_of: dt.date | None = None,
    store_files: bool = True,
    wbs_per_project: tuple[int, int] = (3, 12),
) -> Generated:
    """Write the demo city into an empty database. Same seed and `as_of` → identical data."""
    if projects < len(SIX_CASES):
        raise ValueError(f"at least {len(SIX_CASES)} projects (the essay cases)")
    if Division.objects.exists() or Project.objects.exists():
        raise RuntimeError(
            "The database already holds divisions or projects; the demo city needs an empty one."
        )
    started = time.perf_counter()
    builder = _Builder(
        seed=seed, as_of=as_of or timezone.localdate(), store_files=store_files, wbs_range=wbs_per_project
    )
    with transaction.atomic():
        builder.build_divisions()
        builder.build_departments()
        builder.build_staff()
        builder.plan_projects(projects)
        builder.write_projects()
        builder.write_rest()
    counts = {
        "divisions": len(builder.div),
        "departments": len(builder.dept),
        "staff": len(builder.users),
        "projects": len(builder.plans),
        "wbs_items": len(builder.wbs_items),
        "documents": len(builder.docs),
        "gate_requests": len(builder.requests),
        "transitions": len(builder.transitions),
        "audit_events": len(builder.audit),
    }
    return Generated(seed=seed, as_of=builder.as_of, seconds=time.perf_counter() - started, counts=counts)
