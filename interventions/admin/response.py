"""Admin registrations of the shooting-response models (imported from the end of admin.py).

Street groups, ties and conflicts are shown only to staff holding their model permissions
(Django's own admin permissions); the web pages use the view_street_intelligence permission.
An incident saved here queues the generation of its response tasks, as the web form does."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from interventions.models import (
    CallIn,
    CustomNotification,
    GroupConflict,
    GroupTie,
    Incident,
    IncidentGroup,
    IncidentParticipant,
    ResponseTask,
    ReviewDecision,
    ShootingReview,
    StreetGroup,
)
from interventions.services import response as response_services

TIMESTAMPS = ("created_at", "updated_at")


class GroupTieInline(admin.TabularInline):
    model = GroupTie
    extra = 0
    raw_id_fields = ("participant",)
    fields = ("participant", "kind", "since", "until", "source")


@admin.register(StreetGroup)
class StreetGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "area", "status")
    list_filter = ("status", "area")
    list_select_related = ("area",)
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = TIMESTAMPS
    inlines = [GroupTieInline]


@admin.register(GroupTie)
class GroupTieAdmin(admin.ModelAdmin):
    list_display = ("participant", "group", "kind", "since", "until")
    list_filter = ("kind", "group")
    list_select_related = ("participant", "group")
    raw_id_fields = ("participant",)
    search_fields = ("participant__participant_code", "participant__last_name", "group__name")
    readonly_fields = TIMESTAMPS


@admin.register(GroupConflict)
class GroupConflictAdmin(admin.ModelAdmin):
    list_display = ("group_a", "group_b", "status", "since")
    list_filter = ("status",)
    list_select_related = ("group_a", "group_b")
    autocomplete_fields = ("group_a", "group_b")
    readonly_fields = TIMESTAMPS


class IncidentParticipantInline(admin.TabularInline):
    model = IncidentParticipant
    extra = 1
    raw_id_fields = ("participant",)


class IncidentGroupInline(admin.TabularInline):
    model = IncidentGroup
    extra = 1
    autocomplete_fields = ("group",)


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin):
    list_display = ("occurred_at", "kind", "area", "victim_count", "organization", "entered_by")
    list_filter = ("kind", "area", "organization")
    list_select_related = ("area", "organization", "entered_by")
    date_hierarchy = "occurred_at"
    fields = (
        "kind",
        "occurred_at",
        "area",
        "location_description",
        "victim_count",
        "organization",
        "entered_by",
        *TIMESTAMPS,
    )
    readonly_fields = ("entered_by", *TIMESTAMPS)
    inlines = [IncidentParticipantInline, IncidentGroupInline]

    def save_model(
        self, request: HttpRequest, obj: Incident, form: ModelForm, change: bool
    ) -> None:
        if not change:
            obj.entered_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(
        self, request: HttpRequest, form: ModelForm, formsets: Any, change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # After the links are saved, so the task sees them; tasks already made are kept.
        response_services.enqueue_response_tasks(form.instance.pk)


@admin.register(ResponseTask)
class ResponseTaskAdmin(admin.ModelAdmin):
    list_display = ("participant", "kind", "reason", "assigned_worker", "due_at", "status")
    list_filter = ("status", "kind", "reason", "organization")
    list_select_related = ("participant", "assigned_worker")
    raw_id_fields = ("incident", "participant", "assigned_worker", "completed_session")
    readonly_fields = (
        "incident",
        "participant",
        "organization",
        "kind",
        "reason",
        "via_group",
        "due_at",
        "completed_session",
        "completed_at",
        "completed_by",
        *TIMESTAMPS,
    )
    fields = (*readonly_fields[:7], "assigned_worker", "status", *readonly_fields[7:])

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Tasks come from incidents, never by hand.
        return False


@admin.register(CallIn)
class CallInAdmin(admin.ModelAdmin):
    list_display = ("held_on", "place", "organization", "area")
    list_filter = ("organization", "area")
    list_select_related = ("organization", "area")
    raw_id_fields = ("attendees",)
    readonly_fields = TIMESTAMPS


@admin.register(CustomNotification)
class CustomNotificationAdmin(admin.ModelAdmin):
    list_display = ("participant", "delivered_on", "message_delivered", "response", "organization")
    list_filter = ("message_delivered", "response", "organization")
    list_select_related = ("participant", "organization")
    raw_id_fields = ("participant",)
    filter_horizontal = ("deliverers",)
    readonly_fields = TIMESTAMPS


class ReviewDecisionInline(admin.TabularInline):
    model = ReviewDecision
    extra = 1
    raw_id_fields = ("assigned_to",)


@admin.register(ShootingReview)
class ShootingReviewAdmin(admin.ModelAdmin):
    list_display = ("period_start", "period_end", "organization", "recorded_by")
    list_select_related = ("organization", "recorded_by")
    raw_id_fields = ("recorded_by",)
    readonly_fields = TIMESTAMPS
    inlines = [ReviewDecisionInline]
