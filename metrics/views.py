"""The metrics dashboard and its CSV download: city admins and analysts (every organisation,
small counts suppressed) and managers (their own organisation's activity and response reach);
outcome figures, official ones and the counts of incidents recorded here, are public. Everyone
else gets 403."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods

from interventions.audit import record
from interventions.csv_export import as_download, csv_response
from interventions.models import Area
from metrics import city_claims, extract, selectors, services
from metrics.dashboard import build_dashboard, csv_rows, evaluation_context
from metrics.forms import ClaimsForm, DashboardForm, EvaluateForm, ExtractForm
from metrics.selectors import DashboardScope


def _scope_or_403(request: HttpRequest) -> DashboardScope:
    scope = selectors.dashboard_scope(request.user)
    if scope is None:
        raise PermissionDenied(
            gettext("The metrics dashboard is for city admins, managers and analysts.")
        )
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
    # Downloaded files keep English headings and labels, whatever the language of the page.
    with translation.override("en"):
        return _dashboard_csv(request)


def _dashboard_csv(request: HttpRequest) -> HttpResponse:
    scope = _scope_or_403(request)
    form = DashboardForm(_with_defaults(request.GET))
    data = _dashboard_data(form, scope)
    if data is None:
        errors = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in form.errors.items()
        )
        return HttpResponse(
            gettext("The chosen filters are not valid: %(errors)s") % {"errors": errors},
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
    return csv_response(filename, list(csv_rows(data)))


# --- Evaluate: did it work? -----------------------------------------------------------------


def _evaluate_form(request: HttpRequest, scope: DashboardScope) -> EvaluateForm:
    areas = selectors.evaluable_areas(scope)
    if not request.GET.get("area"):
        default = selectors.default_area_among(areas)
        return EvaluateForm(areas=areas, initial={"area": default.slug if default else None})
    return EvaluateForm(request.GET, areas=areas)


@login_required
@require_GET
def evaluate(request: HttpRequest) -> HttpResponse:
    """The evaluation page: the question on the left, the answer (sentence, table, warnings,
    chart, the simple baseline change beside it) once asked. A long fit goes to a worker and
    the page says so and looks again shortly."""
    scope = _scope_or_403(request)
    form = _evaluate_form(request, scope)
    context: dict[str, object] = {"form": form, "scope": scope, "query": request.GET.urlencode()}
    status = 200
    if form.is_bound and form.is_valid():
        try:
            prepared = services.prepare_evaluation(form.inputs())
        except services.ServiceError as refusal:
            context["refusal"] = str(refusal)
            return render(request, "metrics/evaluate.html", context, status=400)
        result = services.cached_evaluation(prepared)
        try:
            if result is None and prepared.long and not settings.CELERY_TASK_ALWAYS_EAGER:
                prepared.check()  # a refusal is shown now, never sent to a worker
                services.request_evaluation(prepared)
                context["pending"] = True
                return render(request, "metrics/evaluate.html", context, status=202)
            if result is None:
                result = services.evaluate_prepared(prepared)
        except services.ServiceError as refusal:
            context["refusal"] = str(refusal)
            return render(request, "metrics/evaluate.html", context, status=400)
        context.update(evaluation_context(result, form.cleaned_data["measure"]))
    elif form.is_bound:
        status = 400
    return render(request, "metrics/evaluate.html", context, status=status)


def _evaluation_or_error(
    request: HttpRequest, *, export_format: str
) -> dict[str, object] | HttpResponse:
    """The result a download asks for, recorded in the audit trail as an export; or the
    response that says why there is none."""
    scope = _scope_or_403(request)
    form = _evaluate_form(request, scope)
    if not form.is_bound or not form.is_valid():
        errors = "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in form.errors.items()
        )
        return HttpResponse(
            gettext("The chosen evaluation is not valid: %(errors)s")
            % {"errors": errors or gettext("choose an area")},
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    try:
        result = services.evaluate_outcome(form.inputs())
    except services.ServiceError as refusal:
        return HttpResponse(str(refusal), status=400, content_type="text/plain; charset=utf-8")
    record(
        request,
        "export",
        object_type="evaluation_export",
        format=export_format,
        measure=form.cleaned_data["measure"],
        area=str(result["area"]),
    )
    return result


def _download_name(result: dict[str, object], extension: str) -> str:
    return (
        f"evaluation-{result['area']}-start-{result['start']}-"
        f"{result['window_from']}-to-{result['window_to']}.{extension}"
    )


@login_required
@require_GET
def evaluate_csv(request: HttpRequest) -> HttpResponse:
    """The fitted series of the program's area: month, observed, fitted, counterfactual."""
    answer = _evaluation_or_error(request, export_format="csv")
    if isinstance(answer, HttpResponse):
        return answer
    result = answer
    rows: list[list[object]] = [["month", "observed", "fitted", "counterfactual"]]
    for row in result["series"]:  # type: ignore[attr-defined]
        rows.append([row["month"], row["observed"], row["fitted"], row["counterfactual"]])
    return csv_response(_download_name(result, "csv"), rows)


