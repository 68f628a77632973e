from django.contrib import admin

from minsheng.core.models import AuditEvent, Department, Division, JurisdictionSetting


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_repr", "project_code"]
    list_filter = ["action", "object_type"]
    search_fields = ["project_code", "object_repr", "actor_label"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    search_fields = ["code", "name"]
    readonly_fields = ["path"]


admin.site.register(Department)
admin.site.register(JurisdictionSetting)
