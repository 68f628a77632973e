from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.insight.models import FindingResult, FlagKind, FlagStatus, Severity


class FlagFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("类型"), required=False, choices=[("", _("全部")), *list(FlagKind.choices)])
    severity = forms.ChoiceField(label=_("等级"), required=False, choices=[("", _("全部")), *list(Severity.choices)])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=[("", _("全部")), *list(FlagStatus.choices)])
    department = forms.TypedChoiceField(label=_("部门"), required=False, coerce=int, empty_value=None, choices=[])
    project = forms.CharField(label=_("项目代码"), required=False, max_length=32)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("全部"))] + [(d.pk, d.name) for d in departments]


class DecideForm(forms.Form):
    status = forms.ChoiceField(label=_("核查结论"), choices=FlagStatus.choices, widget=forms.RadioSelect)
    comment = forms.CharField(label=_("核查意见"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=2000)


class SampleForm(forms.Form):
    title = forms.CharField(label=_("抽查名称"), max_length=128)
    size = forms.IntegerField(label=_("样本量"), min_value=1, max_value=1000, initial=30)
    seed = forms.IntegerField(label=_("随机种子"), required=False, min_value=0, max_value=2**62,
                              help_text=_("留空则随机生成；填写相同种子可复现同一样本"))
    department = forms.TypedChoiceField(label=_("部门"), required=False, coerce=int, empty_value=None, choices=[])
    date_from = forms.DateField(label=_("申请日期自"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("申请日期至"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    stratify = forms.BooleanField(label=_("按部门分层抽样"), required=False)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].choices = [("", _("全部"))] + [(d.pk, d.name) for d in departments]


class FindingForm(forms.Form):
    result = forms.ChoiceField(label=_("结论"), choices=[(FindingResult.COMPLIANT, FindingResult.COMPLIANT.label),
                                                       (FindingResult.ISSUE, FindingResult.ISSUE.label)])
    finding = forms.CharField(label=_("检查发现"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
                              max_length=2000)
