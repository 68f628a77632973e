"""Word lists and templates for the demo city. Pure data: no ORM, no randomness of its own.

Names are fictional but read like real Chinese place, person and project names. The generator
draws from these lists with a seeded `random.Random`, so the same seed gives the same city.
"""

from __future__ import annotations

# Syllables for place names: two are joined (e.g. 柳溪, 石岗). Chosen to avoid real county names
# being produced too often; duplicates inside one parent are skipped by the generator.
PLACE_FIRST = list(
    "柳石桃枫松梅竹兰杏桂荷蒲茶柏槐杨桑芦菱莲云霞溪泉湖塘潭湾洲渚岭峰岗坪坞山林田埠桥口坝堰".replace(" ", "")
)
PLACE_SECOND = list("溪泉湖塘岭峰岗坪坞山林田源港浦桥湾洲口渡头园庄圩坂垄冈川阳阴安宁和平丰乐兴隆福寿康泰")

# Surnames weighted roughly by frequency (the common ones appear several times).
SURNAMES = list(
    "王王王李李李张张张刘刘陈陈杨杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢钟姜崔谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = list(
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文辉红玉萍鹏飞宇浩晨欣怡佳瑶雪梅琳婷昊然子轩思远志远海燕春林晓东立新振华卫东建华德明秋月玉兰"
)

# Counties/districts of 青溪市 are fixed (the six cases live in them); codes follow GB/T 2260
# habits: districts 01–20, counties 21–80.
COUNTIES: list[tuple[str, str, str, tuple[float, float]]] = [
    # code, name, short key used in usernames, (lat, lng) of the seat
    ("990102", "青溪区", "qxq", (30.052, 119.612)),
    ("990103", "临江区", "ljq", (30.118, 119.745)),
    ("990121", "东岭县", "dl", (29.874, 119.958)),
    ("990122", "云岫县", "yx", (30.296, 119.301)),
    ("990123", "石门县", "sm", (29.781, 119.455)),
]
CITY_CENTRE = (30.061, 119.640)

# The first township of 青溪区 is fixed: the elevator case happens there.
FIXED_TOWNSHIPS = {"990102": ["城关街道"]}

TOWNSHIP_SUFFIX_DISTRICT = ["街道", "街道", "街道", "镇"]
TOWNSHIP_SUFFIX_COUNTY = ["镇", "镇", "乡", "街道"]
VILLAGE_SUFFIX_URBAN = ["社区", "社区", "社区", "村"]
VILLAGE_SUFFIX_RURAL = ["村", "村", "村", "社区"]

STAFF_TITLES = {
    "leader_city": "副市长",
    "leader_county": "副县（区）长",
    "officer": ["科员", "一级主任科员", "项目科科长", "副科长", "四级主任科员"],
    "inspector": "网格巡查员",
}

SUPERVISION_FIRMS = ["江南正衡工程监理有限公司", "青溪市诚信建设监理有限公司"]
CONTRACTORS = ["江南建工集团青溪分公司", "青溪市城建工程有限公司"]
EVALUATORS = ["青溪求是绩效评价事务所"]

# Domain → kind of the department that leads such projects.
DOMAIN_LEAD = {
    "housing": "housing",
    "transport": "transport",
    "education": "education",
    "health": "health",
    "elderly": "civil",
    "childcare": "health",
    "water": "water",
    "environment": "ecology",
    "culture_sport": "culture",
    "employment": "hr",
    "digital": "data",
}
# How often each domain appears among generated projects.
DOMAIN_WEIGHTS = {
    "housing": 16,
    "transport": 13,
    "education": 12,
    "health": 10,
    "elderly": 9,
    "childcare": 5,
    "water": 11,
    "environment": 10,
    "culture_sport": 6,
    "employment": 4,
    "digital": 4,
}

