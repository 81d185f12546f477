"""The admin of plans and incentives: a city admin defines plan templates and each program's
incentive rules, and can read the ledger's amounts and steps. Plans, goals and milestones are
not registered: their text is case-note-grade and never shown or searched here (SECURITY.md).
The ledger is read only: entries are written through the services, and the database refuses
any other change."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from interventions.models.plans import (
    IncentiveEntry,
    IncentiveRules,
    PlanTemplate,
    PlanTemplateGoal,
)


class PlanTemplateGoalInline(admin.TabularInline):
    model = PlanTemplateGoal
    extra = 1
    fields = ("order", "domain", "description", "target_weeks", "milestones")


@admin.register(PlanTemplate)
class PlanTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "program", "is_active")
    list_filter = ("is_active", "program__organization")
    search_fields = ("name", "program__name")
    inlines = [PlanTemplateGoalInline]


@admin.register(IncentiveRules)
class IncentiveRulesAdmin(admin.ModelAdmin):
    list_display = (
        "program",
        "pays_incentives",
        "months_before_eligible",
        "monthly_cap_cents",
        "total_cap_cents",
        "max_months",
        "funds_public_grant",
        "funds_private",
    )
    list_filter = ("pays_incentives",)
    readonly_fields = ("created_at", "updated_at")


@admin.register(IncentiveEntry)
class IncentiveEntryAdmin(admin.ModelAdmin):
    """Amounts, steps and who took them; no participant name, no milestone text, no reason."""

    list_display = (
        "pk",
        "kind",
        "program",
        "month",
        "amount_cents",
        "funding_source",
        "status",
        "requested_by",
        "decided_by",
        "paid_by",
        "paid_on",
    )
    list_filter = ("status", "funding_source", "kind", "enrollment__program")
    fields = (
        "kind",
        "reverses",
        "month",
        "amount_cents",
        "funding_source",
        "status",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "paid_by",
        "paid_on",
        "payment_method",
        "payment_reference",
        "paid_recorded_at",
    )
    readonly_fields = fields
    list_select_related = ("enrollment__program", "requested_by", "decided_by", "paid_by")

    @admin.display(ordering="enrollment__program__name")
    def program(self, entry: IncentiveEntry) -> str:
        return entry.enrollment.program.name

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
