"""The outreach worker's pages: caseload, log a session, the participant page, referrals and
registration. Every read of case data goes through the selectors, so another organisation's
record is a 404; every write is one service call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import access
from interventions.audit import audited_view
from interventions.errors import RecordChanged, ServiceError
from interventions.forms import single_submit as submissions
from interventions.forms.case import (
    QUICK_DURATIONS,
    EnrollmentExitForm,
    EnrollmentStatusForm,
    NameMatchForm,
    ParticipantEditForm,
    ParticipantRegisterForm,
    ReferralAdvanceForm,
    ReferralForm,
    SessionLogForm,
)
from interventions.models import Enrollment, Participant, Referral, Session
from interventions.selectors import plans as plan_selectors
from interventions.selectors import worker as worker_selectors
from interventions.services import case as services
from interventions.services import locking
from interventions.services import plans as plan_services
from interventions.views.guards import member_required
from interventions.views.sharing import mark_editable, sharing_context

CASELOAD_PAGE_SIZE = 50
# How many caseload participants the session form lists before the worker types a name.
PICKER_LIMIT = 30
TIMELINE_PAGE_SIZE = 20
REFERRALS_PAGE_SIZE = 30


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
        worker_selectors.with_contact_facts(
            access.participants_visible_to(request.user).select_related("organization", "area")
        ),
        pk=participant_id,
    )


def _enrollment_for(request: HttpRequest, enrollment_id: int) -> Enrollment:
    # A shared participant's enrolment in another organisation's program is seen, not changed.
    return get_object_or_404(
        access.enrollments_editable_by(request.user).select_related("participant", "program"),
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
    participants = worker_selectors.search_participants(
        worker_selectors.caseload_for(request.user), query
    )
    page = Paginator(participants, CASELOAD_PAGE_SIZE).get_page(_page_number(request))
    return {"page": page, "query": query}


def worker_home(request: HttpRequest) -> HttpResponse:
    """The start page of a worker: the log-session button, plans to look at, the caseload."""
    context = {**_caseload_context(request), **plan_selectors.worker_home_plans(request.user)}
    return render(request, "interventions/worker_home.html", context)


@member_required
@require_GET
def caseload(request: HttpRequest) -> HttpResponse:
    context = _caseload_context(request)
    if request.htmx and request.htmx.target == "caseload-list":
        return render(request, "interventions/_caseload_list.html", context)
    return render(request, "interventions/caseload.html", context)


# Log a session --------------------------------------------------------------------------------


def _picker_choices(
    request: HttpRequest,
    *,
    selected_ids: list[int],
    query: str = "",
    chosen_ids: Sequence[int] = (),
) -> list[Participant]:
    """Who the participant picker shows: those already picked (ticked), then the caseload
    participants matching the query, leaving out `chosen_ids` (drawn as chips above the
    picker). Scoped to what the user can see."""
    selected = list(
        access.participants_visible_to(request.user)
        .filter(pk__in=selected_ids)
        .exclude(pk__in=chosen_ids)
        .order_by("last_name", "first_name")
    )
    matches = worker_selectors.search_participants(
        worker_selectors.caseload_for(request.user), query
    ).exclude(pk__in=[*selected_ids, *chosen_ids])
    return [*selected, *matches[:PICKER_LIMIT]]


def _chosen_people(request: HttpRequest, selected_ids: list[int]) -> list[Participant]:
    return list(
        access.participants_visible_to(request.user)
        .filter(pk__in=selected_ids)
        .order_by("last_name", "first_name")
    )


@member_required
@require_http_methods(["GET", "POST"])
def session_log(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = SessionLogForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            participants = list(data["participants"])
            duplicate = None
            if not data["log_anyway"]:
                duplicate = worker_selectors.likely_duplicate_session(
                    request.user,
                    participants=participants,
                    kind=data["kind"],
                    client_key=data["client_key"],
                )
            if duplicate is not None:
                return _session_form_page(request, form, duplicate=duplicate)
            try:
                acting_for = access.sharing_organization_for(request.user, participants)
                session = plan_services.log_session_with_progress(
                    worked_on=data["milestones_worked"],
                    met=data["milestones_met"],
                    worker=request.user,
                    organization=acting_for or participants[0].organization,
                    participants=participants,
                    program=worker_selectors.session_program_for(request.user, participants),
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
                    ngettext(
                        "Session logged: %(kind)s, %(minutes)s minutes with %(names)s.",
                        "Session logged: %(kind)s, %(minutes)s minutes with %(names)s.",
                        session.duration_minutes,
                    )
                    % {
                        "kind": session.get_kind_display().lower(),
                        "minutes": session.duration_minutes,
                        "names": names,
                    },
                )
                if len(participants) == 1:
                    return redirect("participant_detail", participant_id=participants[0].pk)
                return redirect("caseload")
    else:
        preselect = request.GET.get("participant", "")
        initial = {"participants": [int(preselect)]} if preselect.isdigit() else {}
        form = SessionLogForm(initial=initial, user=request.user)
    return _session_form_page(request, form)


def _session_form_page(
    request: HttpRequest, form: SessionLogForm, *, duplicate: Session | None = None
) -> HttpResponse:
    # The people already chosen are chips at the top; the picker ("add people") lists the rest.
    selected_ids = form.selected_ids()
    chosen = _chosen_people(request, selected_ids)
    chosen_ids = [person.pk for person in chosen]
    context = {
        "form": form,
        "chosen": chosen,
        "choices": _picker_choices(request, selected_ids=[], chosen_ids=chosen_ids),
        "selected_ids": [],
        "quick_durations": QUICK_DURATIONS,
        # The optional plan step: open milestones of the people picked, and what was ticked.
        "milestones": (
            plan_selectors.open_milestones_for(request.user, selected_ids) if selected_ids else []
        ),
        "ticked_worked": form.data.getlist("milestones_worked") if form.is_bound else [],
        "ticked_met": form.data.getlist("milestones_met") if form.is_bound else [],
        "submit_label": form.submit_label(chosen),
        "duplicate": duplicate,
        "duplicate_minutes_ago": (
            int((timezone.now() - duplicate.created_at).total_seconds() // 60)
            if duplicate
            else None
        ),
    }
    return render(request, "interventions/session_log.html", context)


@member_required
@require_GET
def participant_search(request: HttpRequest) -> HttpResponse:
    """The session form's type-ahead: the picked participants and the matching caseload."""
    chosen_ids = [int(v) for v in request.GET.getlist("chosen") if v.isdigit()]
    selected_ids = [
        int(v)
        for v in request.GET.getlist("participants")
        if v.isdigit() and int(v) not in chosen_ids
    ]
    query = request.GET.get("q", "").strip()[:100]
    context = {
        "choices": _picker_choices(
            request, selected_ids=selected_ids, query=query, chosen_ids=chosen_ids
        ),
        "selected_ids": selected_ids,
        "query": query,
    }
    return render(request, "interventions/_participant_choices.html", context)


