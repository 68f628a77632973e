"""Admin views for citizen requests' plumbing: the portal's intake queue (read-only, with "retry now")."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from minsheng.feedback.models import Intake, IntakeStatus


@admin.register(Intake)
class IntakeAdmin(admin.ModelAdmin):
    """Submissions waiting for (or failing) registration. Rows are written by the portal and the worker
    only; an administrator who has fixed the cause (say, set up the missing unit) asks for a retry now."""

    list_display = ["receipt_code", "status", "created_at", "category", "division", "attempts", "retry_at",
                    "error"]
    list_filter = ["status", "category"]
    search_fields = ["receipt_code"]
    ordering = ["-id"]
    actions = ["retry_now"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.action(description=_("立即重新分派"), permissions=["view"])
    def retry_now(self, request, queryset) -> None:
        n = queryset.exclude(status=IntakeStatus.REGISTERED).update(retry_at=None)
        self.message_user(request, _("已安排 %(n)d 条立即重新分派。") % {"n": n}, messages.SUCCESS)
