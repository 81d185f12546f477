"""Reads for the shooting response: incidents, response tasks, street intelligence, the reach
measures, the notification funnel and the incident counts that meet the outcome data.

Who may see which incident, task, review, call-in or piece of street intelligence is decided
in `interventions.access` (incidents_visible_to and the rest); these reads start from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import (
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy

from interventions.access import (
    AnyUser,
    managed_organizations,
    organizations_of,
    response_tasks_visible_to,
)
from interventions.models import (
    Area,
    CallIn,
    CustomNotification,
    Enrollment,
    Incident,
    Participant,
    PartnerOrganization,
    ResponseTask,
    SessionParticipant,
)

INCIDENT_SOURCE_LABEL = gettext_lazy("incidents recorded in GVR Case Manager")
REACHED_WITHIN = (timedelta(hours=24), timedelta(hours=72))


# Areas ------------------------------------------------------------------------------------------


def area_and_descendant_ids(area: Area) -> list[int]:
    """The area and every area under it (neighbourhoods of a city, cities of a county), from
    one query over the (small) area table, whatever the depth."""
    children: dict[int | None, list[int]] = {}
    for area_id, parent_id in Area.objects.order_by().values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(area_id)
    found, stack = [], [area.pk]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return found


# Incidents and tasks --------------------------------------------------------------------------


def with_first_contact(tasks: QuerySet[ResponseTask]) -> QuerySet[ResponseTask]:
    """Annotate first_contact_at (the first session with the participant at or after the
    incident, logged by anyone) and time_to_first_contact."""
    first_contact = (
        SessionParticipant.objects.filter(
            participant=OuterRef("participant_id"),
            occurred_at__gte=OuterRef("incident__occurred_at"),
        )
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    return tasks.annotate(first_contact_at=Subquery(first_contact)).annotate(
        time_to_first_contact=ExpressionWrapper(
            F("first_contact_at") - F("incident__occurred_at"), output_field=DurationField()
        )
    )


def task_list(tasks: QuerySet[ResponseTask]) -> QuerySet[ResponseTask]:
    return with_first_contact(tasks).select_related(
        "incident", "incident__area", "participant", "assigned_worker", "organization"
    )


def open_tasks_for(user: AnyUser) -> QuerySet[ResponseTask]:
    """The open tasks assigned to this user, soonest due first (the top of a worker's home)."""
    if not user.is_authenticated or not user.is_active:
        return ResponseTask.objects.none()
    return (
        ResponseTask.objects.filter(
            assigned_worker=user,
            status=ResponseTask.Status.OPEN,
            organization__in=organizations_of(user),
        )
        .select_related("incident", "participant")
        .order_by("due_at", "id")
    )


def overdue_tasks_visible_to(user: AnyUser) -> QuerySet[ResponseTask]:
    """Open tasks past their due time in the organisations the user manages (city admins: all),
    unassigned ones included."""
    tasks = ResponseTask.objects.filter(
        status=ResponseTask.Status.OPEN,
        due_at__lt=timezone.now(),
        organization__in=managed_organizations(user, city_wide=True),
    )
    return task_list(tasks).order_by("due_at", "id")


def sessions_to_complete(task: ResponseTask, user: AnyUser) -> QuerySet:
    """The user's organisation's sessions with the task's participant since the incident: the
    ones that can complete the task."""
    from interventions.access import sessions_visible_to

    return (
        sessions_visible_to(user)
        .filter(
            organization_id=task.organization_id,
            attendance__participant_id=task.participant_id,
            occurred_at__gte=task.incident.occurred_at,
        )
        .select_related("worker")
        .order_by("occurred_at")
    )


@dataclass(frozen=True)
class Reach:
    connected: int
    reached: int
    within_24h: int
    within_72h: int

    def share(self, count: int) -> float | None:
        return round(100 * count / self.connected, 1) if self.connected else None

    @property
    def share_24h(self) -> float | None:
        return self.share(self.within_24h)

    @property
    def share_72h(self) -> float | None:
        return self.share(self.within_72h)


def _reach_aggregates() -> dict[str, Count]:
    day, three_days = REACHED_WITHIN
    return {
        "connected": Count("id"),
        "reached": Count("id", filter=Q(first_contact_at__isnull=False)),
        "within_24h": Count("id", filter=Q(time_to_first_contact__lte=day)),
        "within_72h": Count("id", filter=Q(time_to_first_contact__lte=three_days)),
    }


def incident_reach(tasks: QuerySet[ResponseTask]) -> Reach:
    """Reach over a set of tasks (one incident's, for the incident page). Cancelled tasks count:
    the person was connected whether or not the task was kept."""
    return Reach(**with_first_contact(tasks).aggregate(**_reach_aggregates()))


def _monthly_reach_rows(
    tasks: QuerySet[ResponseTask], start: date, end: date
) -> list[dict[str, object]]:
    """The reach of these tasks per month of the incident (start..end inclusive, local dates):
    connected people, how many were reached, reached within 24 h and 72 h, and the shares in
    percent of the connected, computed from the counts. One query."""
    rows = (
        with_first_contact(
            tasks.filter(
                incident__occurred_at__date__gte=start, incident__occurred_at__date__lte=end
            )
        )
        .annotate(month=TruncMonth("incident__occurred_at"))
        .values("month")
        .annotate(**_reach_aggregates())
        .order_by("month")
    )
    result = []
    for row in rows:
        reach = Reach(row["connected"], row["reached"], row["within_24h"], row["within_72h"])
        result.append(
            {
                "month": timezone.localtime(row["month"]).date()
                if isinstance(row["month"], datetime)
                else row["month"],
                "connected": reach.connected,
                "reached": reach.reached,
                "within_24h": reach.within_24h,
                "within_72h": reach.within_72h,
                "share_24h": reach.share_24h,
                "share_72h": reach.share_72h,
            }
        )
    return result


def monthly_reach(
    user: AnyUser,
    start: date,
    end: date,
    organization: PartnerOrganization | None = None,
) -> list[dict[str, object]]:
    """Reach per month of the incident over the tasks the user may see (see
    `_monthly_reach_rows`). One query."""
    tasks = response_tasks_visible_to(user)
    if organization is not None:
        tasks = tasks.filter(organization=organization)
    return _monthly_reach_rows(tasks, start, end)


def monthly_reach_for_organizations(
    organizations: QuerySet[PartnerOrganization] | None,
    start: date,
    end: date,
    *,
    area_ids: list[int] | None = None,
) -> list[dict[str, object]]:
    """Reach per month of the incident for the metrics dashboard, whose scope (which
    organisations, and whether small counts are suppressed) `metrics.selectors.dashboard_scope`
    has already decided: an analyst sees every organisation's figures there but no task through
    `response_tasks_visible_to`. `organizations` None: every organisation. `area_ids`: only
    incidents in these areas (None: anywhere, including incidents with no area). Counts only,
    never a task or a person. One query."""
    tasks = ResponseTask.objects.all()
    if organizations is not None:
        tasks = tasks.filter(organization__in=organizations)
    if area_ids is not None:
        tasks = tasks.filter(incident__area_id__in=area_ids)
    return _monthly_reach_rows(tasks, start, end)


def monthly_reach_by_incident_area(
    organizations: QuerySet[PartnerOrganization] | None, start: date, end: date
) -> list[dict[str, object]]:
    """The counts of `monthly_reach_for_organizations` per month of the incident and per area
    of the incident (`area_id` None: no area recorded), so the dashboard can suppress them
    across the area tree. Counts only. One query."""
    tasks = ResponseTask.objects.all()
    if organizations is not None:
        tasks = tasks.filter(organization__in=organizations)
    rows = (
        with_first_contact(
            tasks.filter(
                incident__occurred_at__date__gte=start, incident__occurred_at__date__lte=end
            )
        )
        .annotate(month=TruncMonth("incident__occurred_at"), incident_area=F("incident__area_id"))
        .values("month", "incident_area")
        .annotate(**_reach_aggregates())
        .order_by("month", "incident_area")
    )
    return [
        {
            **{name: row[name] for name in _reach_aggregates()},
            "area_id": row["incident_area"],
            "month": timezone.localtime(row["month"]).date()
            if isinstance(row["month"], datetime)
            else row["month"],
        }
        for row in rows
    ]


# Outcomes -------------------------------------------------------------------------------------


INCIDENT_MEASURES = ("homicide", "nonfatal_shooting", "shooting_incident")


def incident_counts_by_month(
    area: Area, start: date, end: date, *, area_ids: list[int] | None = None
) -> list[dict[str, object]]:
    """Outcome counts from the incidents recorded here, for an area (and the areas inside it),
    per month, start..end inclusive. Kept apart from imported official figures: every row says
    its source. Measures: `homicide` (victims of homicides), `nonfatal_shooting` (victims of
    non-fatal shootings), `shooting_incident` (incidents, of every kind: all involve shots).

    City-wide counts of events, not of any organisation's participants: shown unsuppressed to
    whoever may see the outcome figures. `area_ids`: the area and its descendants when the caller
    already has them (else one query finds them). One query for the counts."""
    if area_ids is None:
        area_ids = area_and_descendant_ids(area)
    rows = (
        Incident.objects.filter(
            area_id__in=area_ids,
            occurred_at__date__gte=start,
            occurred_at__date__lte=end,
        )
        .annotate(month=TruncMonth("occurred_at"))
        .values("month")
        .annotate(
            homicide=Sum("victim_count", filter=Q(kind=Incident.Kind.HOMICIDE), default=0),
            nonfatal_shooting=Sum(
                "victim_count", filter=Q(kind=Incident.Kind.NONFATAL_SHOOTING), default=0
            ),
            shooting_incident=Count("id"),
        )
        .order_by("month")
    )
    result = []
    for row in rows:
        month = row["month"]
        if isinstance(month, datetime):
            month = timezone.localtime(month).date()
        for measure in INCIDENT_MEASURES:
            result.append(
                {
                    "month": month,
                    "measure": measure,
                    "count": row[measure],
                    "source": INCIDENT_SOURCE_LABEL,
                }
            )
    return result


# Street intelligence --------------------------------------------------------------------------


# Reviews, call-ins, notifications, the funnel -----------------------------------------------


def follow_up_assignees(user: AnyUser) -> QuerySet:
    """Users a review may assign follow-ups to: active members of the organisations it covers."""
    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__is_active=True,
            memberships__organization__in=managed_organizations(user, city_wide=True),
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


ENROLLED_STATUSES = (Enrollment.Status.ENROLLED, Enrollment.Status.ACTIVE)


def notification_funnel(user: AnyUser, start: date, end: date) -> list[dict[str, object]]:
    """The funnel per partner, for the people identified in start..end (a cohort: each later
    step counts people of that cohort, whenever they reached it).

    identified: identified_on in the period; notified: notified_on set, or a custom notification
    delivered, or attended a call-in; engaged: engaged_on set; enrolled: an enrolment that
    reached enrolled or active (it may have ended since). One query, aggregated in PostgreSQL.
    """
    participants = Participant.objects.filter(
        organization__in=managed_organizations(user, city_wide=True),
        identified_on__gte=start,
        identified_on__lte=end,
    )
    notified = (
        Q(notified_on__isnull=False)
        | Exists(
            CustomNotification.objects.filter(participant=OuterRef("pk"), message_delivered=True)
        )
        | Exists(CallIn.attendees.through.objects.filter(participant=OuterRef("pk")))
    )
    enrolled = Exists(
        Enrollment.objects.filter(participant=OuterRef("pk")).filter(
            Q(status__in=ENROLLED_STATUSES)
            | Q(enrolled_on__isnull=False)
            | Q(active_on__isnull=False)
        )
    )
    rows = (
        participants.values("organization_id", "organization__name")
        .annotate(
            identified=Count("id"),
            notified=Count("id", filter=notified),
            engaged=Count("id", filter=Q(engaged_on__isnull=False)),
            enrolled=Count("id", filter=enrolled),
        )
        .order_by("organization__name")
    )
    return list(rows)
