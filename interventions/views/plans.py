"""Life plans and the incentive ledger.

Plan pages are for the outreach workers and managers of the organisation that runs the plan's
program (finance staff and other organisations get 403/404); the ledger pages are for its
managers and finance staff. Every record is fetched through plan_selectors, so another
organisation's plan or entry is a 404; every write is one service call."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import access as selectors
from interventions.audit import audited_view, record
from interventions.csv_export import stream_csv
from interventions.errors import ServiceError
from interventions.forms import single_submit as submissions
from interventions.forms.plans import (
    DayForm,
    DeclineForm,
    GoalEditForm,
    GoalForm,
    IncentiveRequestForm,
    LedgerFilterForm,
    MilestoneForm,
    PaidForm,
    PlanStartForm,
)
from interventions.models import Participant
from interventions.models.plans import IncentiveEntry, IncentiveRules, LifePlan
from interventions.selectors import plans as plan_selectors
from interventions.services import plans as plan_services
from interventions.views.guards import member_required

View = Callable[..., HttpResponse]
LEDGER_PAGE_SIZE = 50


def ledger_required(view: View) -> View:
    """Managers and finance staff: the ledger. No caching of what it shows."""

    @login_required
    @never_cache
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not selectors.user_roles(request.user) & {selectors.MANAGER, selectors.FINANCE}:
            raise PermissionDenied(gettext("The ledger is for managers and finance staff."))
        return view(request, *args, **kwargs)

    return wrapped


def _plan_for(request: HttpRequest, plan_id: int) -> LifePlan:
    return get_object_or_404(plan_selectors.plans_visible_to(request.user), pk=plan_id)


def _entry_for(request: HttpRequest, entry_id: int) -> IncentiveEntry:
    return get_object_or_404(plan_selectors.ledger_visible_to(request.user), pk=entry_id)


def _back_to_plan(plan_id: int) -> HttpResponse:
    return redirect("plan_detail", plan_id=plan_id)


def _form_page(
    request: HttpRequest,
    *,
    participant: Participant,
    title: str,
    form: Any,
    action: str,
    submit_label: str,
) -> HttpResponse:
    # The page names the person: a view of them, like their record page.
    record(request, "view", participant, shown_on=action)
    return render(
        request,
        "interventions/action_form.html",
        {
            "participant": participant,
            "title": title,
            "form": form,
            "action": action,
            "submit_label": submit_label,
        },
    )


# Plans ------------------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def plan_start(request: HttpRequest, enrollment_id: int) -> HttpResponse:
    enrollment = get_object_or_404(
        plan_selectors.plan_enrollments_for(request.user).select_related("participant", "program"),
        pk=enrollment_id,
    )
    # An empty POST is a form sent with nothing in it (bound, so it answers), not a GET.
    posted = request.POST if request.method == "POST" else None
    form = PlanStartForm(posted, program_id=enrollment.program_id)
    if request.method == "POST" and form.is_valid():
        try:
            plan = plan_services.draft_plan(
                enrollment=enrollment, by=request.user, template=form.cleaned_data["template"]
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, gettext("Plan drafted. Add goals and milestones with the person.")
            )
            return _back_to_plan(plan.pk)
    return _form_page(
        request,
        participant=enrollment.participant,
        title=gettext("Start a plan: %(program)s") % {"program": enrollment.program},
        form=form,
        action=reverse("plan_start", args=[enrollment.pk]),
        submit_label=gettext("Draft the plan"),
    )


@member_required
@audited_view("view", "lifeplan", kwarg="plan_id")
@require_GET
def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = get_object_or_404(
        plan_selectors.plan_with_contents(
            plan_selectors.plans_visible_to(request.user), request.user
        ),
        pk=plan_id,
    )
    glance = plan_selectors.glance(plan)
    is_manager = plan_selectors.holds_role(
        request.user, plan.enrollment.program.organization_id, selectors.MANAGER
    )
    entries = list(
        plan_selectors.incentive_entries_for_plan_page(request.user)
        .filter(enrollment_id=plan.enrollment_id)
        .prefetch_related("milestones")
        .order_by("-month", "-pk")
    )
    rules = IncentiveRules.objects.filter(program_id=plan.enrollment.program_id).first()
    context = {
        "plan": plan,
        "participant": plan.enrollment.participant,
        "glance": glance,
        "is_manager": is_manager,
        "can_approve": is_manager
        and plan.status == LifePlan.Status.DRAFT
        and plan.drafted_by_id != request.user.pk,
        "entries": entries,
        "pays_incentives": bool(rules and rules.pays_incentives),
        "changes": list(plan_selectors.plan_changes(request.user, plan)[:50]),
        "versions": list(plan_selectors.plan_versions(plan)),
        "goal_form": GoalForm(auto_id="id_goal_new_%s"),
        "milestone_form": MilestoneForm(auto_id=False),
        "review_form": DayForm(auto_id="id_review_%s"),
        "decline_form": DeclineForm(auto_id=False),
        "today": timezone.localdate(),
    }
    record(request, "view", plan.enrollment.participant, shown_on="lifeplan", shown_on_id=plan.pk)
    return render(request, "interventions/plans/plan_detail.html", context)


def _plan_action(
    request: HttpRequest, plan_id: int, action: Callable[[LifePlan], Any], done: str
) -> HttpResponse:
    plan = _plan_for(request, plan_id)
    try:
        result = action(plan)
    except ServiceError as error:
        for message in error.messages:
            messages.error(request, message)
        return _back_to_plan(plan.pk)
    messages.success(request, done)
    return _back_to_plan(result.pk if isinstance(result, LifePlan) else plan.pk)


@member_required
@require_POST
def plan_approve(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(
        request,
        plan_id,
        lambda plan: plan_services.approve_plan(plan=plan, by=request.user),
        gettext("Plan approved."),
    )


@member_required
@require_POST
def plan_new_version(request: HttpRequest, plan_id: int) -> HttpResponse:
    return _plan_action(
        request,
        plan_id,
        lambda plan: plan_services.start_new_version(plan=plan, by=request.user),
        gettext("A new version is drafted; the earlier one is kept, read only."),
    )


@member_required
@require_POST
def plan_review(request: HttpRequest, plan_id: int) -> HttpResponse:
    _plan_for(request, plan_id)  # an outsider's 404 before anything about the form
    form = DayForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Give the date of the review."))
        return _back_to_plan(plan_id)
    return _plan_action(
        request,
        plan_id,
        lambda plan: plan_services.review_plan(
            plan=plan, by=request.user, on=form.cleaned_data["on"]
        ),
        gettext("Review recorded."),
    )


@member_required
@require_http_methods(["GET", "POST"])
def goal_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_for(request, plan_id)
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "form_token"}

        def write() -> tuple[str, str]:
            plan_services.add_goal(plan=plan, by=request.user, **fields)
            return reverse("plan_detail", args=[plan.pk]), gettext("Goal added.")

        try:
            return submissions.save_once(
                request,
                form.cleaned_data["form_token"],
                fallback=reverse("plan_detail", args=[plan.pk]),
                write=write,
            )
        except ServiceError as error:
            form.add_error(None, error)
    return _form_page(
        request,
        participant=plan.enrollment.participant,
        title=gettext("Add a goal"),
        form=form,
        action=reverse("goal_add", args=[plan.pk]),
        submit_label=gettext("Add goal"),
    )


@member_required
@require_http_methods(["GET", "POST"])
def goal_edit(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = get_object_or_404(
        plan_selectors.goals_visible_to(request.user).select_related(
            "plan__enrollment__participant"
        ),
        pk=goal_id,
    )
    initial = {name: getattr(goal, name) for name in plan_services.GOAL_FIELDS}
    form = GoalEditForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            plan_services.update_goal(goal=goal, by=request.user, **form.cleaned_data)
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("Goal saved."))
            return _back_to_plan(goal.plan_id)
    return _form_page(
        request,
        participant=goal.plan.enrollment.participant,
        title=gettext("Change a goal"),
        form=form,
        action=reverse("goal_edit", args=[goal.pk]),
        submit_label=gettext("Save goal"),
    )


@member_required
@require_http_methods(["GET", "POST"])
def milestone_add(request: HttpRequest, goal_id: int) -> HttpResponse:
    goal = get_object_or_404(
        plan_selectors.goals_visible_to(request.user).select_related(
            "plan__enrollment__participant"
        ),
        pk=goal_id,
    )
    form = MilestoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        fields = {k: v for k, v in form.cleaned_data.items() if k != "form_token"}
        plan_url = reverse("plan_detail", args=[goal.plan_id])

        def write() -> tuple[str, str]:
            plan_services.add_milestone(goal=goal, by=request.user, **fields)
            return plan_url, gettext("Milestone added.")

        try:
            return submissions.save_once(
                request, form.cleaned_data["form_token"], fallback=plan_url, write=write
            )
        except ServiceError as error:
            form.add_error(None, error)
    return _form_page(
        request,
        participant=goal.plan.enrollment.participant,
        title=gettext("Add a milestone"),
        form=form,
        action=reverse("milestone_add", args=[goal.pk]),
        submit_label=gettext("Add milestone"),
    )


@member_required
@require_POST
def milestone_met(request: HttpRequest, milestone_id: int) -> HttpResponse:
    milestone = get_object_or_404(
        plan_selectors.milestones_visible_to(request.user), pk=milestone_id
    )
    form = DayForm(request.POST)
    on = form.cleaned_data["on"] if form.is_valid() else None
    try:
        plan_services.mark_milestone_met(milestone=milestone, by=request.user, on=on)
    except ServiceError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, gettext("Milestone met."))
    return _back_to_plan(milestone.goal.plan_id)


@member_required
@require_GET
def session_milestones(request: HttpRequest) -> HttpResponse:
    """The session form's optional step, redrawn for the participants picked."""
    ids = [int(v) for v in request.GET.getlist("participants") if v.isdigit()][:20]
    milestones = plan_selectors.open_milestones_for(request.user, ids) if ids else []
    return render(
        request, "interventions/plans/_session_milestones.html", {"milestones": milestones}
    )


