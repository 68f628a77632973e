"""Background work for projects: thin wrappers that call services/selectors."""

from __future__ import annotations

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from minsheng.accounts.models import User
from minsheng.core.services import notify
from minsheng.projects.lifecycle import Stage
from minsheng.projects.models import GateRequest, StageTransition, WbsItem


@task()
def notify_gate_approvers(request_id: int) -> int:
    """Tell every person who could fill an open slot that a gate waits for them."""
    from minsheng.projects.services import open_slots_for

    request = GateRequest.objects.select_related("project", "project__division", "project__lead_department").get(
        pk=request_id
    )
    project = request.project
    ancestors = [int(p) for p in project.division_path.strip("/").split("/") if p]
    candidates = User.objects.filter(is_active=True, division_id__in=ancestors).select_related("division",
                                                                                              "department")
    sent = 0
    link = reverse("console:project", args=[project.pk])
    for user in candidates:
        if open_slots_for(user, request):
            text = _("待审批：%(p)s 申请进入“%(s)s”") % {"p": project.name, "s": Stage(request.to_stage).label}
            if notify(recipient=user, kind="gate.pending", text=text, link=link, dedupe_key=f"gate:{request.pk}"):
                sent += 1
    return sent


@task()
def notify_stage_changed(transition_id: int) -> None:
    t = StageTransition.objects.select_related("project").get(pk=transition_id)
    text = _("%(p)s 已进入“%(s)s”阶段") % {"p": t.project.name, "s": Stage(t.to_stage).label}
    notify(recipient=t.project.responsible_person, kind="project.stage", text=text,
           link=reverse("console:project", args=[t.project_id]), dedupe_key=f"transition:{t.pk}")


@task()
def notify_overdue_wbs() -> int:
    """Daily: tell each responsible person about sub-items that became overdue (once per item)."""
    today = timezone.localdate()
    sent = 0
    items = WbsItem.objects.filter(Q(due_date__lt=today) & Q(progress__lt=100)).select_related("project", "responsible")
    for item in items.iterator(chunk_size=2000):
        text = _("子项已逾期：%(p)s · %(i)s（时限 %(d)s）") % {"p": item.project.name, "i": item.name,
                                                          "d": item.due_date.isoformat()}
        if notify(recipient=item.responsible, kind="wbs.overdue", text=text,
                  link=reverse("console:project", args=[item.project_id]), dedupe_key=f"overdue:{item.pk}"):
            sent += 1
    return sent

