"""Console and portal forms for procurement. Services do the real checks; forms only parse."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.procurement import uscc
from minsheng.procurement.models import AwardCriteria, Method, ProcurementCategory
from minsheng.procurement.services.suppliers import credit_code_error

DATE = {"type": "date"}
DATETIME = {"type": "datetime-local"}


class TenderForm(forms.Form):
    budget_version = forms.TypedChoiceField(label=_("依据预算"), coerce=int, choices=())
    title = forms.CharField(label=_("招标项目名称"), max_length=128)
    category = forms.ChoiceField(label=_("采购类别"), choices=ProcurementCategory.choices)
    method = forms.ChoiceField(label=_("采购方式"), choices=Method.choices)
    method_reason = forms.CharField(label=_("采用该方式的理由"), required=False,
                                    widget=forms.Textarea(attrs={"rows": 2}),
                                    help_text=_("竞争性谈判、单一来源必填。"))
    value = forms.CharField(label=_("最高投标限价（元）"), max_length=20)
    award_criteria = forms.ChoiceField(label=_("评标办法"), choices=AwardCriteria.choices)
    price_weight = forms.IntegerField(label=_("价格分权重（%）"), min_value=0, max_value=100, initial=30)
    description = forms.CharField(label=_("招标内容"), required=False, widget=forms.Textarea(attrs={"rows": 3}))
    quality_standards = forms.CharField(label=_("质量标准"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))
    invited_suppliers = forms.TypedMultipleChoiceField(
        label=_("受邀供应商"), coerce=int, required=False, choices=(),
        help_text=_("邀请招标不少于 3 家；单一来源选 1 家；公开招标不选。"))

    def __init__(self, *args, budgets=(), suppliers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["budget_version"].choices = [(b.pk, f"{b.get_kind_display()} v{b.number} · {b.total} 元")
                                                 for b in budgets]
        self.fields["invited_suppliers"].choices = [(s.pk, s.name) for s in suppliers]


class PublishForm(forms.Form):
    submission_deadline = forms.DateTimeField(label=_("投标截止（开标时间）"),
                                              widget=forms.DateTimeInput(attrs=DATETIME))
    clarification_deadline = forms.DateTimeField(label=_("澄清截止"), required=False,
                                                 widget=forms.DateTimeInput(attrs=DATETIME))
    holders = forms.TypedMultipleChoiceField(label=_("开标密钥分持人"), coerce=int, choices=(),
                                             widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, officials=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["holders"].choices = [(u.pk, f"{u.display_name}（{u.get_role_display()}）") for u in officials]


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("答复"), widget=forms.Textarea(attrs={"rows": 2}))


class ShareForm(forms.Form):
    share = forms.CharField(label=_("我的密钥分片"), widget=forms.TextInput(attrs={"autocomplete": "off"}))


class OpeningForm(forms.Form):
    def __init__(self, *args, count: int = 3, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(1, count + 1):
            self.fields[f"share_{i}"] = forms.CharField(
                label=_("分片 %(i)d") % {"i": i}, required=False,
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))

    def shares(self) -> list[str]:
        return [v for k, v in self.cleaned_data.items() if k.startswith("share_") and v]


class PanelForm(forms.Form):
    expert = forms.TypedChoiceField(label=_("评标专家"), coerce=int, choices=())
    is_chair = forms.BooleanField(label=_("担任组长"), required=False)

    def __init__(self, *args, experts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expert"].choices = [(u.pk, f"{u.display_name} · {u.organisation}") for u in experts]


class DeclarationForm(forms.Form):
    has_conflict = forms.TypedChoiceField(
        label=_("与投标人是否存在利害关系"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
        choices=[("no", _("不存在")), ("yes", _("存在，申请回避"))])
    declaration = forms.CharField(label=_("声明内容"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ScoreForm(forms.Form):
    technical = forms.CharField(label=_("技术分"), max_length=8)
    comment = forms.CharField(label=_("评审意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=forms.Textarea(attrs={"rows": 2}))


class ResolveForm(forms.Form):
    upheld = forms.TypedChoiceField(label=_("处理结论"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                    choices=[("no", _("质疑不成立")), ("yes", _("质疑成立，重新评审"))])
    resolution = forms.CharField(label=_("处理结果"), widget=forms.Textarea(attrs={"rows": 2}))


class ContractForm(forms.Form):
    number = forms.CharField(label=_("合同编号"), max_length=40)
    title = forms.CharField(label=_("合同名称"), max_length=128)
    signed_on = forms.DateField(label=_("签订日期"), widget=forms.DateInput(attrs=DATE))
    period_start = forms.DateField(label=_("履约开始"), widget=forms.DateInput(attrs=DATE))
    period_end = forms.DateField(label=_("履约结束"), widget=forms.DateInput(attrs=DATE))
    quality_standards = forms.CharField(label=_("质量标准"), required=False,
                                        widget=forms.Textarea(attrs={"rows": 2}))


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("节点名称"), max_length=128)
    due_date = forms.DateField(label=_("计划完成"), widget=forms.DateInput(attrs=DATE))
    amount = forms.CharField(label=_("节点付款额（元）"), max_length=20)
    description = forms.CharField(label=_("完成标准"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    wbs_item = forms.TypedChoiceField(label=_("对应子项"), coerce=int, required=False, empty_value=None, choices=())

    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["wbs_item"].choices = [("", "—")] + [(i.pk, f"{i.code} {i.name}") for i in items]


class VariationForm(forms.Form):
    reason = forms.CharField(label=_("变更原因"), widget=forms.Textarea(attrs={"rows": 2}))
    amount = forms.CharField(label=_("变更金额（元，减少为负）"), max_length=20)
    days = forms.IntegerField(label=_("工期变化（日）"), initial=0)


class DecisionForm(forms.Form):
    approve = forms.TypedChoiceField(label=_("审批结论"), coerce=lambda v: v == "yes", widget=forms.RadioSelect,
                                     choices=[("yes", _("批准")), ("no", _("退回"))])
    comment = forms.CharField(label=_("审批意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class BidForm(forms.Form):
    price = forms.CharField(label=_("投标报价（元）"), max_length=20)
    technical = forms.CharField(label=_("技术响应"), widget=forms.Textarea(attrs={"rows": 6}), max_length=20000)
    attachments = forms.CharField(
        label=_("附件摘要"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("每行一个附件：文件名 空格 SHA-256 摘要（64 位十六进制）。附件本身线下或另行递交。"))

    def clean_attachments(self) -> list[dict[str, str]]:
        out = []
        for line in self.cleaned_data["attachments"].splitlines():
            if line.strip():
                name, _sep, digest = line.strip().rpartition(" ")
                out.append({"name": name.strip() or digest, "sha256": digest})
        return out


class QuestionForm(forms.Form):
    question = forms.CharField(label=_("问题"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ComplaintForm(forms.Form):
    text = forms.CharField(label=_("质疑内容"), widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class SupplierSearchForm(forms.Form):
    q = forms.CharField(label=_("单位名称或统一社会信用代码"), required=False, max_length=64)
    invalid = forms.BooleanField(label=_("只看统一社会信用代码未通过校验的"), required=False)


class SupplierForm(forms.Form):
    name = forms.CharField(label=_("单位名称"), max_length=128)
    credit_code = forms.CharField(label=_("统一社会信用代码"), max_length=18,
                                  help_text=_("18 位，数字和大写字母（不用 I、O、Z、S、V），末位是校验位。"),
                                  widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    address = forms.CharField(label=_("地址"), max_length=255, required=False)
    contact_name = forms.CharField(label=_("联系人"), max_length=32, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)

    def __init__(self, *args, frozen_code: str | None = None, **kwargs):
        """`frozen_code`: the supplier has bid or contracted, so its code is shown and kept as it is."""
        super().__init__(*args, **kwargs)
        self.frozen_code = frozen_code
        if frozen_code is not None:
            field = self.fields["credit_code"]
            field.disabled = True
            field.help_text = _("该供应商已参与投标或签订合同，统一社会信用代码不能修改。")

    def clean_credit_code(self) -> str:
        if self.frozen_code is not None:
            return self.frozen_code
        code = uscc.normalise(self.cleaned_data["credit_code"])
        problem = credit_code_error(code)
        if problem:
            raise forms.ValidationError(problem)
        return code


class SupplierUserForm(forms.Form):
    user = forms.TypedChoiceField(label=_("施工单位账号"), coerce=int, choices=())

    def __init__(self, *args, accounts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [(u.pk, f"{u.display_name}（{u.username}）· {u.organisation}") for u in accounts]


class CancelForm(forms.Form):
    # Not required here: the service gives the one translated message for a missing reason.
    reason = forms.CharField(label=_("终止理由（随终止公告公开）"), required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
