"""The nonprofit manager's pages: the organisation dashboard, its participants (filter, sort,
assign workers), its sessions and waiting referrals, and the CSV exports for grant reports.

A manager sees the organisation they manage (with `?org=<slug>` choosing among several); anyone
who manages no organisation gets 403, a slug that is not theirs 404."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from interventions import access
from interventions.audit import record
from interventions.csv_export import stream_csv
from interventions.dates import previous_month
from interventions.errors import ServiceError
from interventions.forms.filters import (
    AssignWorkersForm,
    ParticipantFilter,
    ReferralFilter,
    SessionFilter,
)
from interventions.models import Enrollment, PartnerOrganization, Session
from interventions.selectors import manager as manager_selectors
from interventions.services import case as services
from interventions.views.guards import manager_required

PAGE_SIZE = 50
# Rows fetched per round trip while an export streams.
EXPORT_CHUNK_SIZE = 2000


def _context(request: HttpRequest, organization: PartnerOrganization, **extra: Any) -> dict:
    return {
        "organization": organization,
        "organizations": request.managed_organizations,  # type: ignore[attr-defined]
        **extra,
    }


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _person(first_name: str, last_name: str, username: str) -> str:
    return f"{first_name} {last_name}".strip() or username


def _with_links(
    rows: list[manager_selectors.WorkerFigures], organization: PartnerOrganization
) -> list[manager_selectors.WorkerFigures]:
    """Each worker row's links to the participant and session lists it counts, built here once
    per page rather than reversed and formatted four times per row by the template."""
    participants_url, sessions_url = reverse("org_participants"), reverse("org_sessions")
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month, last_month_end = previous_month(today), this_month - timedelta(days=1)
    for row in rows:
        if row.worker is None:
            continue
        common = {"org": organization.slug, "worker": row.worker.pk}
        caseload = {**common, "status": "caseload"}
        row.links = {
            "caseload": f"{participants_url}?{urlencode(caseload)}",
            "gone_cold": f"{participants_url}?"
            + urlencode({**caseload, "cold": "yes", "sort": "-days_since"}),
            "sessions_this_month": f"{sessions_url}?"
            + urlencode({**common, "occurred_from": this_month, "occurred_to": today}),
            "sessions_last_month": f"{sessions_url}?"
            + urlencode({**common, "occurred_from": last_month, "occurred_to": last_month_end}),
        }
    return rows


@require_GET
@manager_required
def dashboard(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    summary = manager_selectors.dashboard_summary(organization)
    _with_links(summary.figures.workers, organization)
    return render(
        request,
        "manager/dashboard.html",
        _context(
            request,
            organization,
            figures=summary.figures,
            summary=summary,
            guideline_min=manager_selectors.CASELOAD_GUIDELINE_MIN,
            guideline_max=manager_selectors.CASELOAD_GUIDELINE_MAX,
        ),
    )


@require_GET
@manager_required
def workers(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    """Every worker of the organisation with their kept counts: searched, sorted, paginated."""
    search = request.GET.get("q", "").strip()[:200]
    sort = request.GET.get("sort", "attention")
    if sort not in manager_selectors.WORKER_SORTS:
        sort = "attention"
    page_obj = _page(request, manager_selectors.worker_list(organization, search=search, sort=sort))
    today = timezone.localdate()
    this_month = today.replace(day=1)
    return render(
        request,
        "manager/workers.html",
        _context(
            request,
            organization,
            page_obj=page_obj,
            rows=_with_links(
                [manager_selectors.kept_worker_figures(row) for row in page_obj], organization
            ),
            f={
                "today": today,
                "this_month": this_month,
                "last_month": previous_month(today),
                "last_month_end": this_month - timedelta(days=1),
            },
            search=search,
            current_sort=sort,
            sorts=[
                ("attention", gettext("Needs attention")),
                ("name", gettext("Name")),
                ("-caseload", gettext("Largest caseload")),
                ("-gone_cold", gettext("Most gone cold")),
                ("-sessions", gettext("Most sessions this month")),
            ],
            guideline_min=manager_selectors.CASELOAD_GUIDELINE_MIN,
            guideline_max=manager_selectors.CASELOAD_GUIDELINE_MAX,
            cold_after_days=settings.GVR_COLD_AFTER_DAYS,
        ),
    )


def _participant_filter(request: HttpRequest, organization: PartnerOrganization) -> Any:
    return ParticipantFilter(
        request.GET,
        queryset=manager_selectors.organization_participants(request.user, organization),
        organization=organization,
    )


@require_GET
@manager_required
def participants(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    participant_filter = _participant_filter(request, organization)
    rows = participant_filter.qs if participant_filter.is_valid() else participant_filter.qs.none()
    # The list draws only the form's worker select (the rows are the enrolments to tick);
    # assign_workers checks the ticked ones against the organisation's enrolments.
    assign_form = AssignWorkersForm(
        enrollments=Enrollment.objects.none(), organization=organization
    )
    return render(
        request,
        "manager/participants.html",
        _context(
            request,
            organization,
            filter=participant_filter,
            page_obj=_page(request, rows),
            assign_form=assign_form,
            cold_after_days=settings.GVR_COLD_AFTER_DAYS,
            current_sort=request.GET.get("sort") or "name",
        ),
    )


def _back_to_list(request: HttpRequest, organization: PartnerOrganization) -> str:
    fallback = f"{reverse('org_participants')}?org={organization.slug}"
    target = request.POST.get("next", "")
    if target.startswith(reverse("org_participants")) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
@manager_required
def assign_workers(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    form = AssignWorkersForm(
        request.POST,
        enrollments=manager_selectors.organization_enrollments(request.user, organization),
        organization=organization,
    )
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back_to_list(request, organization))
    worker = form.cleaned_data["worker"]
    try:
        count = services.assign_worker(
            enrollments=form.cleaned_data["enrollments"], worker=worker, by=request.user
        )
    except ServiceError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        name = worker.get_full_name() or worker.get_username()
        messages.success(
            request,
            ngettext(
                "Assigned %(count)s enrolment to %(name)s.",
                "Assigned %(count)s enrolments to %(name)s.",
                count,
            )
            % {"count": count, "name": name},
        )
    return redirect(_back_to_list(request, organization))


@require_GET
@manager_required
def sessions(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    session_filter = SessionFilter(
        request.GET,
        queryset=manager_selectors.organization_sessions(request.user, organization),
        organization=organization,
    )
    rows = session_filter.qs if session_filter.is_valid() else session_filter.qs.none()
    return render(
        request,
        "manager/sessions.html",
        _context(request, organization, filter=session_filter, page_obj=_page(request, rows)),
    )


@require_GET
@manager_required
def referrals(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    data = request.GET.copy()
    if "status" not in data:
        data["status"] = "waiting"
    referral_filter = ReferralFilter(
        data,
        queryset=manager_selectors.organization_referrals(request.user, organization),
        organization=organization,
    )
    rows = referral_filter.qs if referral_filter.is_valid() else referral_filter.qs.none()
    return render(
        request,
        "manager/referrals.html",
        _context(request, organization, filter=referral_filter, page_obj=_page(request, rows)),
    )


CASELOAD_HEADER = [
    "participant_code",
    "first_name",
    "last_name",
    "aliases",
    "area",
    "risk_tier",
    "identified_on",
    "program",
    "status",
    "assigned_worker",
    "referred_on",
    "last_contact",
    "days_since_last_contact",
    "gone_cold",
    "next_follow_up",
]


@require_GET
@manager_required
def export_caseload(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    """The participant list as filtered on screen, one row per enrolment the filters describe
    (one row, enrolment cells empty, for someone with none)."""
    participant_filter = _participant_filter(request, organization)
    if not participant_filter.is_valid():
        messages.error(request, gettext("Fix the filters before exporting."))
        return redirect(f"{reverse('org_participants')}?org={organization.slug}")
    matching = Enrollment.objects.filter(participant_filter.enrollment_q())
    rows = participant_filter.qs.prefetch_related(None).prefetch_related(
        _enrollments_prefetch(matching)
    )

    def lines() -> Iterator[list[object]]:
        for participant in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
            facts = [
                participant.participant_code,
                participant.first_name,
                participant.last_name,
                participant.aliases,
                participant.area.name if participant.area else "",
                participant.get_risk_tier_display(),
                participant.identified_on,
            ]
            contact = [
                participant.last_contact_at,
                participant.days_since_last_contact,
                participant.is_cold,
                participant.next_follow_up_on,
            ]
            enrollments = participant.enrollments.all()
            if not enrollments:
                yield [*facts, "", "", "", "", *contact]
            for enrollment in enrollments:
                worker = enrollment.assigned_worker
                yield [
                    *facts,
                    enrollment.program.name,
                    enrollment.get_status_display(),
                    (worker.get_full_name() or worker.get_username()) if worker else "",
                    enrollment.referred_on,
                    *contact,
                ]

    today = timezone.localdate()
    record(
        request,
        "export",
        object_type="caseload_export",
        object_id=organization.pk,
        format="csv",
    )
    return stream_csv(
        f"caseload-{organization.slug}-{today:%Y-%m-%d}.csv", CASELOAD_HEADER, lines()
    )


def _enrollments_prefetch(enrollments: QuerySet[Enrollment]) -> Prefetch:
    return Prefetch(
        "enrollments",
        queryset=enrollments.select_related("program", "assigned_worker").order_by(
            "referred_on", "pk"
        ),
    )


SESSION_HEADER = [
    "date",
    "time",
    "worker",
    "kind",
    "duration_minutes",
    "location",
    "participant_codes",
    "program",
]


@require_GET
@manager_required
def export_sessions(request: HttpRequest, organization: PartnerOrganization) -> HttpResponse:
    """Sessions in the filtered date range for a grant report. No names and no notes: codes
    identify the participants, and narrative notes never leave the organisation's screens."""
    session_filter = SessionFilter(
        request.GET,
        queryset=access.sessions_visible_to(request.user).filter(organization=organization),
        organization=organization,
    )
    if not session_filter.is_valid():
        messages.error(request, gettext("Fix the filters before exporting."))
        return redirect(f"{reverse('org_sessions')}?org={organization.slug}")
    rows = manager_selectors.session_export_rows(request.user, session_filter.qs)
    kinds = dict(Session.Kind.choices)
    locations = dict(Session.Location.choices)

    def lines() -> Iterator[list[object]]:
        for (
            occurred_at,
            first_name,
            last_name,
            username,
            kind,
            duration,
            location,
            codes,
            program,
        ) in rows.iterator(chunk_size=EXPORT_CHUNK_SIZE):
            local = timezone.localtime(occurred_at)
            yield [
                local.date(),
                local.strftime("%H:%M"),
                _person(first_name, last_name, username),
                kinds.get(kind, kind),
                duration,
                locations.get(location, location),
                codes,
                program or "",
            ]

    data = session_filter.form.cleaned_data
    start, end = data.get("occurred_from"), data.get("occurred_to")
    period = f"{start or 'start'}-to-{end or timezone.localdate()}"
    record(
        request,
        "export",
        object_type="sessions_export",
        object_id=organization.pk,
        format="csv",
        period=period,
    )
    return stream_csv(f"sessions-{organization.slug}-{period}.csv", SESSION_HEADER, lines())
