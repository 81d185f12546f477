"""The metrics dashboard and its CSV download: city admins and analysts (every organisation,
small counts suppressed) and managers (their own organisation's activity and response reach);
outcome figures, official ones and the counts of incidents recorded here, are public. Everyone
else gets 403."""

from __future__ import annotations

from datetime import date

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from interventions.audit import record
from interventions.csv_export import csv_response
from interventions.models import Area
from metrics import selectors
from metrics.dashboard import build_dashboard, csv_rows
from metrics.forms import DashboardForm
from metrics.selectors import DashboardScope


def _scope_or_403(request: HttpRequest) -> DashboardScope:
    scope = selectors.dashboard_scope(request.user)
    if scope is None:
        raise PermissionDenied("The metrics dashboard is for city admins, managers and analysts.")
    return scope


def _with_defaults(query: QueryDict) -> QueryDict:
    """The request's choices, with sensible ones where it made none: the area with outcome
    figures, its latest year against three years before, from January of the baseline year to
    this month."""
    data = query.copy()
    area = None
    if not data.get("area"):
        area = selectors.default_area()
        if area is not None:
            data["area"] = area.slug
    if not data.get("comparison_year") or not data.get("baseline_year"):
        if area is None and data.get("area"):
            area = Area.objects.filter(slug=data["area"]).first()
        latest = selectors.latest_outcome_year(area) if area else None
        this_year = timezone.localdate().year
        comparison = latest or this_year - 1
        data.setdefault("comparison_year", str(comparison))
        data.setdefault("baseline_year", str(comparison - 3))
    if not data.get("start"):
        try:
            data["start"] = f"{int(data['baseline_year']):04d}-01"
        except ValueError:
            data["start"] = f"{timezone.localdate().year - 4:04d}-01"
    if not data.get("end"):
        data["end"] = f"{timezone.localdate():%Y-%m}"
    data.setdefault("activity", "area")
    return data


def _dashboard_data(form: DashboardForm, scope: DashboardScope) -> dict[str, object] | None:
    if not form.is_valid():
        return None
    cleaned = form.cleaned_data
    start: date = cleaned["start"]
    end: date = cleaned["end"]
    return build_dashboard(
        scope=scope,
        area=cleaned["area"],
        measures=cleaned["measures"],
        start=start,
        end=end,
        baseline_year=cleaned["baseline_year"],
        comparison_year=cleaned["comparison_year"],
        compare_area=cleaned["compare_area"],
        activity_in_area=cleaned["activity"] == "area",
    )


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    query = _with_defaults(request.GET)
    form = DashboardForm(query)
    data = _dashboard_data(form, scope)
    return render(
        request,
        "metrics/dashboard.html",
        {"form": form, "data": data, "query": query.urlencode(), "scope": scope},
        status=200 if data is not None else 400,
    )


@login_required
@require_GET
def dashboard_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    form = DashboardForm(_with_defaults(request.GET))
    data = _dashboard_data(form, scope)
    if data is None:
        errors = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in form.errors.items()
        )
        return HttpResponse(
            f"The chosen filters are not valid: {errors}",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    cleaned = form.cleaned_data
    filename = (
        f"metrics-{cleaned['area'].slug}-{cleaned['start']:%Y-%m}-to-{cleaned['end']:%Y-%m}.csv"
    )
    record(
        request,
        "export",
        object_type="metrics_export",
        object_id=cleaned["area"].pk,
        format="csv",
        area=cleaned["area"].slug,
    )
    return csv_response(filename, csv_rows(data))
