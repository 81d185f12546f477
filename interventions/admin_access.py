"""The admin's part in access control: consent records, the emergency overrides (read only),
notes kept out of every admin lookup, and users whose superuser flag and one-off permissions
only a superuser can change (the city admin's permissions come from groups)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.forms import ModelForm
from django.http import HttpRequest

from interventions.admin import BaseAdmin, ReferralAdmin, SessionAdmin
from interventions.models import Consent, ConsentOverride, Referral, Session


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
        "note",
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

    list_display = ("granted_at", "user", "participant", "expires_at", "reason")
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


class NotesNeverLookedUp:
    """The admin is a city-wide view: narrative notes are neither shown nor searchable there.
    Refusing `?notes__icontains=…` keeps the changelist from answering questions about them."""

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        if "notes" in lookup.split("__"):
            return False
        return super().lookup_allowed(lookup, value, request)  # type: ignore[misc]


class SessionAdminWithoutNotes(NotesNeverLookedUp, SessionAdmin):
    pass


class ReferralAdminWithoutNotes(NotesNeverLookedUp, ReferralAdmin):
    pass


for model, model_admin in (
    (Session, SessionAdminWithoutNotes),
    (Referral, ReferralAdminWithoutNotes),
):
    admin.site.unregister(model)
    admin.site.register(model, model_admin)


User = get_user_model()


class GroupBasedUserAdmin(UserAdmin):
    """City admins manage users and give them roles (groups); only a superuser can make a
    superuser or grant a permission outside a group."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return (*readonly, "is_superuser", "user_permissions")


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, GroupBasedUserAdmin)
