"""Read-only admin views of the ledger: rows are written only by the ledger's services."""

from __future__ import annotations

from django.contrib import admin

from minsheng.ledger.models import Checkpoint, Leaf, Log, VerificationRun, Witness


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Log)
class LogAdmin(ReadOnly):
    list_display = ["origin", "hash_alg", "size", "updated_at"]
    exclude = ["root", "edge"]


@admin.register(Leaf)
class LeafAdmin(ReadOnly):
    list_display = ["index", "kind", "project_code", "record_model", "record_id", "created_at"]
    list_filter = ["kind"]
    search_fields = ["project_code"]
    exclude = ["data", "leaf_hash"]


@admin.register(Checkpoint)
class CheckpointAdmin(ReadOnly):
    list_display = ["log", "size", "key_id", "created_at"]
    exclude = ["root"]


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin):
    list_display = ["name", "description", "active", "created_at"]
    readonly_fields = ["vkey"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # `minsheng ledger witness-add` validates the key


@admin.register(VerificationRun)
class VerificationRunAdmin(ReadOnly):
    list_display = ["log", "started_at", "finished_at", "size", "ok"]
