"""Site-inspection checklists per project type (领域). The stored answer is keyed by the Chinese
item (the msgid), so records read the same whatever language the phone was set to; the label shown
is its translation."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from minsheng.projects.models import Domain

COMMON = (
    _("安全帽及个人防护"),
    _("临边洞口防护"),
    _("施工用电"),
    _("材料进场验收"),
    _("文明施工与扬尘控制"),
)

BY_DOMAIN: dict[str, tuple[str, ...]] = {
    Domain.WATER: (
        _("管材管件规格与合格证"),
        _("管沟开挖深度与回填"),
        _("管道试压记录"),
        _("冲洗消毒记录"),
        _("智能水表安装与读数"),
        _("水源地保护措施"),
    ),
    Domain.HOUSING: (
        _("外墙保温与脚手架"),
        _("屋面防水"),
        _("管线改造"),
        _("加装电梯施工"),
        _("居民出行安全通道"),
    ),
    Domain.ELDERLY: (
        _("无障碍设施"),
        _("消防设施与疏散通道"),
        _("适老化卫浴与扶手"),
        _("室内装修材料环保"),
    ),
    Domain.CHILDCARE: (
        _("消防设施与疏散通道"),
        _("室内装修材料环保"),
        _("活动场地安全"),
    ),
    Domain.EDUCATION: (
        _("主体结构与钢筋隐蔽验收"),
        _("消防设施与疏散通道"),
        _("室内装修材料环保"),
    ),
    Domain.HEALTH: (
        _("主体结构与钢筋隐蔽验收"),
        _("医用气体与给排水"),
        _("消防设施与疏散通道"),
    ),
    Domain.TRANSPORT: (
        _("路基压实度"),
        _("路面厚度与平整度"),
        _("交通安全设施"),
        _("施工路段交通疏导"),
    ),
    Domain.ENVIRONMENT: (
        _("污水管网接驳"),
        _("设备安装与调试"),
        _("排放监测设施"),
    ),
}


def checklist_for(domain: str) -> list[dict[str, str]]:
    """The items to check on a project of this type: the type's own, then the common ones."""
    seen: set[str] = set()
    items = []
    for key in (*BY_DOMAIN.get(domain, ()), *COMMON):
        if key not in seen:
            seen.add(key)
            items.append({"key": key, "label": gettext(key)})
    return items
