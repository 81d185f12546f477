"""A participant's demographics, outcome events, assessments and risk tier; and the quarterly
funder report with its CSV and .xlsx downloads.

Participant pages: whoever may see the participant sees their outcomes and assessments (free
text only for the organisation that wrote it); demographics only the owning organisation, or
another one under a consent that includes them; every write only the owning organisation.
Anyone else: 404.

The funder report: a manager sees their organisation (`?org=` among the ones they manage, any
other 404); a city admin, or an analyst allowed aggregates, one organisation or all, with small
counts suppressed; everyone else 403."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import access as selectors
from interventions.access import VIEW_AGGREGATES_PERMISSION
from interventions.audit import audited_view, record
from interventions.csv_export import as_download, safe_filename, stream_csv
from interventions.errors import ServiceError
from interventions.forms.outcomes import (
    AssessmentForm,
    DemographicsForm,
    OutcomeEventForm,
    ReportForm,
    RiskTierForm,
    VictimizationForm,
)
from interventions.models import Participant, PartnerOrganization
from interventions.models.outcomes import InstrumentVersion
from interventions.selectors import outcomes as outcome_selectors
from interventions.selectors.funder_report import (
    Period,
    Report,
    ReportScope,
    build_report,
    report_lines,
    report_workbook,
)
from interventions.services import outcomes as outcome_services
from interventions.views.guards import member_required

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible_participant(request: HttpRequest, participant_id: int) -> Participant:
    return get_object_or_404(
        selectors.participants_visible_to(request.user).select_related("organization"),
        pk=participant_id,
    )


def _owned_participant(request: HttpRequest, participant_id: int) -> Participant:
    """A participant of one of the user's organisations: only the owner writes these records,
    and an organisation the record is shared with gets the same 404 as anyone else."""
    return get_object_or_404(
        selectors.participants_visible_to(request.user)
        .filter(organization__in=selectors.organizations_of(request.user))
        .select_related("organization"),
        pk=participant_id,
    )


def _form_page(
    request: HttpRequest,
    participant: Participant,
    *,
    title: str,
    form: Any,
    action: str,
    submit_label: str,
    template: str = "interventions/outcomes/form.html",
    **extra: Any,
) -> HttpResponse:
    context = {
        "participant": participant,
        "title": title,
        "form": form,
        "action": action,
        "submit_label": submit_label,
        **extra,
    }
    return render(request, template, context, status=400 if form.is_bound else 200)


def _back(participant: Participant) -> HttpResponse:
    return redirect("participant_outcomes", participant_id=participant.pk)


def _published_versions() -> list[InstrumentVersion]:
    """The newest published version of each active instrument."""
    return list(
        InstrumentVersion.objects.filter(is_published=True, instrument__is_active=True)
        .select_related("instrument")
        .order_by("instrument__name", "instrument_id", "-number")
        .distinct("instrument__name", "instrument_id")
    )


# The participant's outcomes page ---------------------------------------------------------------


@member_required
@audited_view("view", "participant")
@require_GET
def participant_outcomes(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _visible_participant(request, participant_id)
    user = request.user
    is_owner = outcome_selectors.owns(user, participant)
    may_see_demographics = is_owner or outcome_selectors.may_see_demographics(user, participant)
    context: dict[str, Any] = {
        "participant": participant,
        "is_owner": is_owner,
        "may_see_demographics": may_see_demographics,
        "demographics": (
            outcome_selectors.demographics_visible_to(user, participant)
            if may_see_demographics
            else None
        ),
        "events": list(
            outcome_selectors.outcome_events_visible_to(user)
            .filter(participant=participant)
            .select_related("recorded_by", "organization")
        ),
        "histories": outcome_selectors.assessment_histories(user, participant),
        "tier_changes": list(
            outcome_selectors.tier_changes_visible_to(user)
            .filter(participant=participant)
            .select_related("changed_by", "assessment")
        ),
        "instruments": _published_versions() if is_owner else [],
    }
    if is_owner:
        context["event_form"] = OutcomeEventForm(auto_id="id_event_%s")
        incidents = outcome_services.victim_incidents_without_event(participant)
        for incident in incidents:
            # One form per incident, each with its own field ids.
            incident.victimization_form = VictimizationForm(  # type: ignore[attr-defined]
                auto_id=f"id_victim_{incident.pk}_%s"
            )
        context["victim_incidents"] = incidents
    return render(request, "interventions/outcomes/participant.html", context)


@member_required
@audited_view("view", "participant")
@require_http_methods(["GET", "POST"])
def demographics_edit(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _owned_participant(request, participant_id)
    current = outcome_selectors.demographics_visible_to(request.user, participant)
    initial = (
        {
            "gender": current.gender,
            "race_ethnicity": current.race_ethnicity,
            "preferred_language": current.preferred_language,
        }
        if current
        else {}
    )
    form = DemographicsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            outcome_services.save_demographics(
                participant=participant, by=request.user, **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Demographics saved."))
            return _back(participant)
    return _form_page(
        request,
        participant,
        title=gettext("Demographics of %(name)s") % {"name": participant.full_name},
        form=form,
        action=reverse("demographics_edit", args=[participant.pk]),
        submit_label=gettext("Save"),
    )


@member_required
@require_http_methods(["GET", "POST"])
@audited_view("view", "participant", shown_only=True)
def outcome_event_create(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _owned_participant(request, participant_id)
    form = OutcomeEventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            event = outcome_services.record_outcome_event(
                participant=participant, by=request.user, **form.cleaned_data
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, gettext("%(kind)s recorded.") % {"kind": event.get_kind_display()}
            )
            return _back(participant)
    return _form_page(
        request,
        participant,
        title=gettext("Record an outcome for %(name)s") % {"name": participant.full_name},
        form=form,
        action=reverse("outcome_event_create", args=[participant.pk]),
        submit_label=gettext("Record outcome"),
    )


@member_required
@require_POST
def victimization_from_incident(
    request: HttpRequest, participant_id: int, incident_id: int
) -> HttpResponse:
    participant = _owned_participant(request, participant_id)
    incident = get_object_or_404(
        selectors.incidents_visible_to(request.user)
        .filter(involvements__participant=participant)
        .distinct(),
        pk=incident_id,
    )
    form = VictimizationForm(request.POST)
    if form.is_valid():
        try:
            event = outcome_services.record_victimization_from_incident(
                participant=participant,
                incident=incident,
                by=request.user,
                source=form.cleaned_data["source"],
            )
        except ServiceError as error:
            messages.error(request, error.messages[0])
        else:
            messages.success(
                request,
                gettext("%(kind)s recorded from the incident.")
                % {"kind": event.get_kind_display()},
            )
    else:
        messages.error(request, gettext("Say where this was learnt."))
    return _back(participant)


@member_required
@require_http_methods(["GET", "POST"])
@audited_view("view", "participant", shown_only=True)
def risk_tier_set(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _owned_participant(request, participant_id)
    form = RiskTierForm(request.POST or None, initial={"tier": participant.risk_tier})
    if request.method == "POST" and form.is_valid():
        try:
            outcome_services.set_risk_tier_by_hand(
                participant=participant,
                by=request.user,
                tier=form.cleaned_data["tier"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Risk tier changed."))
            return _back(participant)
    return _form_page(
        request,
        participant,
        title=gettext("Set the risk tier of %(name)s by hand") % {"name": participant.full_name},
        form=form,
        action=reverse("risk_tier_set", args=[participant.pk]),
        submit_label=gettext("Set tier"),
    )


@member_required
@require_http_methods(["GET", "POST"])
@audited_view("view", "participant", shown_only=True)
def assessment_create(request: HttpRequest, participant_id: int) -> HttpResponse:
    """Answer the newest published version of the instrument named by `?instrument=<slug>`."""
    participant = _owned_participant(request, participant_id)
    slug = request.GET.get("instrument", "")
    if not slug:
        return render(
            request,
            "interventions/outcomes/instrument_choice.html",
            {"participant": participant, "versions": _published_versions()},
        )
    version = (
        InstrumentVersion.objects.filter(
            is_published=True, instrument__is_active=True, instrument__slug=slug
        )
        .select_related("instrument")
        .order_by("-number")
        .first()
    )
    if version is None:
        raise Http404("No published instrument has that name.")
    form = AssessmentForm(request.POST or None, version=version)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = outcome_services.record_assessment(
                participant=participant,
                version=version,
                by=request.user,
                answers=form.answers(),
                assessed_on=form.cleaned_data["assessed_on"],
                apply_tier=form.cleaned_data.get("apply_tier", False),
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            message = (
                gettext("Assessment recorded: %(count)s scales at cut-off, eligible.")
                if assessment.eligible
                else gettext("Assessment recorded: %(count)s scales at cut-off, not eligible.")
            )
            messages.success(request, message % {"count": assessment.scales_at_cutoff})
            return _back(participant)
    return _form_page(
        request,
        participant,
        title=gettext("%(instrument)s for %(name)s")
        % {"instrument": version.instrument.name, "name": participant.full_name},
        form=form,
        action=f"{reverse('assessment_create', args=[participant.pk])}?instrument={slug}",
        submit_label=gettext("Record assessment"),
        version=version,
    )


@member_required
@require_GET
def assessments_due(request: HttpRequest) -> HttpResponse:
    """The worker's caseload people due an intake assessment or a reassessment."""
    people = outcome_selectors.assessments_due(request.user, timezone.localdate())
    return render(
        request,
        "interventions/outcomes/assessments_due.html",
        {"people": people[:200]},
    )


