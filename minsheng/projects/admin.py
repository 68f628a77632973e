from django.contrib import admin

from minsheng.projects.models import Document, GateRequest, PerformanceTarget, Project, StageTransition, WbsItem


class ReadOnlyAdmin(admin.ModelAdmin):
    """Project data is written through services (audited), never edited raw in the admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "domain", "stage", "division", "lead_department"]
    list_filter = ["stage", "domain"]
    search_fields = ["code", "name"]


for model in (WbsItem, Document, GateRequest, StageTransition, PerformanceTarget):
    admin.site.register(model, ReadOnlyAdmin)
