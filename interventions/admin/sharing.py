"""The admin's part in sharing: consent records and the emergency overrides (read only). Notes
are kept out of every admin lookup by admin/base.py's NotesNeverLookedUp; users and their
groups are in admin/users.py."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from interventions.admin.base import BaseAdmin
from interventions.models import Consent, ConsentOverride


@admin.register(Consent)
class ConsentAdmin(BaseAdmin):
    list_display = (
        "participant",
        "scope",
        "organization",
        "granted_on",
        "expires_on",
        "revoked_on",
        "recorded_by",
    )
    list_filter = ("scope", "organization", "granted_on", "revoked_on")
    list_select_related = ("participant", "organization", "recorded_by")
    search_fields = ("participant__participant_code", "organization__name")
    autocomplete_fields = ("participant", "organization")
    date_hierarchy = "granted_on"
    ordering = ("-granted_on", "-id")
    show_full_result_count = False
    fields = (
        "participant",
        "scope",
        "organization",
        "granted_on",
        "expires_on",
        "revoked_on",
        "recorded_by",
        "revoked_by",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        authors = ("recorded_by", "revoked_by", "created_at", "updated_at")
        if obj is None:
            return authors
        # What was consented to is history; a consent ends by expiry or revocation.
        return ("participant", "scope", "organization", "granted_on", *authors)

    def save_model(self, request: HttpRequest, obj: Consent, form: ModelForm, change: bool) -> None:
        if not change:
            obj.recorded_by = request.user
        if obj.revoked_on is not None and obj.revoked_by_id is None:
            obj.revoked_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ConsentOverride)
class ConsentOverrideAdmin(admin.ModelAdmin):
    """Overrides are made on the override page, by the people who need them, and kept."""

    # The reason is a note about the person (interventions/notes.py): not shown here.
    list_display = ("granted_at", "user", "participant", "expires_at")
    list_select_related = ("user", "participant")
    search_fields = ("participant__participant_code", "user__username")
    date_hierarchy = "granted_at"
    ordering = ("-granted_at", "-id")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
