"""The shooting-response pages: incidents, response tasks, the weekly shooting review, reach,
call-ins, custom notifications, the notification funnel and street intelligence.

Every record is fetched through a function that takes the user (interventions.access), so a
record outside the user's scope is a 404; street intelligence without the permission is a 404
too (the page does not admit it exists)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST

from interventions import access
from interventions.audit import audited_view, record, record_participants_viewed
from interventions.dates import period_bounds
from interventions.errors import ServiceError
from interventions.forms import single_submit as submissions
from interventions.forms.response import (
    CallInForm,
    CustomNotificationForm,
    FollowUpFormSet,
    IncidentForm,
    LinkSessionForm,
    PeriodForm,
    QuickContactForm,
    ReviewForm,
)
from interventions.models import ResponseTask
from interventions.selectors import response as rs
from interventions.services import response as response_services
from interventions.views.guards import (
    manager_required,
    member_required,
    street_intelligence_required,
)

INCIDENTS_PAGE_SIZE = 50


def _service_errors(form: Any, error: ServiceError) -> None:
    for message in error.messages:
        form.add_error(None, message)


# Incidents ------------------------------------------------------------------------------------


@member_required(city_admin=True)
def incident_list(request: HttpRequest) -> HttpResponse:
    visible_tasks = access.response_tasks_visible_to(request.user)
    incidents = (
        access.incidents_visible_to(request.user)
        .select_related("area")
        .annotate(
            task_count=Count("response_tasks", filter=Q(response_tasks__in=visible_tasks)),
            open_count=Count(
                "response_tasks",
                filter=Q(response_tasks__in=visible_tasks, response_tasks__status="open"),
            ),
        )
        .order_by("-occurred_at")
    )
    page = Paginator(incidents, INCIDENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "response/incident_list.html",
        {"page": page, "can_manage": access.can_manage_response(request.user)},
    )


def _incident_form(request: HttpRequest, data: Any = None) -> IncidentForm:
    user = request.user
    return IncidentForm(
        data,
        organizations=access.managed_organizations(user, city_wide=True),
        participants=access.participants_an_incident_may_name(user),
        groups=access.street_groups_visible_to(user).filter(status="active"),
        city_admin=access.is_city_admin(user),
        initial={"occurred_at": timezone.localtime().replace(second=0, microsecond=0)},
    )


@manager_required(city_wide=True)
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    form = _incident_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> tuple[str, str]:
            incident = response_services.record_incident(
                entered_by=request.user,
                organization=data["organization"],
                kind=data["kind"],
                occurred_at=data["occurred_at"],
                area=data["area"],
                location_description=data["location_description"],
                victim_count=data["victim_count"],
                participants=form.people_by_role(),
                groups=data.get("groups") or [],
            )
            return reverse("incident_detail", args=[incident.pk]), gettext(
                "Incident recorded. Response tasks for the people connected to it are being "
                "created."
            )

        try:
            return submissions.save_once(
                request, data["form_token"], fallback=reverse("incident_list"), write=write
            )
        except ServiceError as error:
            _service_errors(form, error)
    return render(request, "response/incident_form.html", {"form": form})


@member_required(city_admin=True)
@audited_view("view", "incident")
def incident_detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    user = request.user
    incident = get_object_or_404(
        access.incidents_visible_to(user).select_related("area", "organization"), pk=incident_id
    )
    involvements = access.involvements_visible_to(user, incident).select_related("participant")
    tasks = access.response_tasks_visible_to(user).filter(incident=incident)
    show_groups = access.can_see_street_intelligence(user)
    context = {
        "incident": incident,
        "involvements": involvements.order_by("role", "participant__last_name"),
        "tasks": rs.task_list(tasks).select_related("via_group").order_by("status", "due_at"),
        "reach": rs.incident_reach(tasks),
        "groups": incident.groups.all() if show_groups else None,
        "show_groups": show_groups,
        "can_manage": access.can_manage_response(user),
    }
    # The page names the people involved and those the tasks are about.
    record_participants_viewed(
        request,
        [
            *involvements.values_list("participant_id", flat=True),
            *tasks.values_list("participant_id", flat=True),
        ],
        shown_on=incident,
    )
    return render(request, "response/incident_detail.html", context)


# Response tasks -------------------------------------------------------------------------------


@member_required(city_admin=True)
def response_tasks(request: HttpRequest) -> HttpResponse:
    """The user's own open tasks (the same list as the top of the worker's home)."""
    return render(request, "response/my_tasks.html")


@member_required(city_admin=True)
@require_http_methods(["GET", "POST"])
def response_task_complete(request: HttpRequest, responsetask_id: int) -> HttpResponse:
    user = request.user
    task = get_object_or_404(
        access.response_tasks_visible_to(user).select_related(
            "incident", "participant", "assigned_worker", "organization"
        ),
        pk=responsetask_id,
    )
    sessions = rs.sessions_to_complete(task, user)
    action = request.POST.get("action") if request.method == "POST" else None
    # A POST with no known action says so, rather than drawing the page again as if nothing
    # had been sent. (A second POST for a task already done shows it done: a double submit.)
    refusal = None
    if request.method == "POST" and action not in {"link", "log"}:
        refusal = gettext("Choose whether to link a session or log a contact.")
    link_form = LinkSessionForm(request.POST if action == "link" else None, sessions=sessions)
    quick_form = QuickContactForm(request.POST if action == "log" else None)
    if task.status == ResponseTask.Status.OPEN and action in {"link", "log"}:
        form = link_form if action == "link" else quick_form
        if form.is_valid():
            data = form.cleaned_data
            try:
                if action == "link":
                    response_services.complete_response_task(
                        task=task, session=data["session"], by=user
                    )
                else:
                    response_services.log_contact_and_complete(
                        task=task,
                        worker=user,
                        occurred_at=data["occurred_at"],
                        duration_minutes=data["duration_minutes"],
                        location=data["location"],
                        notes=data["notes"],
                        client_key=data["client_key"],
                    )
            except ServiceError as error:
                _service_errors(form, error)
            else:
                messages.success(
                    request,
                    gettext("Done: %(name)s was reached.") % {"name": task.participant.full_name},
                )
                return redirect("incident_detail", incident_id=task.incident_id)
    context = {
        "task": task,
        "link_form": link_form,
        "quick_form": quick_form,
        "has_sessions": sessions.exists(),
        "can_cancel": access.managed_organizations(user, city_wide=True)
        .filter(pk=task.organization_id)
        .exists(),
    }
    record(request, "view", task.participant, shown_on="responsetask", shown_on_id=task.pk)
    if refusal is not None:
        messages.error(request, refusal)
        return render(request, "response/task_complete.html", context, status=400)
    return render(request, "response/task_complete.html", context)


@manager_required(city_wide=True)
@require_POST
def response_task_cancel(request: HttpRequest, responsetask_id: int) -> HttpResponse:
    task = get_object_or_404(access.response_tasks_visible_to(request.user), pk=responsetask_id)
    try:
        response_services.cancel_response_task(task=task, by=request.user)
    except ServiceError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, gettext("Task cancelled."))
    return redirect("incident_detail", incident_id=task.incident_id)


@manager_required(city_wide=True)
def response_overdue(request: HttpRequest) -> HttpResponse:
    tasks = rs.overdue_tasks_visible_to(request.user)
    return render(request, "response/overdue.html", {"tasks": tasks, "now": timezone.now()})


@manager_required(city_wide=True)
def response_reach(request: HttpRequest) -> HttpResponse:
    form = PeriodForm(request.GET or None, default_days=365)
    start, end = form.period()
    rows = rs.monthly_reach(request.user, start, end)
    return render(
        request,
        "response/reach.html",
        {"form": form, "rows": rows, "start": start, "end": end},
    )


# The weekly shooting review --------------------------------------------------------------------


@manager_required(city_wide=True)
@require_http_methods(["GET", "POST"])
def shooting_review(request: HttpRequest) -> HttpResponse:
    user = request.user
    city_admin = access.is_city_admin(user)
    period_form = PeriodForm(request.GET or None, default_days=7)
    start, end = period_form.period()
    assignees = rs.follow_up_assignees(user)
    organizations = access.managed_organizations(user, city_wide=True)
    review_form = ReviewForm(
        request.POST or None,
        organizations=organizations,
        city_admin=city_admin,
        initial={"period_start": start, "period_end": end},
    )
    formset = FollowUpFormSet(
        request.POST or None, prefix="followup", form_kwargs={"assignees": assignees}
    )
    if request.method == "POST" and review_form.is_valid() and formset.is_valid():
        data = review_form.cleaned_data
        follow_ups = [
            (row["assigned_to"], row["description"], row["due_on"])
            for row in formset.cleaned_data
            if row.get("description")
        ]
        try:
            response_services.record_review(
                by=user,
                organization=data["organization"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                decisions=data["decisions"],
                follow_ups=follow_ups,
            )
        except ServiceError as error:
            _service_errors(review_form, error)
        else:
            messages.success(request, gettext("The review's decisions are recorded."))
            query = urlencode({"start": data["period_start"], "end": data["period_end"]})
            return redirect(f"{reverse('shooting_review')}?{query}")

    since, until = period_bounds(start, end)
    incidents = (
        access.incidents_visible_to(user)
        .filter(occurred_at__gte=since, occurred_at__lt=until)
        .select_related("area")
        .order_by("occurred_at")
    )
    tasks = list(
        rs.task_list(
            access.response_tasks_visible_to(user).filter(
                incident__occurred_at__gte=since, incident__occurred_at__lt=until
            )
        ).order_by("incident__occurred_at", "due_at", "participant__last_name")
    )
    not_reached = [
        task
        for task in tasks
        if task.first_contact_at is None and task.status != ResponseTask.Status.CANCELLED
    ]
    reviews = (
        access.shooting_reviews_visible_to(user)
        .filter(period_start__lte=end, period_end__gte=start)
        .select_related("recorded_by", "organization")
        .prefetch_related(
            Prefetch(
                "follow_ups",
                queryset=access.review_follow_ups_visible_to(user).select_related("assigned_to"),
            )
        )
    )
    context = {
        "period_form": period_form,
        "start": start,
        "end": end,
        "incidents": incidents,
        "tasks": tasks,
        "not_reached": not_reached,
        "reviews": reviews,
        "review_form": review_form,
        "formset": formset,
    }
    return render(request, "response/review.html", context)


# Call-ins, custom notifications and the funnel ----------------------------------------------


@manager_required(city_wide=True)
def notification_funnel(request: HttpRequest) -> HttpResponse:
    user = request.user
    form = PeriodForm(request.GET or None, default_days=365)
    start, end = form.period()
    rows = rs.notification_funnel(user, start, end)
    totals = {
        step: sum(row[step] for row in rows)
        for step in ("identified", "notified", "engaged", "enrolled")
    }
    context = {
        "form": form,
        "start": start,
        "end": end,
        "rows": rows,
        "totals": totals,
        "call_ins": access.call_ins_visible_to(user)
        .filter(organization__in=access.managed_organizations(user, city_wide=True))
        .select_related("organization")
        .annotate(attendee_count=Count("attendees"))[:10],
        "notifications": access.custom_notifications_visible_to(user)
        .filter(organization__in=access.managed_organizations(user, city_wide=True))
        .select_related("participant")[:10],
    }
    return render(request, "response/funnel.html", context)


def _managed_participants(request: HttpRequest) -> Any:
    return access.participants_of_managed_organizations(request.user)


@manager_required(city_wide=True)
@require_http_methods(["GET", "POST"])
def callin_new(request: HttpRequest) -> HttpResponse:
    form = CallInForm(
        request.POST or None,
        organizations=access.managed_organizations(request.user, city_wide=True),
        participants=_managed_participants(request),
        initial={"held_on": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> tuple[str, str]:
            response_services.record_call_in(
                by=request.user,
                organization=data["organization"],
                held_on=data["held_on"],
                place=data["place"],
                area=data["area"],
                attendees=data["attendees"],
                notes=data["notes"],
            )
            return reverse("notification_funnel"), gettext("Call-in recorded.")

        try:
            return submissions.save_once(
                request, data["form_token"], fallback=reverse("notification_funnel"), write=write
            )
        except ServiceError as error:
            _service_errors(form, error)
    return render(
        request, "response/simple_form.html", {"form": form, "title": gettext("Record a call-in")}
    )


@manager_required(city_wide=True)
@require_http_methods(["GET", "POST"])
def custom_notification_new(request: HttpRequest) -> HttpResponse:
    form = CustomNotificationForm(
        request.POST or None,
        participants=_managed_participants(request),
        deliverers=rs.follow_up_assignees(request.user),
        initial={"delivered_on": timezone.localdate(), "message_delivered": True},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data

        def write() -> tuple[str, str]:
            response_services.record_custom_notification(
                by=request.user,
                participant=data["participant"],
                delivered_on=data["delivered_on"],
                deliverers=data["deliverers"],
                message_delivered=data["message_delivered"],
                response=data["response"],
                response_notes=data["response_notes"],
            )
            return reverse("notification_funnel"), gettext("Custom notification recorded.")

        try:
            return submissions.save_once(
                request, data["form_token"], fallback=reverse("notification_funnel"), write=write
            )
        except ServiceError as error:
            _service_errors(form, error)
    return render(
        request,
        "response/simple_form.html",
        {"form": form, "title": gettext("Record a custom notification")},
    )


# Street intelligence --------------------------------------------------------------------------


@street_intelligence_required
def streetgroup_list(request: HttpRequest) -> HttpResponse:
    groups = access.street_groups_visible_to(request.user).annotate(
        current_ties=Count(
            "ties",
            filter=Q(ties__until__isnull=True) | Q(ties__until__gte=timezone.localdate()),
        )
    )
    return render(request, "response/streetgroup_list.html", {"groups": groups})


@street_intelligence_required
@audited_view("view", "streetgroup")
def streetgroup_detail(request: HttpRequest, streetgroup_id: int) -> HttpResponse:
    user = request.user
    group = get_object_or_404(access.street_groups_visible_to(user), pk=streetgroup_id)
    conflicts = access.group_conflicts_visible_to(user).filter(Q(group_a=group) | Q(group_b=group))
    context = {
        "group": group,
        "ties": access.group_ties_visible_to(user).filter(group=group),
        "conflicts": conflicts,
        "recent_incidents": access.incidents_visible_to(user)
        .filter(groups=group, occurred_at__gte=timezone.now() - timedelta(days=365))
        .order_by("-occurred_at")[:20],
    }
    # The page names the group's members.
    record_participants_viewed(
        request, context["ties"].values_list("participant_id", flat=True), shown_on=group
    )
    return render(request, "response/streetgroup_detail.html", context)