# Project name templates per domain; {place} is the township/village/county name.
NAME_TEMPLATES: dict[str, list[str]] = {
    "housing": [
        "{place}老旧小区综合改造工程",
        "{place}保障性租赁住房项目",
        "{place}城镇老旧小区适老化改造",
        "{place}棚户区改造安置房工程",
        "{place}农村危房改造项目",
        "{place}小区雨污分流与管网改造",
    ],
    "transport": [
        "{place}农村公路提档升级工程",
        "{place}公交首末站建设项目",
        "{place}城乡公交候车亭改造",
        "{place}危桥改造工程",
        "{place}乡村道路安全生命防护工程",
        "{place}停车场及充电设施建设",
    ],
    "education": [
        "{place}中心小学教学楼改扩建工程",
        "{place}初级中学风雨操场建设",
        "{place}公办幼儿园新建工程",
        "{place}学校食堂提升改造",
        "{place}义务教育学校薄弱环节改善项目",
        "{place}学生宿舍改造工程",
    ],
    "health": [
        "{place}卫生院门诊楼改扩建工程",
        "{place}村卫生室标准化建设",
        "{place}社区卫生服务中心提升改造",
        "{place}急救站点建设项目",
        "{place}医共体远程诊疗能力建设",
    ],
    "elderly": [
        "{place}居家养老服务中心建设",
        "{place}老年食堂（助餐点）建设项目",
        "{place}敬老院提升改造工程",
        "{place}特困人员供养服务设施改造",
        "{place}农村互助养老服务站建设",
    ],
    "childcare": ["{place}普惠托育服务中心建设", "{place}社区嵌入式托育点建设", "{place}儿童之家提升改造"],
    "water": [
        "{place}农村饮用水管网延伸工程",
        "{place}水厂提标改造工程",
        "{place}供水管网漏损治理项目",
        "{place}小型水库除险加固工程",
        "{place}山塘综合整治项目",
        "{place}防洪堤加固工程",
    ],
    "environment": [
        "{place}生活污水处理设施提标改造",
        "{place}农村生活垃圾分类处理项目",
        "{place}黑臭水体综合整治工程",
        "{place}河道生态修复工程",
        "{place}公厕提升改造项目",
        "{place}废弃矿山生态修复",
    ],
    "culture_sport": [
        "{place}全民健身中心建设项目",
        "{place}文化礼堂建设工程",
        "{place}口袋公园及健身步道建设",
        "{place}综合文化站提升改造",
        "{place}社区足球场建设项目",
    ],
    "employment": ["{place}零工市场建设项目", "{place}就业创业服务驿站建设", "{place}职业技能实训基地建设"],
    "digital": [
        "{place}基层治理数字化平台建设",
        "{place}政务服务一网通办提升项目",
        "{place}智慧社区平台建设",
        "{place}视频监控联网共享工程",
    ],
}

SUMMARY_TEMPLATES: dict[str, str] = {
    "housing": (
        "对{place}范围内房屋及配套设施进行改造，重点解决群众反映强烈的漏水、管网老化、无障碍缺失等问题。"
    ),
    "transport": "改善{place}群众出行条件，提升道路、站点和交通安全设施水平。",
    "education": "扩大{place}优质教育资源供给，改善办学条件，消除大班额和安全隐患。",
    "health": "提升{place}基层医疗卫生服务能力，让群众就近看病就医。",
    "elderly": "完善{place}养老服务设施，重点保障失能、高龄、独居和特困老人。",
    "childcare": "增加{place}普惠托育服务供给，缓解双职工家庭照护压力。",
    "water": "巩固提升{place}供水和防洪保障能力，确保群众喝上放心水、住上安全房。",
    "environment": "治理{place}突出生态环境问题，改善人居环境质量。",
    "culture_sport": "补齐{place}公共文化体育设施短板，丰富群众文体生活。",
    "employment": "完善{place}就业公共服务，帮助重点群体就近就业。",
    "digital": "整合{place}业务数据，提升基层治理和政务服务数字化水平。",
}

# WBS items per domain, in the order work is done. The generator keeps the order and picks 3–12.
WBS_TEMPLATES: dict[str, list[str]] = {
    "housing": [
        "居民意见征询与方案公示",
        "施工图设计及审查",
        "屋面防水及外立面整治",
        "给排水管网改造",
        "强弱电线路规整",
        "燃气管道改造",
        "无障碍通道及扶手",
        "楼道照明及消防设施",
        "小区道路及停车位改造",
        "绿化及公共空间提升",
        "安防监控系统",
        "竣工资料整理及移交物业",
    ],
    "transport": [
        "线路勘测及方案设计",
        "征地拆迁及管线迁改",
        "路基工程",
        "桥涵工程",
        "路面工程",
        "交通安全设施",
        "公交站台及候车亭",
        "照明及监控设施",
        "绿化工程",
        "交工检测",
        "竣工资料整理",
    ],
    "education": [
        "校舍安全鉴定",
        "施工图设计及审查",
        "基础及主体结构",
        "屋面及外墙工程",
        "室内装修",
        "给排水及消防",
        "电气及智能化",
        "教学设备采购安装",
        "运动场地建设",
        "室外配套及绿化",
        "竣工验收资料",
    ],
    "health": [
        "功能布局论证",
        "施工图设计及审查",
        "主体结构改造",
        "院感分区及污水处理",
        "医用气体及供电改造",
        "医疗设备采购安装",
        "信息系统接入",
        "无障碍及适老化设施",
        "消防设施",
        "竣工验收资料",
    ],
    "elderly": [
        "需求摸底及老人意见征询",
        "施工图设计及审查",
        "土建工程",
        "适老化改造",
        "助浴及护理设施",
        "厨房及助餐设施",
        "消防及紧急呼叫系统",
        "康复设备采购",
        "运营机构遴选",
        "竣工验收资料",
    ],
    "childcare": [
        "选址及需求调查",
        "设计方案及审查",
        "装修改造",
        "儿童安全防护设施",
        "保育设备采购",
        "卫生及消防验收",
        "保育人员招聘培训",
    ],
    "water": [
        "水源地勘察及水质检测",
        "初步设计及审查",
        "取水及水厂工程",
        "输配水主管网",
        "入户管网及水表",
        "消毒设备安装",
        "管网试压冲洗",
        "水质检测及通水",
        "村民代表监督小组组建",
        "运行管护制度建立",
    ],
    "environment": [
        "污染源排查",
        "方案设计及审查",
        "截污纳管工程",
        "处理设施土建",
        "设备采购安装",
        "生态修复及绿化",
        "在线监测设施",
        "试运行及达标检测",
        "长效管护机制建立",
    ],
    "culture_sport": [
        "群众意见征集",
        "设计方案及审查",
        "场地平整及基础",
        "主体工程",
        "体育器材采购安装",
        "照明及配套设施",
        "无障碍设施",
        "竣工验收资料",
    ],
    "employment": ["需求调研", "场地改造", "信息系统建设", "服务窗口设置", "实训设备采购", "运营团队组建"],
    "digital": [
        "需求调研及方案设计",
        "等保测评方案",
        "云资源申请",
        "数据资源目录梳理",
        "业务系统开发",
        "数据接口对接",
        "移动端开发",
        "试运行及用户培训",
        "安全测评及验收",
    ],
}

