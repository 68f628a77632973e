"""Forms for the citizen portal and the handling console. Forms only parse; services validate rules."""

from __future__ import annotations

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.core import jurisdiction
from minsheng.core.models import Department, Division, DivisionLevel
from minsheng.feedback.models import Category, Kind, Urgency


class CitizenDivisionField(forms.ModelChoiceField):
    """A division at county level or below (where requests are handled). The list shown is the ORM
    queryset; the submitted value is looked up in the jurisdiction memo (divisions change rarely, and a
    change publishes a new version), because on the portal's busiest path the query cost more than
    everything else the form does."""

    LEVEL = DivisionLevel.COUNTY

    def __init__(self, **kwargs):
        super().__init__(queryset=Division.objects.filter(level__gte=self.LEVEL).order_by("code"), **kwargs)

    def to_python(self, value):
        if value in self.empty_values:
            return None
        try:
            pk = int(str(value))
        except ValueError:
            pk = 0
        found = jurisdiction.division_get(pk, min_level=self.LEVEL) if 0 < pk < 2**63 else None
        if found is None:
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice",
                                        params={"value": value})
        return found


class SubmitForm(forms.Form):
    # Choices as callables: a form copies its fields for every request, and a list of choices is copied
    # item by item (a third of the form's set-up) while a callable is not.
    kind = forms.ChoiceField(label=_("诉求类型"), choices=lambda: Kind.choices, widget=forms.RadioSelect)
    category = forms.ChoiceField(label=_("诉求分类"), choices=lambda: [("", _("请选择")), *Category.choices])
    division = CitizenDivisionField(label=_("所在地区"), empty_label=_("请选择"), required=False)
    description = forms.CharField(label=_("诉求内容"), widget=forms.Textarea(attrs={"rows": 5}), max_length=2000,
                                  help_text=_("请写清楚发生了什么、在哪里、希望怎样解决。"))
    address = forms.CharField(label=_("具体地点"), required=False, max_length=255)
    latitude = forms.CharField(label=_("纬度"), required=False, widget=forms.HiddenInput)
    longitude = forms.CharField(label=_("经度"), required=False, widget=forms.HiddenInput)
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=lambda: Urgency.choices, initial=Urgency.NORMAL)
    photo = forms.FileField(label=_("照片（可选）"), required=False,
                            help_text=_("JPEG、PNG 或 WebP，不超过 5 MB；照片中的位置信息会被删除。"),
                            widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png,image/webp"}))
    name = forms.CharField(label=_("称呼（可选）"), required=False, max_length=32)
    phone = forms.CharField(label=_("手机号"), required=False, max_length=20,
                            help_text=_("咨询和建议可以不留手机号；投诉和举报需要验证手机号。"),
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    code = forms.CharField(label=_("短信验证码"), required=False, max_length=6,
                           widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))
    email = forms.CharField(label=_("电子邮箱（可选）"), required=False, max_length=254,
                            help_text=_("留了邮箱的，办理进展也会发到邮箱。"),
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    # Shown only after several submissions from one address or phone (captcha.py).
    captcha_token = forms.CharField(required=False, widget=forms.HiddenInput, max_length=200)
    captcha_answer = forms.CharField(label=_("验证码答案"), required=False, max_length=8,
                                     widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))

    # A fresh key each time the form is shown: the same page sent twice (a double click, the phone's
    # offline queue resending after a lost answer) is one submission (intake.store).
    submission_key = forms.CharField(required=False, widget=forms.HiddenInput, max_length=64)

    CAPTCHA_FIELDS = ("captcha_token", "captcha_answer")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["submission_key"].initial = uuid.uuid4().hex


class LookupForm(forms.Form):
    receipt_code = forms.CharField(label=_("受理编号"), max_length=16)
    phone = forms.CharField(label=_("手机号"), required=False, max_length=20,
                            help_text=_("提交时留了手机号的，请填写同一号码。"))


class ReopenForm(LookupForm):
    reason = forms.CharField(label=_("重新办理的原因"), widget=forms.Textarea(attrs={"rows": 3}), max_length=500)


class CitizenVisitForm(LookupForm):
    """The citizen's own return visit (回访) on the lookup page, once the unit has replied."""

    resolved = forms.TypedChoiceField(label=_("您反映的问题解决了吗？"), coerce=lambda v: v == "1",
                                      choices=[("1", _("已经解决")), ("0", _("没有解决"))], widget=forms.RadioSelect)
    satisfaction = forms.TypedChoiceField(
        label=_("您对办理满意吗？"), coerce=int, widget=forms.RadioSelect,
        choices=[(5, _("5 分：非常满意")), (4, _("4 分：满意")), (3, _("3 分：基本满意")), (2, _("2 分：不满意")),
                 (1, _("1 分：非常不满意"))])
    comment = forms.CharField(label=_("还想说的话（可选）"), required=False, max_length=500,
                              widget=forms.Textarea(attrs={"rows": 3}))


class HotlineForm(SubmitForm):
    """The operator's screen: the caller's number as heard, no code."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("code", "photo", "submission_key", *self.CAPTCHA_FIELDS):
            del self.fields[name]
        self.fields["phone"].help_text = _("来电号码")


class NoteForm(forms.Form):
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class ReplyForm(forms.Form):
    text = forms.CharField(label=_("答复内容"), widget=forms.Textarea(attrs={"rows": 4}), required=False)


class VisitForm(forms.Form):
    resolved = forms.TypedChoiceField(label=_("问题是否解决"), choices=[("1", _("已解决")), ("0", _("未解决"))],
                                      coerce=lambda v: v == "1", widget=forms.RadioSelect)
    satisfaction = forms.TypedChoiceField(label=_("满意度"), coerce=int,
                                          choices=[(i, str(i)) for i in range(5, 0, -1)])
    comment = forms.CharField(label=_("回访意见"), required=False, max_length=500)


class TransferForm(forms.Form):
    to_unit = forms.ModelChoiceField(label=_("转给"), queryset=Department.objects.select_related("division"))
    reason = forms.CharField(label=_("转办理由"), required=False, max_length=500)


class DecideForm(forms.Form):
    unit = forms.ModelChoiceField(label=_("指定承办单位"), queryset=Department.objects.select_related("division"))


class MetricsForm(forms.Form):
    group = forms.ChoiceField(label=_("分组"), choices=[("department", _("按部门")), ("division", _("按区划")),
                                                       ("month", _("按月份"))], required=False,
                              widget=forms.RadioSelect)