# Participant page -----------------------------------------------------------------------------


# The tabs of the participant page, in their order; the first is the default.
PARTICIPANT_TABS = ("activity", "details", "plan", "related")


def _visible_enrollments(request: HttpRequest, participant: Participant) -> list[Enrollment]:
    user = request.user
    return list(
        plan_selectors.with_current_plan_id(user, access.enrollments_visible_to(user))
        .filter(participant=participant)
        .select_related("program", "assigned_worker")
        .order_by("status", "-referred_on")
    )


def _activity_tab(request: HttpRequest, participant: Participant) -> dict[str, Any]:
    page = _page_number(request)
    timeline, has_next = worker_selectors.participant_timeline(
        request.user, participant, page=page, per_page=TIMELINE_PAGE_SIZE
    )
    return {
        "follow_ups": list(worker_selectors.follow_ups_due(request.user, participant)),
        "timeline": timeline,
        "timeline_page": page,
        "timeline_has_next": has_next,
    }


def _details_tab(
    request: HttpRequest, participant: Participant, enrollments: list[Enrollment]
) -> dict[str, Any]:
    mark_editable(request, participant, enrollments)
    open_enrollments = [e for e in enrollments if e.is_open]
    for enrollment in open_enrollments:
        if enrollment.can_edit:  # type: ignore[attr-defined]
            enrollment.status_form = EnrollmentStatusForm(  # type: ignore[attr-defined]
                enrollment=enrollment, auto_id=f"id_status_{enrollment.pk}_%s"
            )
            enrollment.exit_form = EnrollmentExitForm(  # type: ignore[attr-defined]
                auto_id=f"id_exit_{enrollment.pk}_%s"
            )
    return {
        "open_enrollments": open_enrollments,
        "closed_enrollments": [e for e in enrollments if not e.is_open],
    }


