"""The outreach worker's pages: caseload, log a session, the participant page, referrals and
registration. Every read of case data goes through the selectors, so another organisation's
record is a 404; every write is one service call."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import concurrency, selectors, services, submissions
from interventions.audit import audited_view
from interventions.forms import (
    QUICK_DURATIONS,
    EnrollmentExitForm,
    EnrollmentStatusForm,
    ParticipantEditForm,
    ParticipantRegisterForm,
    ReferralAdvanceForm,
    ReferralForm,
    SessionLogForm,
)
from interventions.models import Enrollment, Participant, Referral
from interventions.services import ServiceError
from interventions.views.access import sharing_context

CASELOAD_PAGE_SIZE = 50
# How many caseload participants the session form lists before the worker types a name.
PICKER_LIMIT = 30
TIMELINE_PAGE_SIZE = 20
REFERRALS_PAGE_SIZE = 30

View = Callable[..., HttpResponse]


def member_required(view: View) -> View:
    """Logged in, an active member of an organisation (worker or manager), and no caching of
    the case data the page shows."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        roles = selectors.user_roles(request.user)
        if not roles & {selectors.OUTREACH_WORKER, selectors.MANAGER}:
            raise PermissionDenied("Only members of a partner organisation can use this page.")
        return view(request, *args, **kwargs)

    return wrapped


def _page_number(request: HttpRequest) -> int:
    raw = request.GET.get("page", "1")
    return int(raw) if raw.isdigit() and 0 < int(raw) < 10_000 else 1


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _participant_for(request: HttpRequest, participant_id: int) -> Participant:
    return get_object_or_404(
        selectors.with_contact_facts(
            selectors.participants_visible_to(request.user).select_related("organization", "area")
        ),
        pk=participant_id,
    )


def _enrollment_for(request: HttpRequest, enrollment_id: int) -> Enrollment:
    # A shared participant's enrolment in another organisation's program is seen, not changed.
    return get_object_or_404(
        selectors.enrollments_editable_by(request.user).select_related("participant", "program"),
        pk=enrollment_id,
    )


