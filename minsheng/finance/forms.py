"""Console forms. Amounts are plain text so the services' own parsing (and its translated errors) applies."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.finance.models import BudgetKind, CostCategory, FundingSourceKind

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class VersionForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=BudgetKind.choices)
    note = forms.CharField(label=_("编制说明"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class LineForm(forms.Form):
    category = forms.ChoiceField(label=_("费用类别"), choices=CostCategory.choices)
    item = forms.CharField(label=_("项目内容"), max_length=128)
    quantity = forms.CharField(label=_("数量"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    unit = forms.CharField(label=_("单位"), max_length=16)
    unit_cost = forms.CharField(label=_("单价（元）"), max_length=20,
                                widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    justification = forms.CharField(label=_("测算依据"), widget=forms.Textarea(attrs={"rows": 2}))
    standard = forms.CharField(label=_("支出标准"), max_length=255, help_text=_("如：定额编号、政府指导价、文件文号"))
    funding_source = forms.ChoiceField(label=_("资金来源"), choices=FundingSourceKind.choices,
                                       initial=FundingSourceKind.COUNTY, required=False)


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("审批结果"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
                                     choices=[("1", _("同意")), ("0", _("退回"))])
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class SignoffForm(forms.Form):
    """The supervisor's own confirmation of the measured quantities."""

    confirm = forms.TypedChoiceField(label=_("计量确认"), coerce=lambda v: v == "1", widget=forms.RadioSelect,
                                     choices=[("1", _("确认计量属实")), ("0", _("退回（申请终止）"))])
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=_("退回时必须写明理由。"))


class CopyForm(forms.Form):
    kind = forms.ChoiceField(label=_("新版本类别"), choices=BudgetKind.choices)


class AdjustmentForm(LineForm):
    reason = forms.CharField(label=_("调整原因"), widget=forms.Textarea(attrs={"rows": 2}))
    adjust_funding_source = forms.ChoiceField(label=_("新增资金来源"), choices=FundingSourceKind.choices)
    funding_document = forms.CharField(label=_("资金来源文件"), max_length=128, required=False)

    field_order = ["reason", "adjust_funding_source", "funding_document"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["item"].help_text = _("原概算各行保留，另增加本行（调减请在说明中写明并重新编制）。")


class FundingForm(forms.Form):
    source = forms.ChoiceField(label=_("资金来源"), choices=FundingSourceKind.choices)
    amount = forms.CharField(label=_("计划金额（元）"), max_length=20)
    document = forms.CharField(label=_("下达文件"), max_length=128, required=False)
    committed_on = forms.DateField(label=_("下达日期"), widget=DATE)


class ArrivalForm(forms.Form):
    amount = forms.CharField(label=_("到位金额（元）"), max_length=20)
    arrived_on = forms.DateField(label=_("到位日期"), widget=DATE)
    voucher = forms.CharField(label=_("凭证号"), max_length=64, required=False)


class PaymentForm(forms.Form):
    milestone = forms.TypedChoiceField(label=_("合同付款节点"), coerce=int)
    amount = forms.CharField(label=_("申请金额（元）"), max_length=20)
    invoice_number = forms.CharField(label=_("发票号码"), max_length=32)
    invoice_amount = forms.CharField(label=_("发票金额（元）"), max_length=20)
    invoice_date = forms.DateField(label=_("开票日期"), widget=DATE)
    quantities = forms.CharField(label=_("计量工程量"), widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("每行一项：名称, 数量, 单位"))
    supervisor = forms.TypedChoiceField(label=_("监理签认人"), coerce=int)
    documents = forms.TypedMultipleChoiceField(label=_("证明材料"), coerce=int, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args: Any, milestones: list[Any], supervisors: list[Any], documents: list[Any],
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["milestone"].choices = [
            (m.pk, f"{m.contract.number} · {m.title} · {m.amount:,.2f}") for m in milestones]
        self.fields["supervisor"].choices = [(u.pk, u.display_name) for u in supervisors]
        self.fields["documents"].choices = [(d.pk, d.title) for d in documents]

    def quantity_rows(self) -> list[dict[str, str]]:
        rows = []
        for raw in self.cleaned_data["quantities"].splitlines():
            parts = [p.strip() for p in raw.replace("，", ",").split(",")]
            if any(parts):
                parts += [""] * (3 - len(parts))
                rows.append({"item": parts[0], "quantity": parts[1], "unit": parts[2]})
        return rows


class PaidForm(forms.Form):
    voucher = forms.CharField(label=_("支付凭证号"), max_length=64)
    paid_on = forms.DateField(label=_("支付日期"), widget=DATE)


class RollupForm(forms.Form):
    group = forms.ChoiceField(label=_("汇总方式"), choices=[("department", _("按部门")), ("division", _("按区划"))],
                              widget=forms.RadioSelect, initial="department", required=False)
    division = forms.TypedChoiceField(label=_("区划"), coerce=int, required=False)