def _plan_tab(
    request: HttpRequest, participant: Participant, enrollments: list[Enrollment]
) -> dict[str, Any]:
    mark_editable(request, participant, enrollments)
    open_enrollments = [e for e in enrollments if e.is_open]
    return dict(plan_selectors.participant_plan_panel(request.user, open_enrollments))


def _related_tab(
    request: HttpRequest, participant: Participant, enrollments: list[Enrollment]
) -> dict[str, Any]:
    waiting_referrals = list(
        access.referrals_visible_to(request.user)
        .filter(participant=participant, status__in=Referral.WAITING_STATUSES)
        .select_related("to_organization")
    )
    context = sharing_context(request, participant, enrollments, waiting_referrals)
    for referral in waiting_referrals:
        if referral.can_edit:  # type: ignore[attr-defined]
            referral.advance_form = ReferralAdvanceForm(  # type: ignore[attr-defined]
                auto_id=f"id_referral_{referral.pk}_%s"
            )
    return {"waiting_referrals": waiting_referrals, **context}


def _highlights(
    request: HttpRequest, participant: Participant, enrollments: list[Enrollment]
) -> dict[str, Any]:
    """The panel above the tabs: what the page knows at a glance, in two small queries."""
    open_enrollments = [e for e in enrollments if e.is_open]
    return {
        "highlight_enrollments": open_enrollments,
        "contact": worker_selectors.contact_state(participant),
        "open_tasks": worker_selectors.open_response_tasks(request.user, participant),
        "plan_progress": plan_selectors.plan_progress(
            [e.current_plan_id for e in open_enrollments if e.current_plan_id]  # type: ignore[attr-defined]
        ),
    }


@member_required
@audited_view("view", "participant")
@require_GET
def participant_detail(request: HttpRequest, participant_id: int) -> HttpResponse:
    """The participant page: highlights, then tabs (Activity, Details, Plan, Related). Only the
    chosen tab (`?tab=`, Activity by default) is read and drawn; the other tabs are links to
    the same page, which htmx turns into a swap of the tab area (`participant-tabs`), so a tab
    works without JavaScript, can be linked to, and the page costs what it shows. Every tab is
    a request of this view, so every one is in the audit trail as a view of the participant."""
    participant = _participant_for(request, participant_id)
    tab = request.GET.get("tab", PARTICIPANT_TABS[0])
    if tab not in PARTICIPANT_TABS:
        tab = PARTICIPANT_TABS[0]
    tab_only = bool(request.htmx and request.htmx.target == "participant-tabs")
    context: dict[str, Any] = {"participant": participant, "tab": tab, "tabs": PARTICIPANT_TABS}
    enrollments = (
        _visible_enrollments(request, participant) if (tab != "activity" or not tab_only) else []
    )
    if tab == "activity":
        context.update(_activity_tab(request, participant))
    elif tab == "details":
        context.update(_details_tab(request, participant, enrollments))
    elif tab == "plan":
        context.update(_plan_tab(request, participant, enrollments))
    else:
        context.update(_related_tab(request, participant, enrollments))
    if tab_only:
        return render(request, "interventions/participant/_tabs.html", context)
    context.update(_highlights(request, participant, enrollments))
    return render(request, "interventions/participant_detail.html", context)