# Performance targets per domain: (dimension, indicator, unit, comparator, low, high).
TARGET_TEMPLATES: dict[str, list[tuple[str, str, str, str, float, float]]] = {
    "housing": [
        ("output_quantity", "改造住户数", "户", ">=", 80, 1500),
        ("output_quality", "工程验收合格率", "%", "=", 100, 100),
        ("benefit_social", "加装无障碍设施楼栋数", "栋", ">=", 5, 60),
    ],
    "transport": [
        ("output_quantity", "新改建道路里程", "公里", ">=", 2, 60),
        ("output_quality", "交工验收合格率", "%", "=", 100, 100),
        ("benefit_social", "受益行政村通公交比例", "%", ">=", 90, 100),
    ],
    "education": [
        ("output_quantity", "新增学位数", "个", ">=", 90, 1800),
        ("output_timeliness", "秋季开学前投入使用", "%", "=", 100, 100),
        ("benefit_social", "消除大班额比例", "%", ">=", 95, 100),
    ],
    "health": [
        ("output_quantity", "新增床位数", "张", ">=", 10, 200),
        ("benefit_social", "基层就诊率", "%", ">=", 60, 75),
        ("output_quality", "设备验收合格率", "%", "=", 100, 100),
    ],
    "elderly": [
        ("output_quantity", "新增养老床位数", "张", ">=", 20, 300),
        ("benefit_social", "护理型床位占比", "%", ">=", 55, 70),
        ("output_quantity", "助餐服务覆盖老年人数", "人", ">=", 100, 2000),
    ],
    "childcare": [
        ("output_quantity", "新增托位数", "个", ">=", 30, 200),
        ("benefit_social", "普惠托位收费低于市场价比例", "%", ">=", 20, 40),
    ],
    "water": [
        ("output_quantity", "受益人口", "人", ">=", 2000, 60000),
        ("output_quality", "水质达标率（GB 5749-2022）", "%", ">=", 98, 100),
        ("benefit_sustainable", "供水保证率", "%", ">=", 95, 98),
        ("output_quality", "管网漏损率", "%", "<=", 8, 12),
    ],
    "environment": [
        ("output_quantity", "新增污水处理能力", "吨/日", ">=", 200, 20000),
        ("benefit_ecological", "出水达标率", "%", ">=", 95, 100),
        ("benefit_ecological", "水质改善断面数", "个", ">=", 1, 8),
    ],
    "culture_sport": [
        ("output_quantity", "新增健身场地面积", "平方米", ">=", 800, 20000),
        ("benefit_social", "年服务群众人次", "人次", ">=", 5000, 200000),
    ],
    "employment": [
        ("output_quantity", "年服务求职人次", "人次", ">=", 2000, 30000),
        ("benefit_economic", "帮助就业人数", "人", ">=", 200, 3000),
    ],
    "digital": [
        ("output_quantity", "接入业务系统数", "个", ">=", 5, 40),
        ("output_timeliness", "问题平均响应时间", "小时", "<=", 24, 72),
        ("benefit_sustainable", "系统可用率", "%", ">=", 99, 99.9),
    ],
}
SATISFACTION_TARGET = ("satisfaction", "服务对象满意度", "%", ">=", 85, 95)
