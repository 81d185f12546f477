"""Admin: outcome figures (with a CSV upload on the changelist), populations, and read-only
views of the rollup tables."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from metrics.forms import OutcomeUploadForm
from metrics.importer import ImportRefused, import_outcomes
from metrics.models import ActivityRollup, AreaPopulation, CrimeOutcome, RollupFillState


@admin.register(AreaPopulation)
class AreaPopulationAdmin(admin.ModelAdmin):
    list_display = ("area", "year", "population", "source")
    list_filter = ("year",)
    search_fields = ("area__name", "area__slug")
    list_select_related = ("area",)


@admin.register(CrimeOutcome)
class CrimeOutcomeAdmin(admin.ModelAdmin):
    list_display = ("area", "period_label", "granularity", "measure", "count", "source")
    list_filter = ("measure", "granularity", "area")
    search_fields = ("area__name", "area__slug", "source", "note")
    list_select_related = ("area",)
    date_hierarchy = "period_start"
    change_list_template = "metrics/admin/crimeoutcome_change_list.html"

    @admin.display(description=_("Period"), ordering="period_start")
    def period_label(self, outcome: CrimeOutcome) -> str:
        return outcome.period_label

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="metrics_crimeoutcome_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        problems: list[str] = []
        if request.method == "POST":
            form = OutcomeUploadForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                try:
                    result = import_outcomes(upload.file, name=upload.name, size=upload.size)
                except ImportRefused as refused:
                    problems = refused.problems
                else:
                    self.message_user(request, result.summary(), messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:metrics_crimeoutcome_changelist"))
        else:
            form = OutcomeUploadForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": gettext("Import crime outcomes from CSV"),
            "form": form,
            "problems": problems,
        }
        return TemplateResponse(request, "metrics/admin/import_outcomes.html", context)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rebuilt by the refresh; editing a row by hand would be overwritten, so nobody can."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(ActivityRollup)
class ActivityRollupAdmin(ReadOnlyAdmin):
    list_display = (
        "month",
        "organization",
        "program_kind",
        "area",
        "sessions",
        "contact_minutes",
        "participants_served",
        "new_enrollments",
        "exits",
        "referrals_made",
        "referrals_completed",
    )
    list_filter = ("program_kind", "organization")
    list_select_related = ("organization", "area")
    date_hierarchy = "month"


@admin.register(RollupFillState)
class RollupFillStateAdmin(ReadOnlyAdmin):
    list_display = ("month", "refreshed_at")