@member_required
@audited_view("view", "participant")
@require_http_methods(["GET", "POST"])
def participant_edit(request: HttpRequest, participant_id: int) -> HttpResponse:
    """Correct a participant's profile. A save over someone else's newer save is refused and the
    page shows what they changed beside what was typed (interventions/locking.py)."""
    # Only the owning organisation edits the profile, even where consent lets others see it.
    participant = get_object_or_404(
        access.participants_visible_to(request.user)
        .filter(organization__in=access.organizations_of(request.user))
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
        except RecordChanged as changed:
            differences = locking.differences(
                changed.current, form, list(services.PARTICIPANT_EDITABLE_FIELDS)
            )
            locking.with_new_version(form, changed.current)
            form.add_error(None, changed)
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, gettext("%(name)s's profile saved.") % {"name": participant.full_name}
            )
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
                gettext("%(program)s: status changed to %(status)s.")
                % {
                    "program": enrollment.program,
                    "status": enrollment.get_status_display().lower(),
                },
            )
            return redirect("participant_detail", participant_id=enrollment.participant_id)
    return _action_page(
        request,
        title=gettext("Change status: %(program)s") % {"program": enrollment.program},
        form=form,
        action=reverse("enrollment_status", args=[enrollment.pk]),
        participant=enrollment.participant,
        submit_label=gettext("Change status"),
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
                gettext("%(name)s exited %(program)s (%(reason)s).")
                % {
                    "name": enrollment.participant.full_name,
                    "program": enrollment.program,
                    "reason": enrollment.get_exit_reason_display().lower(),
                },
            )
            return redirect("participant_detail", participant_id=enrollment.participant_id)
    return _action_page(
        request,
        title=gettext("Exit from %(program)s") % {"program": enrollment.program},
        form=form,
        action=reverse("enrollment_exit", args=[enrollment.pk]),
        participant=enrollment.participant,
        submit_label=gettext("Yes, exit") if form.is_valid() else gettext("Exit"),
        extra={
            "confirming": form.is_valid(),
            "confirm_text": gettext(
                "Exit %(name)s from %(program)s? The enrolment closes and leaves the caseload; "
                "the history stays."
            )
            % {"name": enrollment.participant.full_name, "program": enrollment.program},
        },
    )


# Referrals ------------------------------------------------------------------------------------


@member_required
@require_GET
def referral_list(request: HttpRequest) -> HttpResponse:
    show_closed = request.GET.get("status") == "closed"
    statuses = Referral.CLOSED_STATUSES if show_closed else Referral.WAITING_STATUSES
    referrals = (
        access.referrals_visible_to(request.user)
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
@audited_view("view", "participant", shown_only=True)
def referral_create(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _participant_for(request, participant_id)
    form = ReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        participant_url = reverse("participant_detail", args=[participant.pk])

        def write() -> tuple[str, str]:
            acting_for = access.sharing_organization_for(request.user, [participant])
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
                gettext("Referral made: %(category)s with %(provider)s.")
                % {
                    "category": referral.get_service_category_display().lower(),
                    "provider": referral.provider_name,
                }
            )

        try:
            return submissions.save_once(
                request, data["form_token"], fallback=participant_url, write=write
            )
        except ServiceError as error:
            form.add_error(None, error)
    return _action_page(
        request,
        title=gettext("Make a referral for %(name)s") % {"name": participant.full_name},
        form=form,
        action=reverse("referral_create", args=[participant.pk]),
        participant=participant,
        submit_label=gettext("Make referral"),
    )


@member_required
@require_POST
def referral_advance(request: HttpRequest, referral_id: int) -> HttpResponse:
    # Only the organisation that made a referral follows it up.
    referral = get_object_or_404(
        access.referrals_editable_by(request.user).select_related("participant"),
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
                gettext("Referral for %(name)s marked %(status)s.")
                % {
                    "name": referral.participant.full_name,
                    "status": referral.get_status_display().lower(),
                },
            )
            default = reverse("participant_detail", args=[referral.participant_id])
            return redirect(_safe_next(request, default))
    return _action_page(
        request,
        title=gettext("Update referral: %(category)s")
        % {"category": referral.get_service_category_display()},
        form=form,
        action=reverse("referral_advance", args=[referral.pk]),
        participant=referral.participant,
        submit_label=gettext("Update referral"),
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
                worker_selectors.likely_duplicates(
                    request.user,
                    data["first_name"],
                    data["last_name"],
                    data["date_of_birth"],
                    aliases=data["aliases"],
                    phone=data["phone"],
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
                    gettext("%(name)s registered as %(code)s and enrolled in %(program)s.")
                    % {
                        "name": participant.full_name,
                        "code": participant.participant_code,
                        "program": enrollment.program,
                    },
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


@member_required
@require_GET
def participant_matches(request: HttpRequest) -> HttpResponse:
    """The registration form's "already registered?" hint, as the name is typed (htmx): names
    only, of people of the user's own organisations (never another organisation's, shared or
    not), so typing a name learns nothing the caseload search would not show."""
    form = NameMatchForm(request.GET)
    matches: list[Participant] = []
    if form.is_valid():
        data = form.cleaned_data
        matches = list(
            worker_selectors.likely_duplicates(
                request.user,
                data["first_name"],
                data["last_name"],
                form.typed_date_of_birth(),
                aliases=data["aliases"],
                phone=data["phone"],
                own_organizations_only=True,
            )
        )
    return render(request, "interventions/_name_matches.html", {"matches": matches})
