from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.construction.models import ObservationKind, Weather


class LogForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    weather = forms.ChoiceField(label=_("天气"), choices=Weather.choices)
    work_done = forms.CharField(label=_("当日施工内容"), widget=forms.Textarea(attrs={"rows": 3}))
    workers = forms.IntegerField(label=_("作业人数"), min_value=0)
    issues = forms.CharField(label=_("发现的问题"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class InspectionForm(forms.Form):
    inspected_at = forms.DateTimeField(label=_("检查时间"),
                                       widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    checklist = forms.CharField(
        label=_("检查项"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一项：检查内容=合格/有缺陷/不适用，例如“临边防护=有缺陷”。"))
    passed = forms.BooleanField(label=_("检查合格"), required=False)
    notes = forms.CharField(label=_("检查意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    village_representative = forms.CharField(label=_("随同村民代表"), required=False, max_length=64)
    photo = forms.FileField(label=_("现场照片"), required=False)
    photo_taken_at = forms.DateTimeField(label=_("拍摄时间"), required=False,
                                         widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    photo_latitude = forms.DecimalField(label=_("拍摄地纬度"), required=False, max_digits=9, decimal_places=6)
    photo_longitude = forms.DecimalField(label=_("拍摄地经度"), required=False, max_digits=9, decimal_places=6)

    ANSWERS = {"合格": "ok", "有缺陷": "defect", "不适用": "na", "ok": "ok", "defect": "defect", "na": "na"}

    def clean_checklist(self) -> dict[str, str]:
        result: dict[str, str] = {}
        for line in self.cleaned_data["checklist"].splitlines():
            if not line.strip():
                continue
            question, sep, answer = line.partition("=")
            if not sep or answer.strip() not in self.ANSWERS or not question.strip():
                raise forms.ValidationError(_("无法识别：“%(line)s”。格式为“检查内容=合格/有缺陷/不适用”。")
                                            % {"line": line.strip()[:40]})
            result[question.strip()] = self.ANSWERS[answer.strip()]
        return result


class RectificationForm(forms.Form):
    defect = forms.CharField(label=_("问题描述"), widget=forms.Textarea(attrs={"rows": 2}))
    deadline = forms.DateField(label=_("整改期限"), widget=forms.DateInput(attrs={"type": "date"}))


class CloseForm(forms.Form):
    reinspection = forms.IntegerField(label=_("复查记录"), widget=forms.HiddenInput)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultiplePhotoField(forms.FileField):
    """Several photos in one field (the services check each one)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultiplePhotoField, self).clean(d, initial) for d in data if d]
        return [super().clean(data, initial)] if data else []


class ObservationForm(forms.Form):
    kind = forms.ChoiceField(label=_("看到的是哪方面的情况"), choices=ObservationKind.choices,
                             widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
                             initial=ObservationKind.PROGRESS)
    text = forms.CharField(label=_("看到的情况"), max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 4, "class": "form-control"}),
                           help_text=_("写清楚在哪里、看到了什么，例如：村口管道沟挖开三天没有回填。"))
    concern = forms.BooleanField(label=_("需要监理或项目负责人来处理"), required=False,
                                 widget=forms.CheckboxInput(attrs={"class": "form-check-input"}))
    photos = MultiplePhotoField(label=_("照片（可选，最多 6 张）"), required=False,
                                help_text=_("JPEG 或 PNG；照片里的拍摄地点等信息会被删除后再保存。"))