# The funder report -----------------------------------------------------------------------------


def _report_for(request: HttpRequest) -> tuple[ReportForm, Report | None]:
    """The form and, when it is valid, the report the user may see. 403 for a user who may see
    no report, 404 for an organisation that is not theirs to see."""
    user = request.user
    roles = selectors.user_roles(user)
    city = selectors.CITY_ADMIN in roles or (
        selectors.ANALYST in roles and user.has_perm(VIEW_AGGREGATES_PERMISSION)
    )
    if city:
        organizations = list(PartnerOrganization.objects.filter(is_active=True).order_by("name"))
    elif selectors.MANAGER in roles:
        organizations = list(selectors.managed_organizations(user).order_by("name"))
    else:
        raise PermissionDenied(
            gettext("The funder report is for managers, city admins and analysts.")
        )
    if not organizations and not city:
        raise PermissionDenied(gettext("You manage no organisation."))
    slug = request.GET.get("org", "")
    if slug and slug not in {org.slug for org in organizations}:
        raise Http404("No organisation you may report on has that name.")
    form = ReportForm(request.GET or None, organizations=organizations, allow_all=city)
    if not form.is_bound:
        form = ReportForm(
            {"org": "" if city else organizations[0].slug},
            organizations=organizations,
            allow_all=city,
        )
    if not form.is_valid():
        return form, None
    # Only a city-wide viewer may leave the organisation empty (every organisation); a manager
    # always sees one of their own.
    chosen = form.cleaned_data["org"] or ("" if city else organizations[0].slug)
    if chosen:
        organization = next(org for org in organizations if org.slug == chosen)
        queryset = PartnerOrganization.objects.filter(pk=organization.pk)
        label = organization.name
    else:
        queryset, label = None, gettext("All partner organisations")
    scope = ReportScope(organizations=queryset, label=label, suppress_small_counts=city)
    period = Period(form.cleaned_data["start"], form.cleaned_data["end"], timezone.localdate())
    return form, build_report(scope, period)


