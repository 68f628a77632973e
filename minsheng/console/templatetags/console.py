"""Small display helpers for console and portal templates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from minsheng.core.money import format_wan
from minsheng.projects.lifecycle import DocumentKind, Slot, Stage

register = template.Library()

ACTIONS = {
    "project.create": _("登记项目"),
    "project.update": _("修改项目信息"),
    "project.transition": _("阶段转换"),
    "target.add": _("设定绩效目标"),
    "member.add": _("添加参与人"),
    "document.upload": _("上传文件"),
    "gate.request": _("申请阶段转换"),
    "gate.approve": _("同意阶段转换"),
    "gate.reject": _("退回阶段转换"),
    "gate.withdraw": _("撤回申请"),
    "wbs.create": _("添加子项"),
    "wbs.update": _("修改子项"),
    "wbs.progress": _("填报子项进度"),
    "project.approved_cost": _("记录批准的投资额"),
    # finance (console/tests/test_action_labels.py checks that every action finance, procurement and insight
    # record has a label here)
    "budget.create": _("新建预算版本"),
    "budget.copy": _("复制预算版本"),
    "budget.line_add": _("添加预算明细"),
    "budget.line_update": _("修改预算明细"),
    "budget.line_remove": _("删除预算明细"),
    "budget.submit": _("提交预算审批"),
    "budget.approve": _("批准预算"),
    "budget.reject": _("退回预算"),
    "budget.adjust_request": _("申请概算调整"),
    "budget.adjust_approve": _("批准概算调整"),
    "budget.adjust_reject": _("退回概算调整"),
    "funding.commit": _("登记资金计划"),
    "funding.arrive": _("登记资金到位"),
    "payment.request": _("申请拨付"),
    "payment.signoff_confirm": _("监理确认计量"),
    "payment.signoff_reject": _("监理退回计量"),
    "payment.department_approve": _("部门审核同意拨付"),
    "payment.department_reject": _("部门审核退回拨付"),
    "payment.finance_approve": _("财政审核同意拨付"),
    "payment.finance_reject": _("财政审核退回拨付"),
    "payment.paid": _("登记支付"),
    # procurement
    "tender.create": _("新建招标项目"),
    "tender.publish": _("发布招标公告"),
    "tender.share_confirm": _("核对开标密钥分片"),
    "tender.open": _("开标"),
    "tender.cancel": _("终止招标"),
    "tender.unsuccessful": _("招标失败"),
    "tender.evaluate": _("完成评标"),
    "clarification.ask": _("提出澄清问题"),
    "clarification.answer": _("答复澄清问题"),
    "bid.submit": _("递交投标文件"),
    "bid.withdraw": _("撤回投标文件"),
    "bid.tampered": _("投标文件校验失败"),
    "bid.score": _("评标打分"),
    "bid.disqualify": _("否决投标"),
    "panel.add": _("添加评标专家"),
    "panel.declare": _("专家声明利益冲突情况"),
    "award.make": _("确定中标人"),
    "complaint.file": _("提出质疑投诉"),
    "complaint.resolve": _("处理质疑投诉"),
    "contract.sign": _("签订合同"),
    "contract.milestone_add": _("添加合同付款节点"),
    "variation.propose": _("提出合同变更"),
    "variation.approve": _("批准合同变更"),
    "variation.reject": _("退回合同变更"),
    "supplier.create": _("登记供应商"),
    "supplier.update": _("修改供应商信息"),
    "supplier.user_link": _("关联供应商账号"),
    "supplier.user_unlink": _("解除供应商账号关联"),
    # insight
    "redflag.decide": _("核查风险线索"),
    "audit_sample.draw": _("抽取审计样本"),
    "audit_sample.finding": _("记录抽查结果"),
}


@register.filter
def wan(amount: Decimal | None) -> str:
    """Yuan shown as 万元, the unit officials read project sizes in."""
    return format_wan(amount)


@register.filter
def minutes(value: dt.timedelta | None) -> int:
    return int(value.total_seconds() // 60) if value else 0


@register.filter
def stage_label(value: str) -> str:
    return str(Stage(value).label) if value in Stage.values else value


@register.filter
def slot_label(value: str) -> str:
    return str(Slot(value).label) if value in Slot.values else value


@register.filter
def document_label(value: str) -> str:
    return str(DocumentKind(value).label) if value in DocumentKind.values else value


@register.filter
def action_label(value: str) -> str:
    return str(ACTIONS.get(value, value))


@register.filter
def days_since(value: dt.date | None) -> int:
    from django.utils import timezone

    return (timezone.localdate() - value).days if value else 0


@register.filter
def filesize_kb(value: int | None) -> str:
    if not value:
        return "0 KB"
    return f"{value / 1024 / 1024:.1f} MB" if value >= 1024 * 1024 else f"{max(1, round(value / 1024))} KB"


@register.filter
def can(user: Any, cap: str) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.can(cap))


@register.simple_tag(takes_context=True)
def nav_current(context: Any, *names: str) -> str:
    """`aria-current="page"` for the nav link of the page being shown."""
    match = getattr(context.get("request"), "resolver_match", None)
    return mark_safe('aria-current="page"') if match and match.url_name in names else ""


@register.simple_tag
def unread_notifications(user: Any) -> int:
    """How many of the user's own notifications are unread (the nav badge)."""
    from minsheng.accounts.selectors import notifications_unread

    return notifications_unread(user).count()
