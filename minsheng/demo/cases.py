"""The six cases of the requirement essay (reference/seed-essay.md), as named demo projects.

Each case is data: where it is, who leads it, its size, stage, responsibility checklist and
performance targets. Dates are offsets in days from the generation date (`as_of`) so the demo
always looks current; the code year and registration date are fixed so the project code is
stable (see `minsheng.demo.city.CASES`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CaseWbs:
    code: str
    name: str
    responsible: str  # username
    due: int  # days from as_of (negative: in the past)
    progress: float
    weight: float = 1
    parent: str | None = None


@dataclass(frozen=True)
class CaseTarget:
    dimension: str
    indicator: str
    unit: str
    comparator: str
    target: float
    actual: float | None = None


@dataclass(frozen=True)
class Case:
    key: str
    essay_section: str
    name: str
    domain: str
    division_code: str  # where the project is located
    lead: tuple[str, str]  # (division code, department kind) of the lead department
    responsible: str  # username of the 项目责任人
    code_year: int
    created: dt.date
    path: str  # lifecycle path taken out of reserve: full / fsr_replaces_proposal / design_only
    stage: str
    stage_entered: int  # days before as_of the current stage was entered
    estimate: int  # yuan
    design_estimate: int
    summary: str
    address: str
    lat: float
    lng: float
    beneficiaries: tuple[int, int, int, int, int]  # total, elderly, disabled, low income, children
    planned_start: int  # days from as_of
    planned_end: int
    wbs: tuple[CaseWbs, ...]
    targets: tuple[CaseTarget, ...]
    partners: tuple[tuple[str, str], ...] = ()  # (division code, department kind)
    members: tuple[tuple[str, str], ...] = ()  # (username, member role)
    high_impact: bool = False
    owner_unit: str = ""
    notes: str = field(default="")


W, T = CaseWbs, CaseTarget

SIX_CASES: tuple[Case, ...] = (
    Case(
        key="bikes",
        essay_section="一",
        name="青溪市公共自行车系统优化（站点布局调整与第三方运维）",
        domain="transport",
        division_code="990100",
        lead=("990100", "transport"),
        responsible="city_transport",
        code_year=2023,
        created=dt.date(2023, 3, 15),
        path="fsr_replaces_proposal",
        stage="operation",
        stage_entered=420,
        estimate=28_600_000,
        design_estimate=29_500_000,
        summary=(
            "针对公共自行车初期站点布局不合理、运维资金不足、使用率低且损坏严重的问题，依据骑行数据调整站点布局，"
            "引入第三方运营机制，设置用户反馈通道，建立定期巡检维修制度。"
        ),
        address="青溪市中心城区及青溪区、临江区",
        lat=30.061,
        lng=119.640,
        beneficiaries=(420_000, 61_000, 3_200, 18_000, 52_000),
        planned_start=-900,
        planned_end=-480,
        wbs=(
            W("01", "骑行OD数据分析及站点布局评估", "city_transport", -880, 100, 1),
            W("02", "低效站点撤并及新增站点（调整120处）", "city_transport", -700, 100, 3),
            W("03", "车辆更新（投放3000辆）", "contractor", -640, 100, 3),
            W("04", "第三方运维单位公开招标", "city_transport", -760, 100, 1),
            W("05", "用户反馈通道（12345热线+小程序）", "city_data", -600, 100, 1),
            W("06", "定期巡检维修制度及考核办法", "city_transport", -560, 100, 1),
            W("07", "运维资金保障及绩效付费机制", "finance", -520, 100, 1),
            W("08", "日均骑行量监测及季度通报", "city_transport", -480, 100, 1),
        ),
        targets=(
            T("benefit_social", "日均骑行量", "人次", ">=", 16_000, 17_240),
            T("output_quantity", "调整后站点数", "个", ">=", 480, 486),
            T("output_quality", "车辆完好率", "%", ">=", 95, 96.8),
            T("output_timeliness", "故障车辆24小时内修复率", "%", ">=", 90, 93.5),
            T("benefit_sustainable", "第三方运维合同履约考核得分", "分", ">=", 85, 91),
            T("satisfaction", "服务对象满意度", "%", ">=", 90, 93.2),
        ),
        partners=(("990100", "data"), ("990100", "natres"), ("990100", "finance")),
        members=(("evaluator", "evaluator"), ("contractor", "contractor")),
        owner_unit="青溪市交通运输局",
        notes="essay §一: 站点布局不合理、运维资金不足 → 第三方运营、反馈通道、定期巡检 → 日均骑行量翻倍",
    ),
    Case(
        key="water",
        essay_section="二",
        name="东岭县农村饮水安全巩固提升工程（智能水表远程监测）",
        domain="water",
        division_code="990121",
        lead=("990121", "water"),
        responsible="dl_water",
        code_year=2025,
        created=dt.date(2025, 3, 12),
        path="fsr_replaces_proposal",
        stage="construction",
        stage_entered=160,
        estimate=46_800_000,
        design_estimate=48_900_000,
        summary=(
            "新建及改造农村供水管网，为12,000户安装智能水表并接入远程监测平台，采用“村民代表参与监督+智能水表远程"
            "监测”模式，降低人为干预风险，提高用水效率。"
        ),
        address="东岭县各乡镇",
        lat=29.874,
        lng=119.958,
        beneficiaries=(38_500, 9_800, 760, 3_100, 6_200),
        planned_start=-170,
        planned_end=200,
        wbs=(
            W("1", "水源工程", "dl_water", 40, 0, 3),
            W("1.1", "水源地保护及水质检测", "dl_water", -90, 100, 1, "1"),
            W("1.2", "东岭水厂扩建（日供水1.2万吨）", "contractor", 60, 55, 3, "1"),
            W("2", "管网工程", "dl_water", 150, 0, 4),
            W("2.1", "输配水主管网（86公里）", "contractor", 90, 48, 3, "2"),
            W("2.2", "入户管网改造（12,000户）", "contractor", 150, 22, 2, "2"),
            W("3", "智能水表远程监测", "dl_water", 180, 0, 3),
            W("3.1", "智能水表采购安装（12,000只）", "contractor", 120, 30, 2, "3"),
            W("3.2", "远程抄表及监测平台接入", "dl_water", 150, 15, 1, "3"),
            W("3.3", "夜间最小流量漏损分析规则（02:00–04:00）", "dl_water", 180, 0, 1, "3"),
            W("4", "村民代表参与监督", "dl_inspector", 200, 0, 1),
            W("4.1", "各村村民代表监督小组组建", "dl_inspector", -60, 100, 1, "4"),
            W("4.2", "监督小组月度巡查及公示", "dl_inspector", 200, 35, 1, "4"),
        ),
        targets=(
            T("output_quantity", "受益人口", "人", ">=", 36_000),
            T("output_quantity", "智能水表安装数", "只", ">=", 12_000),
            T("output_quality", "水质达标率（GB 5749-2022）", "%", ">=", 98),
            T("output_quality", "管网漏损率", "%", "<=", 10),
            T("benefit_sustainable", "农村自来水普及率", "%", ">=", 99),
            T("satisfaction", "服务对象满意度", "%", ">=", 90),
        ),
        partners=(("990121", "finance"), ("990121", "health"), ("990100", "water")),
        members=(("supervisor", "supervisor"), ("contractor", "contractor")),
        owner_unit="东岭县水利局",
        notes="essay §二: 村民代表参与监督+智能水表远程监测",
    ),
    Case(
        key="bus",
        essay_section="三",
        name="青溪市城乡公交一体化改革",
        domain="transport",
        division_code="990100",
        lead=("990100", "transport"),
        responsible="city_transport",
        code_year=2025,
        created=dt.date(2025, 2, 20),
        path="full",
        stage="construction",
        stage_entered=120,
        estimate=186_000_000,
        design_estimate=192_400_000,
        high_impact=True,
        summary=(
            "打破部门壁垒，组建专项工作组，打通公交线路审批、票价核定、车辆购置等堵点，半年内实现县域城乡公交全覆盖。"
        ),
        address="青溪市全域（5个县区）",
        lat=30.061,
        lng=119.640,
        beneficiaries=(1_260_000, 210_000, 16_000, 48_000, 180_000),
        planned_start=-130,
        planned_end=60,
        wbs=(
            W("01", "专项工作组组建及联席会议机制", "leader", -115, 100, 1),
            W("02", "公交线路审批并联办理", "city_transport", -80, 100, 2),
            W("03", "票价核定及价格听证", "drc", -60, 100, 1),
            W("04", "新能源公交车辆购置（220辆）", "city_transport", 20, 64, 4),
            W("05", "首末站及候车亭建设", "city_housing", 40, 45, 3),
            W("06", "镇村公交线路开通（5个县区全覆盖）", "city_transport", 60, 58, 4),
            W("07", "智能调度及移动支付互通", "city_data", 30, 70, 2),
            W("08", "运营补贴及成本规制办法", "finance", 10, 80, 1),
        ),
        targets=(
            T("output_quantity", "新开通城乡公交线路", "条", ">=", 42),
            T("output_timeliness", "实现县域公交全覆盖用时", "月", "<=", 6),
            T("benefit_social", "建制村通公交率", "%", "=", 100),
            T("output_cost", "城乡公交统一票价", "元", "<=", 2),
            T("satisfaction", "服务对象满意度", "%", ">=", 90),
        ),
        partners=(
            ("990100", "drc"),
            ("990100", "finance"),
            ("990100", "natres"),
            ("990100", "data"),
            ("990100", "govoffice"),
            ("990100", "housing"),
            ("990100", "emergency"),
            ("990102", "transport"),
            ("990103", "transport"),
            ("990121", "transport"),
            ("990122", "transport"),
            ("990123", "transport"),
        ),
        members=(("supervisor", "supervisor"),),
        owner_unit="青溪市交通运输局",
        notes="essay §三: 打破部门壁垒、专项工作组、半年县域全覆盖 — many partner departments",
    ),
    Case(
        key="elderly",
        essay_section="五",
        name="青溪区颐养院（养老院）新建工程",
        domain="elderly",
        division_code="990102",
        lead=("990102", "civil"),
        responsible="qxq_civil",
        code_year=2025,
        created=dt.date(2025, 1, 8),
        path="full",
        stage="construction",
        stage_entered=330,
        estimate=62_000_000,
        design_estimate=64_500_000,
        high_impact=True,
        summary=(
            "新建护理型养老院一座，床位300张。施工单位和项目单位上报的形象进度长期在90%左右，但多个子项已超过完成时限，"
            "计划竣工日期已过（用于演示虚报进度的发现与问责）。"
        ),
        address="青溪区城关街道颐和路18号",
        lat=30.049,
        lng=119.606,
        beneficiaries=(2_400, 2_100, 380, 460, 0),
        planned_start=-335,
        planned_end=-45,
        wbs=(
            W("1", "土建工程", "contractor", -150, 0, 4),
            W("1.1", "基础工程", "contractor", -270, 100, 1, "1"),
            W("1.2", "主体结构", "contractor", -190, 96, 2, "1"),
            W("1.3", "屋面及外墙", "contractor", -150, 92, 1, "1"),
            W("2", "安装工程", "contractor", -90, 0, 3),
            W("2.1", "给排水及热水系统", "contractor", -110, 90, 1, "2"),
            W("2.2", "电气及紧急呼叫系统", "contractor", -100, 88, 1, "2"),
            W("2.3", "消防工程", "contractor", -90, 86, 1, "2"),
            W("3", "适老化装修及无障碍设施", "contractor", -60, 85, 2),
            W("4", "护理及康复设备采购", "qxq_civil", -50, 88, 1),
            W("5", "室外配套及绿化", "contractor", -45, 90, 1),
            W("6", "运营机构遴选", "qxq_civil", 30, 60, 1),
        ),
        targets=(
            T("output_quantity", "新增养老床位", "张", ">=", 300),
            T("benefit_social", "护理型床位占比", "%", ">=", 60),
            T("output_timeliness", "按期竣工", "%", "=", 100),
            T("output_cost", "单床建设成本", "万元", "<=", 21.5),
            T("satisfaction", "服务对象满意度", "%", ">=", 90),
        ),
        partners=(("990102", "housing"), ("990102", "health"), ("990102", "finance")),
        members=(("supervisor", "supervisor"), ("contractor", "contractor"), ("inspector", "inspector")),
        owner_unit="青溪区民政局",
        notes="essay §五: 养老院项目虚报进度 — reported progress ~90 % while every due date slips",
    ),
    Case(
        key="elevator",
        essay_section="六",
        name="城关街道老旧小区电梯加装（邻里互助小组）",
        domain="housing",
        division_code="990102001",
        lead=("990102", "housing"),
        responsible="housing",
        code_year=2026,
        created=dt.date(2026, 4, 7),
        path="design_only",
        stage="construction",
        stage_entered=35,
        estimate=3_660_000,
        design_estimate=3_720_000,
        summary=(
            "城关街道居民自发成立“邻里互助小组”，协调、筹款、谈判，为6个单元加装电梯；"
            "政府按每部电梯给予补贴，居民按楼层分摊其余费用。"
        ),
        address="青溪区城关街道桂花苑小区",
        lat=30.054,
        lng=119.615,
        beneficiaries=(216, 118, 9, 12, 20),
        planned_start=-40,
        planned_end=55,
        wbs=(
            W("01", "邻里互助小组组建", "inspector", -120, 100, 1),
            W("02", "单元业主意见征询（≥3/4 同意）", "inspector", -95, 100, 1),
            W("03", "费用分摊及筹款方案", "inspector", -80, 100, 1),
            W("04", "电梯设备招采谈判", "housing", -50, 100, 1),
            W("05", "1号楼1单元电梯安装", "contractor", -5, 100, 2),
            W("06", "1号楼2单元电梯安装", "contractor", 5, 80, 2),
            W("07", "2号楼1单元电梯安装", "contractor", 15, 55, 2),
            W("08", "2号楼2单元电梯安装", "contractor", 25, 30, 2),
            W("09", "3号楼1单元电梯安装", "contractor", 40, 10, 2),
            W("10", "3号楼2单元电梯安装", "contractor", 55, 0, 2),
            W("11", "特种设备检验及使用登记", "housing", 55, 0, 1),
        ),
        targets=(
            T("output_quantity", "加装电梯数", "部", "=", 6),
            T("output_timeliness", "完成安装用时", "月", "<=", 3),
            T("output_cost", "每部电梯政府补贴", "万元", "<=", 20),
            T("satisfaction", "服务对象满意度", "%", ">=", 95),
        ),
        partners=(("990102", "finance"),),
        members=(("contractor", "contractor"), ("supervisor", "supervisor")),
        owner_unit="青溪区城关街道办事处",
        notes="essay §六: 邻里互助小组推动电梯加装，三个月完成6部",
    ),
    Case(
        key="cloud",
        essay_section="四",
        name="青溪区民生工程云平台（300余项目数据集成）",
        domain="digital",
        division_code="990102",
        lead=("990102", "data"),
        responsible="qxq_data",
        code_year=2023,
        created=dt.date(2023, 5, 10),
        path="design_only",
        stage="operation",
        stage_entered=300,
        estimate=12_800_000,
        design_estimate=13_100_000,
        summary=(
            "集成300多个民生工程项目数据，自动推送异常提醒，问题响应时间从7天缩短至24小时，群众满意度提升至95%以上。"
        ),
        address="青溪区政务服务中心",
        lat=30.057,
        lng=119.618,
        beneficiaries=(560_000, 92_000, 5_600, 21_000, 88_000),
        planned_start=-820,
        planned_end=-380,
        wbs=(
            W("01", "需求调研及业务梳理", "qxq_data", -800, 100, 1),
            W("02", "300余项目数据归集及接口对接", "qxq_data", -640, 100, 3),
            W("03", "异常自动提醒规则", "qxq_data", -560, 100, 2),
            W("04", "群众诉求移动端", "qxq_data", -520, 100, 2),
            W("05", "等保三级测评", "qxq_data", -440, 100, 1),
            W("06", "24小时响应机制及考核", "qxq_drc", -400, 100, 1),
        ),
        targets=(
            T("output_quantity", "集成项目数", "个", ">=", 300, 326),
            T("output_timeliness", "问题平均响应时间", "小时", "<=", 24, 21.5),
            T("benefit_sustainable", "系统可用率", "%", ">=", 99.5, 99.8),
            T("satisfaction", "群众满意度", "%", ">=", 95, 95.6),
        ),
        partners=(("990102", "drc"), ("990102", "finance")),
        members=(("evaluator", "evaluator"),),
        owner_unit="青溪区数据资源局",
        notes="essay §四: 民生工程云平台 — 集成300多个项目数据，响应时间7天→24小时",
    ),
)