def _download_name(report: Report, extension: str) -> str:
    scope = "all" if report.scope.organizations is None else report.scope.label
    return (
        safe_filename(
            f"funder-report-{scope}-{report.period.start:%Y-%m-%d}-to-{report.period.end:%Y-%m-%d}"
        ).removesuffix(".csv")
        + f".{extension}"
    )


def _record_export(request: HttpRequest, report: Report, extension: str) -> None:
    organization = report.scope.organizations.first() if report.scope.organizations else None
    record(
        request,
        "export",
        object_type="funder_report",
        object_id=organization.pk if organization else None,
        format=extension,
        start=report.period.start.isoformat(),
        end=report.period.end.isoformat(),
    )


@login_required
@never_cache
@require_GET
def funder_report(request: HttpRequest) -> HttpResponse:
    form, report = _report_for(request)
    query = request.GET.urlencode()
    return render(
        request,
        "interventions/outcomes/report.html",
        {"form": form, "report": report, "query": query},
        status=200 if report is not None else 400,
    )


@login_required
@never_cache
@require_GET
def funder_report_csv(request: HttpRequest) -> HttpResponse:
    # Downloaded files keep English headings (funders' templates), whatever the page language.
    with translation.override("en"):
        _form, report = _report_for(request)
    if report is None:
        return HttpResponse(
            gettext("The chosen period is not valid."), status=400, content_type="text/plain"
        )
    _record_export(request, report, "csv")
    lines = list(report_lines(report))
    return stream_csv(_download_name(report, "csv"), ["GVR Case Manager funder report"], lines)


@login_required
@never_cache
@require_GET
def funder_report_xlsx(request: HttpRequest) -> HttpResponse:
    # Downloaded files keep English headings (funders' templates), whatever the page language.
    with translation.override("en"):
        _form, report = _report_for(request)
    if report is None:
        return HttpResponse(
            gettext("The chosen period is not valid."), status=400, content_type="text/plain"
        )
    _record_export(request, report, "xlsx")
    response = HttpResponse(report_workbook(report), content_type=XLSX_TYPE)
    return as_download(response, _download_name(report, "xlsx"))