def _action_page(
    request: HttpRequest,
    *,
    title: str,
    form: Any,
    action: str,
    participant: Participant,
    submit_label: str,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    """A form of the participant page drawn on its own, to show its errors or ask to confirm,
    with everything that was typed."""
    context = {
        "title": title,
        "form": form,
        "action": action,
        "participant": participant,
        "submit_label": submit_label,
        **(extra or {}),
    }
    return render(request, "interventions/action_form.html", context)


# Caseload -------------------------------------------------------------------------------------


def _caseload_context(request: HttpRequest) -> dict[str, Any]:
    query = request.GET.get("q", "").strip()[:100]
    participants = selectors.search_participants(selectors.caseload_for(request.user), query)
    page = Paginator(participants, CASELOAD_PAGE_SIZE).get_page(_page_number(request))
    return {"page": page, "query": query}


def worker_home(request: HttpRequest) -> HttpResponse:
    """The start page of a worker: the log-session button, then the caseload."""
    return render(request, "interventions/worker_home.html", _caseload_context(request))


@member_required
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    context = _caseload_context(request)
    if request.htmx and request.htmx.target == "caseload-list":
        return render(request, "interventions/_caseload_list.html", context)
    return render(request, "interventions/caseload.html", context)


# Log a session --------------------------------------------------------------------------------


def _picker_choices(
    request: HttpRequest, *, selected_ids: list[int], query: str = ""
) -> list[Participant]:
    """Who the participant picker shows: those already picked (ticked), then the caseload
    participants matching the query. Scoped to what the user can see."""
    selected = list(
        selectors.participants_visible_to(request.user)
        .filter(pk__in=selected_ids)
        .order_by("last_name", "first_name")
    )
    matches = selectors.search_participants(selectors.caseload_for(request.user), query).exclude(
        pk__in=selected_ids
    )
    return [*selected, *matches[:PICKER_LIMIT]]


@member_required
@require_http_methods(["GET", "POST"])
def session_log(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SessionLogForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            participants = list(data["participants"])
            try:
                acting_for = selectors.sharing_organization_for(request.user, participants)
                session = services.log_session(
                    worker=request.user,
                    organization=acting_for or participants[0].organization,
                    participants=participants,
                    program=selectors.session_program_for(request.user, participants),
                    kind=data["kind"],
                    occurred_at=data["occurred_at"],
                    duration_minutes=data["duration_minutes"],
                    location=data["location"],
                    notes=data["notes"],
                    follow_up_on=data["follow_up_on"],
                    client_key=data["client_key"],
                )
            except ServiceError as error:
                form.add_error(None, error)
            else:
                names = ", ".join(p.full_name for p in participants)
                messages.success(
                    request,
                    f"Session logged: {session.get_kind_display().lower()}, "
                    f"{session.duration_minutes} minutes with {names}.",
                )
                if len(participants) == 1:
                    return redirect("participant_detail", participant_id=participants[0].pk)
                return redirect("caseload")
    else:
        preselect = request.GET.get("participant", "")
        initial = {"participants": [int(preselect)]} if preselect.isdigit() else {}
        form = SessionLogForm(initial=initial, user=request.user)
    selected_ids = form.selected_ids()
    context = {
        "form": form,
        "choices": _picker_choices(request, selected_ids=selected_ids),
        "selected_ids": selected_ids,
        "quick_durations": QUICK_DURATIONS,
    }
    return render(request, "interventions/session_log.html", context)


@member_required
@require_GET
def participant_search(request: HttpRequest) -> HttpResponse:
    """The session form's type-ahead: the picked participants and the matching caseload."""
    selected_ids = [int(v) for v in request.GET.getlist("participants") if v.isdigit()]
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "choices": _picker_choices(request, selected_ids=selected_ids, query=query),
        "selected_ids": selected_ids,
        "query": query,
    }
    return render(request, "interventions/_participant_choices.html", context)


# Participant page -----------------------------------------------------------------------------


@member_required
@audited_view("view", "participant")
@require_GET
def participant_detail(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _participant_for(request, participant_id)
    user = request.user
    enrollments = list(
        selectors.enrollments_visible_to(user)
        .filter(participant=participant)
        .select_related("program", "assigned_worker")
        .order_by("status", "-referred_on")
    )
    open_enrollments = [e for e in enrollments if e.is_open]
    for enrollment in open_enrollments:
        enrollment.status_form = EnrollmentStatusForm(
            enrollment=enrollment, auto_id=f"id_status_{enrollment.pk}_%s"
        )
        enrollment.exit_form = EnrollmentExitForm(auto_id=f"id_exit_{enrollment.pk}_%s")
    waiting_referrals = list(
        selectors.referrals_visible_to(user)
        .filter(participant=participant, status__in=Referral.WAITING_STATUSES)
        .select_related("to_organization")
    )
    for referral in waiting_referrals:
        referral.advance_form = ReferralAdvanceForm(auto_id=f"id_referral_{referral.pk}_%s")
    page = _page_number(request)
    timeline, has_next = selectors.participant_timeline(
        user, participant, page=page, per_page=TIMELINE_PAGE_SIZE
    )
    context = {
        "participant": participant,
        "open_enrollments": open_enrollments,
        "closed_enrollments": [e for e in enrollments if not e.is_open],
        "waiting_referrals": waiting_referrals,
        "referral_form": ReferralForm(auto_id="id_referral_new_%s"),
        "follow_ups": list(selectors.follow_ups_due(user, participant)),
        "timeline": timeline,
        "timeline_page": page,
        "timeline_has_next": has_next,
        **sharing_context(request, participant, enrollments, waiting_referrals),
    }
    return render(request, "interventions/participant_detail.html", context)


@member_required
@audited_view("view", "participant")
@require_http_methods(["GET", "POST"])
def participant_edit(request: HttpRequest, participant_id: int) -> HttpResponse:
    """Correct a participant's profile. A save over someone else's newer save is refused and the
    page shows what they changed beside what was typed (interventions/concurrency.py)."""
    # Only the owning organisation edits the profile, even where consent lets others see it.
    participant = get_object_or_404(
        selectors.participants_visible_to(request.user)
        .filter(organization__in=selectors.organizations_of(request.user))
        .select_related("organization", "area"),
        pk=participant_id,
    )
    form = ParticipantEditForm(request.POST or None, participant=participant)
    differences: list[dict[str, str]] = []
    if request.method == "POST" and form.is_valid():
        try:
            participant = services.update_participant(
                participant=participant,
                by=request.user,
                expected_updated_at=form.cleaned_data["version"],
                **form.changes(),
            )
        except concurrency.RecordChanged as changed:
            differences = concurrency.differences(
                changed.current, form, list(services.PARTICIPANT_EDITABLE_FIELDS)
            )
            concurrency.with_new_version(form, changed.current)
            form.add_error(None, changed)
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{participant.full_name}'s profile saved.")
            return redirect("participant_detail", participant_id=participant.pk)
    return render(
        request,
        "interventions/participant_edit.html",
        {"form": form, "participant": participant, "differences": differences},
    )


@member_required
@require_POST
def enrollment_status(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    enrollment = _enrollment_for(request, enrollment_id)
    form = EnrollmentStatusForm(request.POST, enrollment=enrollment)
    if form.is_valid():
        try:
            enrollment = services.change_enrollment_status(
                enrollment=enrollment,
                status=form.cleaned_data["status"],
                by=request.user,
                on=form.cleaned_data["on"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{enrollment.program}: status changed to "
                f"{enrollment.get_status_display().lower()}.",
            )
            return redirect("participant_detail", participant_id=enrollment.participant_id)
    return _action_page(
        request,
        title=f"Change status: {enrollment.program}",
        form=form,
        action=reverse("enrollment_status", args=[enrollment.pk]),
        participant=enrollment.participant,
        submit_label="Change status",
    )


@member_required
@require_POST
def enrollment_exit(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    """Exit an enrolment. The first post shows what will happen; only the confirmed post
    (confirm=1, from that page) exits."""
    enrollment = _enrollment_for(request, enrollment_id)
    form = EnrollmentExitForm(request.POST)
    confirmed = request.POST.get("confirm") == "1"
    if form.is_valid() and confirmed:
        try:
            enrollment = services.exit_enrollment(
                enrollment=enrollment,
                reason=form.cleaned_data["reason"],
                by=request.user,
                on=form.cleaned_data["on"],
                note=form.cleaned_data["note"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{enrollment.participant.full_name} exited {enrollment.program} "
                f"({enrollment.get_exit_reason_display().lower()}).",
            )
            return redirect("participant_detail", participant_id=enrollment.participant_id)
    return _action_page(
        request,
        title=f"Exit from {enrollment.program}",
        form=form,
        action=reverse("enrollment_exit", args=[enrollment.pk]),
        participant=enrollment.participant,
        submit_label="Yes, exit" if form.is_valid() else "Exit",
        extra={
            "confirming": form.is_valid(),
            "confirm_text": (
                f"Exit {enrollment.participant.full_name} from {enrollment.program}? "
                "The enrolment closes and leaves the caseload; the history stays."
            ),
        },
    )


# Referrals ------------------------------------------------------------------------------------


@member_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    show_closed = request.GET.get("status") == "closed"
    statuses = Referral.CLOSED_STATUSES if show_closed else Referral.WAITING_STATUSES
    referrals = (
        selectors.referrals_visible_to(request.user)
        .filter(made_by=request.user, status__in=statuses)
        .select_related("participant", "to_organization")
        .order_by("-closed_on" if show_closed else "made_on", "-pk")
    )
    page = Paginator(referrals, REFERRALS_PAGE_SIZE).get_page(_page_number(request))
    if not show_closed:
        for referral in page:
            referral.advance_form = ReferralAdvanceForm(auto_id=f"id_referral_{referral.pk}_%s")
    return render(
        request,
        "interventions/referral_list.html",
        {"page": page, "show_closed": show_closed},
    )


@member_required
@require_http_methods(["GET", "POST"])
def referral_create(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _participant_for(request, participant_id)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        participant_url = reverse("participant_detail", args=[participant.pk])

        def write() -> tuple[str, str]:
            acting_for = selectors.sharing_organization_for(request.user, [participant])
            referral = services.make_referral(
                participant=participant,
                made_by=request.user,
                organization=acting_for or participant.organization,
                service_category=data["service_category"],
                to_organization=data["to_organization"],
                outside_provider=data["outside_provider"],
                made_on=data["made_on"],
                notes=data["notes"],
            )
            return participant_url, (
                f"Referral made: {referral.get_service_category_display().lower()} "
                f"with {referral.provider_name}."
            )

        try:
            return submissions.save_once(
                request, data["form_token"], fallback=participant_url, write=write
            )
        except ServiceError as error:
            form.add_error(None, error)
    return _action_page(
        request,
        title=f"Make a referral for {participant.full_name}",
        form=form,
        action=reverse("referral_create", args=[participant.pk]),
        participant=participant,
        submit_label="Make referral",
    )


@member_required
@require_POST
def referral_advance(request: HttpRequest, referral_id: int) -> HttpResponse:
    # Only the organisation that made a referral follows it up.
    referral = get_object_or_404(
        selectors.referrals_editable_by(request.user).select_related("participant"),
        pk=referral_id,
    )
    form = ReferralAdvanceForm(request.POST)
    if form.is_valid():
        try:
            referral = services.advance_referral(
                referral=referral,
                status=form.cleaned_data["status"],
                by=request.user,
                on=form.cleaned_data["on"],
                outcome=form.cleaned_data["outcome"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"Referral for {referral.participant.full_name} marked "
                f"{referral.get_status_display().lower()}.",
            )
            default = reverse("participant_detail", args=[referral.participant_id])
            return redirect(_safe_next(request, default))
    return _action_page(
        request,
        title=f"Update referral: {referral.get_service_category_display()}",
        form=form,
        action=reverse("referral_advance", args=[referral.pk]),
        participant=referral.participant,
        submit_label="Update referral",
        extra={"next": _safe_next(request, "")},
    )


# Registration ---------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def participant_register(request: HttpRequest) -> HttpResponse:
    form = ParticipantRegisterForm(request.POST or None, user=request.user)
    duplicates: list[Participant] = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        submission = submissions.claim(request.user, data["form_token"])
        if submission.is_repeat:
            return submissions.repeat_response(request, submission, fallback=reverse("caseload"))
        if request.POST.get("confirm_duplicate") != "1":
            duplicates = list(
                selectors.likely_duplicates(
                    request.user,
                    data["first_name"],
                    data["last_name"],
                    data["date_of_birth"],
                    organization=data["program"].organization,
                )
            )
        if not duplicates:
            try:
                enrollment = services.register_and_enroll(
                    program=data["program"],
                    registered_by=request.user,
                    worker=request.user if data["assign_to_me"] else None,
                    status=data["status"],
                    **form.participant_details(),
                )
            except ServiceError as error:
                submission.release()
                form.add_error(None, error)
            else:
                participant = enrollment.participant
                submission.saved(reverse("participant_detail", args=[participant.pk]))
                messages.success(
                    request,
                    f"{participant.full_name} registered as {participant.participant_code} "
                    f"and enrolled in {enrollment.program}.",
                )
                return redirect("participant_detail", participant_id=participant.pk)
        else:
            # Shown the likely duplicates: the same form comes back to confirm.
            submission.release()
    return render(
        request,
        "interventions/participant_register.html",
        {"form": form, "duplicates": duplicates},
    )
