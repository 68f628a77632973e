"""The "projects near me" (进度查询) form: a point (from the phone's location) or a division."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from minsheng.core.models import Division, DivisionLevel

RADII = [("1000", _("1 公里内")), ("3000", _("3 公里内")), ("10000", _("10 公里内"))]


class NearForm(forms.Form):
    division = forms.ModelChoiceField(label=_("选择您所在的社区或村"), queryset=Division.objects.none(),
                                      required=False, empty_label=_("请选择"))
    lat = forms.DecimalField(label=_("纬度"), required=False, min_value=Decimal(-90), max_value=Decimal(90),
                             max_digits=9, decimal_places=6, widget=forms.HiddenInput)
    lng = forms.DecimalField(label=_("经度"), required=False, min_value=Decimal(-180), max_value=Decimal(180),
                             max_digits=10, decimal_places=6, widget=forms.HiddenInput)
    radius = forms.ChoiceField(label=_("范围"), choices=RADII, initial="3000", required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["division"].queryset = (Division.objects.filter(level__gte=DivisionLevel.COUNTY)
                                            .select_related("parent").order_by("path"))
        self.fields["division"].label_from_instance = lambda d: (
            f"{d.parent.name} · {d.name}" if d.parent_id and d.level > DivisionLevel.COUNTY else d.name)

    def clean(self):
        cd = super().clean()
        if (cd.get("lat") is None) != (cd.get("lng") is None):
            raise forms.ValidationError(_("位置不完整，请重新获取位置或选择社区（村）。"))
        return cd
