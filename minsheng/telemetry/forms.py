from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Division
from minsheng.telemetry.metrics import DeviceKind
from minsheng.telemetry.models import Device


class AlarmActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("acknowledge", _("确认")), ("clear", _("解除")), ("comment", _("备注"))])
    comment = forms.CharField(label=_("说明"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class DeviceForm(forms.Form):
    """Register a device on a project (its credential is shown once, after saving)."""

    device_id = forms.SlugField(label=_("设备编号"), max_length=64,
                                help_text=_("3–64 位小写字母、数字、下划线或连字符，与设备上报时使用的编号一致。"))
    kind = forms.ChoiceField(label=_("类型"), choices=DeviceKind.choices)
    name = forms.CharField(label=_("名称"), max_length=128)
    location = forms.CharField(label=_("安装位置"), max_length=128, required=False)
    latitude = forms.DecimalField(label=_("纬度"), max_digits=9, decimal_places=6, required=False,
                                  min_value=-90, max_value=90)
    longitude = forms.DecimalField(label=_("经度"), max_digits=9, decimal_places=6, required=False,
                                   min_value=-180, max_value=180)
    household = forms.CharField(label=_("用水户"), max_length=64, required=False)
    small_supply = forms.BooleanField(
        label=_("小型供水工程"), required=False,
        help_text=_("小型集中式供水或分散式供水（如村级小水厂、水窖）：按 GB 5749-2022 适用放宽的浑浊度等限值。"
                    "只对水表、总表和水质监测仪有效。"))
    offline_after_minutes = forms.IntegerField(label=_("离线判定（分钟）"), initial=30, min_value=1, max_value=10080)


class BackgroundStationForm(forms.Form):
    division = forms.ModelChoiceField(label=_("区划"), queryset=Division.objects.none(), empty_label=_("请选择"))
    device = forms.ModelChoiceField(label=_("作为背景站的扬尘监测设备"), queryset=Device.objects.none(),
                                    empty_label=_("请选择"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from minsheng.telemetry import selectors

        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = selectors.background_divisions(user)
        self.fields["device"].queryset = selectors.background_candidates(user)
        self.fields["device"].label_from_instance = lambda d: f"{d.name}（{d.device_id}）· {d.project.name}"