# The ledger -------------------------------------------------------------------------------------


@member_required
@require_http_methods(["GET", "POST"])
def incentive_request(request: HttpRequest, plan_id: int) -> HttpResponse:
    plan = _plan_for(request, plan_id)
    rules = IncentiveRules.objects.filter(program_id=plan.enrollment.program_id).first()
    sources = rules.funding_sources if rules else []
    form = IncentiveRequestForm(request.POST or None, plan=plan, sources=sources)
    if request.method == "POST" and form.is_valid():
        try:
            entry = plan_services.request_incentive(
                milestones=form.cleaned_data["milestones"],
                by=request.user,
                month=form.cleaned_data["month"],
                amount_cents=form.amount_cents,
                funding_source=form.cleaned_data["funding_source"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext("Incentive of %(amount)s requested; a manager approves it.")
                % {"amount": entry.amount_dollars},
            )
            return _back_to_plan(plan.pk)
    return _form_page(
        request,
        participant=plan.enrollment.participant,
        title=gettext("Request an incentive"),
        form=form,
        action=reverse("incentive_request", args=[plan.pk]),
        submit_label=gettext("Request"),
    )


def _after_ledger_action(request: HttpRequest, entry: IncentiveEntry) -> HttpResponse:
    target = request.POST.get("next", "")
    if target == "plan":
        return _back_to_plan(entry.plan_id)
    return redirect("ledger")


@ledger_required
@require_POST
def incentive_approve(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_for(request, entry_id)
    try:
        plan_services.approve_incentive(entry=entry, by=request.user)
    except ServiceError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request, gettext("%(amount)s approved.") % {"amount": entry.amount_dollars}
        )
    return _after_ledger_action(request, entry)


@ledger_required
@require_POST
def incentive_decline(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_for(request, entry_id)
    form = DeclineForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Say why the request is declined."))
        return _after_ledger_action(request, entry)
    try:
        plan_services.decline_incentive(
            entry=entry, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ServiceError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, gettext("Request declined."))
    return _after_ledger_action(request, entry)


@ledger_required
@require_http_methods(["GET", "POST"])
def incentive_pay(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_for(request, entry_id)
    form = PaidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            plan_services.mark_incentive_paid(
                entry=entry,
                by=request.user,
                paid_on=form.cleaned_data["paid_on"],
                method=form.cleaned_data["method"],
                reference=form.cleaned_data["reference"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, gettext("%(amount)s marked paid.") % {"amount": entry.amount_dollars}
            )
            return redirect("ledger")
    record(
        request,
        "view",
        entry.enrollment.participant,
        shown_on="incentiveentry",
        shown_on_id=entry.pk,
    )
    return render(
        request,
        "interventions/plans/incentive_pay.html",
        {"entry": entry, "form": form},
    )


@ledger_required
@require_POST
def incentive_reverse(request: HttpRequest, entry_id: int) -> HttpResponse:
    entry = _entry_for(request, entry_id)
    try:
        reversal = plan_services.reverse_incentive(entry=entry, by=request.user)
    except ServiceError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            gettext("Reversing entry of %(amount)s recorded; a manager approves it.")
            % {"amount": reversal.amount_dollars},
        )
    return redirect("ledger")


def _filtered_ledger(request: HttpRequest) -> tuple[LedgerFilterForm, Any]:
    form = LedgerFilterForm(request.GET or None)
    entries = plan_selectors.ledger_visible_to(request.user)
    if form.is_valid():
        if month := form.cleaned_data["month"]:
            entries = entries.filter(month=plan_services.month_of(month))
        if source := form.cleaned_data["funding_source"]:
            entries = entries.filter(funding_source=source)
        if status := form.cleaned_data["status"]:
            entries = entries.filter(status=status)
    return form, entries


@ledger_required
@require_GET
def ledger(request: HttpRequest) -> HttpResponse:
    """The ledger of the user's organisations: entries with their steps, totals per program
    and month and per funding source (public and private money never added together)."""
    form, entries = _filtered_ledger(request)
    page = Paginator(entries.order_by("-month", "-pk"), LEDGER_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    roles = selectors.user_roles(request.user)
    context = {
        "form": form,
        "page": page,
        "by_month": list(plan_selectors.ledger_by_program_and_month(entries)[:36]),
        "by_source": list(plan_selectors.ledger_by_funding_source(entries)),
        "is_manager": selectors.MANAGER in roles,
        "is_finance": selectors.FINANCE in roles,
        "decline_form": DeclineForm(auto_id=False),
    }
    return render(request, "interventions/plans/ledger.html", context)


@ledger_required
@require_GET
def ledger_participant(request: HttpRequest, participant_id: int) -> HttpResponse:
    entries = plan_selectors.ledger_visible_to(request.user).filter(
        enrollment__participant_id=participant_id
    )
    # Finance reads a person's payments without any other access to their record.
    participant = get_object_or_404(
        plan_selectors.ledger_participants(request.user), pk=participant_id
    )
    record(request, "view", participant, object_type="participant_ledger")
    return render(
        request,
        "interventions/plans/ledger_participant.html",
        {
            "participant": participant,
            "entries": list(entries.order_by("-month", "-pk")),
            "by_source": list(plan_selectors.ledger_by_funding_source(entries)),
        },
    )


LEDGER_HEADER = [
    "entry",
    "kind",
    "reverses",
    "participant_code",
    "first_name",
    "last_name",
    "program",
    "month",
    "amount_cents",
    "amount",
    "funding_source",
    "status",
    "requested_by",
    "requested_at",
    "decided_by",
    "decided_at",
    "paid_by",
    "paid_on",
    "method",
    "reference",
]


def _name(user: Any) -> str:
    return (user.get_full_name() or user.get_username()) if user else ""


@ledger_required
@require_GET
def ledger_export(request: HttpRequest) -> HttpResponse:
    """The finance office's CSV: money, dates and names of staff; never plan text."""
    _, entries = _filtered_ledger(request)

    def rows() -> Iterator[list[object]]:
        for entry in plan_selectors.ledger_export_rows(entries).iterator(chunk_size=500):
            participant = entry.enrollment.participant
            yield [
                entry.pk,
                entry.kind,
                entry.reverses_id,
                participant.participant_code,
                participant.first_name,
                participant.last_name,
                entry.enrollment.program.name,
                entry.month,
                entry.amount_cents,
                entry.amount_dollars,
                entry.get_funding_source_display(),
                entry.status,
                _name(entry.requested_by),
                entry.requested_at,
                _name(entry.decided_by),
                entry.decided_at,
                _name(entry.paid_by),
                entry.paid_on,
                entry.payment_method,
                entry.payment_reference,
            ]

    record(request, "export", object_type="incentive_ledger_export", format="csv")
    return stream_csv(
        f"incentive-ledger-{timezone.localdate():%Y-%m-%d}.csv", LEDGER_HEADER, rows()
    )
