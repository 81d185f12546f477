from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from interventions.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the trail is written by the system and the database refuses changes."""

    list_display = [
        "occurred_at",
        "username",
        "action",
        "object_type",
        "object_id",
        "participant_id",
        "outcome",
        "ip_address",
    ]
    list_filter = ["action", "outcome", "object_type", ("occurred_at", admin.DateFieldListFilter)]
    # `=` makes the id searches exact matches, which the indexes serve.
    search_fields = ["=object_id", "=participant_id", "=username", "=user__id"]
    date_hierarchy = "occurred_at"
    list_select_related = False
    show_full_result_count = False
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
