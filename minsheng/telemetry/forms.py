from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class AlarmActionForm(forms.Form):
    action = forms.ChoiceField(choices=[("acknowledge", _("确认")), ("clear", _("解除")), ("comment", _("备注"))])
    comment = forms.CharField(label=_("说明"), required=False, max_length=1000,
                              widget=forms.Textarea(attrs={"rows": 2}))
