"""Console forms. They parse and label input; the services validate again and write.
No form here is ever saved: each produces the data dict a service takes."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from minsheng.accounts import selectors as account_selectors
from minsheng.accounts.models import User
from minsheng.core.models import Department, Division, DivisionLevel
from minsheng.projects.lifecycle import ORDER, DocumentKind, Stage
from minsheng.projects.models import Domain, Project, WbsItem

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class DivisionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Division) -> str:
        # Indent by level so the tree reads as a tree in a plain <select>.
        return "\u3000" * max(0, obj.level - 1) + obj.name


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        where = (
            obj.department.name
            if obj.department_id
            else (obj.organisation or (obj.division.name if obj.division_id else ""))
        )
        return f"{obj.display_name}（{where}）" if where else obj.display_name


class StyledForm(forms.Form):
    """Gives every widget the Tabler class it needs; labels, hints and errors are laid out by
    `console/_field.html`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.style_widgets()

    def style_widgets(self) -> None:
        for field in self.fields.values():
            widget = field.widget
            if isinstance(widget, forms.HiddenInput):
                continue
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = css


class ProjectFilterForm(StyledForm):
    q = forms.CharField(label=_("名称或项目代码"), required=False, max_length=64)
    division = DivisionChoiceField(
        label=_("区划"), queryset=Division.objects.none(), required=False, empty_label=_("全部区划")
    )
    domain = forms.ChoiceField(label=_("领域"), required=False)
    stage = forms.ChoiceField(label=_("阶段"), required=False)
    overdue = forms.BooleanField(label=_("只看有逾期子项的项目"), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Down to townships: a select of every village (hundreds) is unusable and slow to render;
        # a village's projects are found by its township or by name.
        self.fields["division"].queryset = account_selectors.divisions_visible(user).filter(
            level__lte=DivisionLevel.TOWNSHIP
        )
        self.fields["domain"].choices = [("", _("全部领域")), *Domain.choices]
        stages = [(s, Stage(s).label) for s in ORDER] + [
            (Stage.SUSPENDED, Stage.SUSPENDED.label),
            (Stage.CANCELLED, Stage.CANCELLED.label),
        ]
        self.fields["stage"].choices = [("", _("全部阶段")), *stages]


_PROJECT_FIELDS = [
    "name",
    "domain",
    "summary",
    "division",
    "lead_department",
    "responsible_person",
    "owner_unit",
    "address",
    "latitude",
    "longitude",
    "estimate_amount",
    "design_estimate_amount",
    "planned_start",
    "planned_end",
    "is_high_impact",
    "is_emergency",
    "beneficiaries_total",
    "beneficiaries_elderly",
    "beneficiaries_disabled",
    "beneficiaries_low_income",
    "beneficiaries_children",
]


class ProjectForm(StyledForm):
    """Registration and editing. Labels and widgets come from the model; choices are scoped to the user."""

    code = forms.CharField(
        label=_("项目代码"),
        required=False,
        max_length=32,
        help_text=_("已有国家项目代码时填写（24 位，可含连字符）；留空则自动生成。"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, user: Any, project: Project | None = None, **kwargs: Any) -> None:
        if project is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(project, name) for name in _PROJECT_FIELDS} | {
                "version": project.version
            }
        super().__init__(*args, **kwargs)
        self.project = project
        model_fields = forms.fields_for_model(
            Project,
            fields=_PROJECT_FIELDS,
            field_classes={"division": DivisionChoiceField, "responsible_person": PersonChoiceField},
            widgets={
                "planned_start": DATE,
                "planned_end": DATE,
                "summary": forms.Textarea(attrs={"rows": 3}),
            },
        )
        for name in _PROJECT_FIELDS:
            self.fields[name] = model_fields[name]
        self.fields["division"].queryset = account_selectors.divisions_visible(user)
        self.fields["lead_department"].queryset = account_selectors.departments_visible(
            user
        ) | Department.objects.filter(division__in=_ancestors(user)).select_related("division")
        self.fields["responsible_person"].queryset = account_selectors.staff_visible(user)
        self.fields["estimate_amount"].help_text = _("单位：元，最多两位小数。")
        self.fields["design_estimate_amount"].help_text = _("单位：元。初步设计批复后填写。")
        if project is not None:
            # The division and the code are fixed once a project is registered.
            del self.fields["division"]
            del self.fields["code"]
            self.fields["version"].required = True
        else:
            del self.fields["version"]
            self.fields["partner_departments"] = forms.ModelMultipleChoiceField(
                label=_("配合部门"),
                required=False,
                queryset=self.fields["lead_department"].queryset,
                widget=forms.SelectMultiple(attrs={"size": 5}),
            )
        self.order_fields(["code", "name", *_PROJECT_FIELDS])
        self.style_widgets()

    GROUPS = [
        (
            _("基本信息"),
            [
                "code",
                "name",
                "domain",
                "division",
                "lead_department",
                "partner_departments",
                "responsible_person",
                "owner_unit",
                "summary",
            ],
        ),
        (_("投资与工期"), ["estimate_amount", "design_estimate_amount", "planned_start", "planned_end"]),
        (_("地点"), ["address", "latitude", "longitude"]),
        (
            _("受益人群"),
            [
                "beneficiaries_total",
                "beneficiaries_elderly",
                "beneficiaries_disabled",
                "beneficiaries_low_income",
                "beneficiaries_children",
            ],
        ),
        (_("项目性质"), ["is_high_impact", "is_emergency"]),
    ]

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        return [(legend, [self[n] for n in names if n in self.fields]) for legend, names in self.GROUPS]

    def service_data(self) -> dict[str, Any]:
        """The data dict for `project_create` / `project_update`."""
        data = {
            k: v for k, v in self.cleaned_data.items() if k not in ("partner_departments", "code", "version")
        }
        if self.project is None:
            data["code"] = self.cleaned_data.get("code", "")
        else:
            data["version"] = self.cleaned_data["version"]
        return data


def _ancestors(user: Any) -> list[int]:
    if not getattr(user, "division_id", None):
        return []
    return [int(p) for p in user.division.path.strip("/").split("/") if p]


class GateRequestForm(StyledForm):
    to_stage = forms.ChoiceField(choices=Stage.choices, widget=forms.HiddenInput)
    path = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label=_("说明"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class GateDecisionForm(StyledForm):
    decision = forms.ChoiceField(
        label=_("审批意见"), choices=[("approve", _("同意")), ("refuse", _("退回"))], widget=forms.RadioSelect
    )
    comment = forms.CharField(
        label=_("意见说明"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("退回时必须写明理由。"),
    )


class ProgressForm(StyledForm):
    progress = forms.DecimalField(
        label=_("进度（%）"),
        min_value=0,
        max_value=100,
        decimal_places=1,
        max_digits=4,
        widget=forms.NumberInput(attrs={"step": "0.1", "inputmode": "decimal"}),
    )


class WbsItemForm(StyledForm):
    code = forms.CharField(label=_("编号"), max_length=16)
    name = forms.CharField(label=_("子项名称"), max_length=128)
    responsible = PersonChoiceField(label=_("责任人"), queryset=User.objects.none())
    department = forms.ModelChoiceField(
        label=_("责任部门"), queryset=Department.objects.none(), required=False
    )
    due_date = forms.DateField(label=_("完成时限"), widget=DATE)
    weight = forms.DecimalField(label=_("权重"), initial=1, min_value=0.01, max_digits=6, decimal_places=2)
    parent = forms.ModelChoiceField(
        label=_("上级子项"), queryset=WbsItem.objects.none(), required=False, empty_label=_("无（顶层子项）")
    )

    def __init__(self, *args: Any, user: Any, items: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["responsible"].queryset = account_selectors.staff_visible(user)
        self.fields["department"].queryset = account_selectors.departments_visible(user)
        self.fields["parent"].queryset = items


class DocumentForm(StyledForm):
    kind = forms.ChoiceField(label=_("文件类别"), choices=DocumentKind.choices)
    title = forms.CharField(label=_("标题"), max_length=128)
    file = forms.FileField(label=_("文件"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("PDF、PNG、JPEG、DOCX、XLSX、OFD 或 ZIP，不超过 %(mb)d MB。") % {
            "mb": settings.MINSHENG_MAX_UPLOAD_BYTES // (1024 * 1024)
        }