@login_required
@require_GET
def evaluate_json(request: HttpRequest) -> HttpResponse:
    """The whole result, the same object `manage.py evaluate --format json` prints."""
    answer = _evaluation_or_error(request, export_format="json")
    if isinstance(answer, HttpResponse):
        return answer
    result = answer
    return as_download(JsonResponse(result), _download_name(result, "json"))


# --- The de-identified extract for outside evaluators --------------------------------------


def _city_scope_or_403(request: HttpRequest) -> DashboardScope:
    scope = _scope_or_403(request)
    if scope.organizations is not None:
        raise PermissionDenied(gettext("The evaluator extract is for city admins and analysts."))
    return scope


@login_required
@require_http_methods(["GET", "POST"])
def evaluator_extract(request: HttpRequest) -> HttpResponse:
    """GET: the form, with a fresh key. POST: the zip, audited with its parameters (never the
    key). A POST keeps the key out of the address bar, logs and history."""
    _city_scope_or_403(request)
    if request.method == "GET":
        form = ExtractForm(initial={"key": extract.new_key()})
        return render(request, "metrics/extract.html", {"form": form})
    form = ExtractForm(request.POST)
    if not form.is_valid():
        return render(request, "metrics/extract.html", {"form": form}, status=400)
    cleaned = form.cleaned_data
    organizations = list(cleaned["organizations"])
    built = extract.build_extract(
        extract.ExtractRequest(
            organizations=organizations,
            start=cleaned["start"],
            end=cleaned["end"],
            key=cleaned["key"],
        )
    )
    record(
        request,
        "export",
        object_type="evaluator_extract",
        format="zip",
        start=f"{cleaned['start']:%Y-%m}",
        end=f"{cleaned['end']:%Y-%m}",
        organizations=",".join(sorted(org.slug for org in organizations)),
        people_rows=built.people_rows,
        area_rows=built.area_rows,
    )
    filename = f"evaluator-extract-{cleaned['start']:%Y-%m}-to-{cleaned['end']:%Y-%m}.zip"
    return as_download(HttpResponse(built.content, content_type="application/zip"), filename)


# --- City claims, checked -------------------------------------------------------------------


@login_required
@require_GET
def claims(request: HttpRequest) -> HttpResponse:
    """The claims a city makes (group share, rank among areas, lowest since, against 2019),
    computed from the counts with the counts shown. Public figures: every dashboard viewer."""
    _scope_or_403(request)
    data = request.GET.copy()
    if not data.get("area"):
        area = selectors.default_area()
        if area is not None:
            data["area"] = area.slug
    data.setdefault("measure", "homicide")
    form = ClaimsForm(data)
    context: dict[str, object] = {"form": form}
    if not form.is_valid():
        return render(request, "metrics/claims.html", context, status=400)
    context["claims"] = city_claims.build_claims(
        form.cleaned_data["area"],
        form.cleaned_data["measure"],
        program_start=form.cleaned_data["program_start"],
    )
    return render(request, "metrics/claims.html", context)
