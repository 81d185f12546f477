"""Writes for the shooting response: recording incidents, generating and completing response
tasks, call-ins, custom notifications and the weekly review's decisions.

Who gets a response task after an incident (one task per person, whatever the number of
reasons; the first matching rule decides its reason and kind):

1. involved in the incident (victim, suspect, witness, associate):
   - a victim of a non-fatal shooting -> hospital visit;
   - anyone else involved -> home visit (for a homicide victim, the visit is to the family);
2. holding a current tie (member or associate) to a group involved -> custom notification;
3. holding a current tie to a group in ACTIVE conflict with a group involved -> mediation.
   Dormant conflicts and truces do not count; neither do ties that had ended, or not yet
   started, on the day of the incident.

Every task is due 24 hours after the incident and goes to the worker of the person's open
enrolment (the most recent one that has a worker); without one it stays unassigned and the
organisation's managers see it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext

from interventions.access import can_see_street_intelligence, is_city_admin, managed_organizations
from interventions.errors import ServiceError
from interventions.models import (
    CLOCK_SKEW_ALLOWANCE,
    RESPONSE_WINDOW,
    Area,
    CallIn,
    CustomNotification,
    Enrollment,
    GroupConflict,
    GroupTie,
    Incident,
    IncidentGroup,
    IncidentParticipant,
    Participant,
    PartnerOrganization,
    ResponseTask,
    ReviewDecision,
    Session,
    SessionParticipant,
    ShootingReview,
    StreetGroup,
)
from interventions.selectors.response import follow_up_assignees
from interventions.services import case as services
from interventions.services import reminders as reminder_services

Kind = ResponseTask.Kind
Reason = ResponseTask.Reason
Role = IncidentParticipant.Role


# Incidents ------------------------------------------------------------------------------------


def enqueue_response_tasks(incident_id: int) -> None:
    """Generate the incident's tasks once the current transaction has committed (the worker
    must find the incident and its links in the database). Through the outbox: a broker that
    is down delays the tasks, never drops them."""
    from interventions.outbox.services import enqueue

    enqueue("interventions.tasks.generate_response_tasks_task", kwargs={"incident_id": incident_id})


@transaction.atomic
def record_incident(
    *,
    entered_by: AbstractBaseUser,
    kind: str,
    occurred_at: datetime,
    organization: PartnerOrganization | None = None,
    area: Area | None = None,
    location_description: str = "",
    victim_count: int = 0,
    participants: Mapping[str, Iterable[Participant]] | None = None,
    groups: Iterable[StreetGroup] = (),
) -> Incident:
    """Record a shooting with the people (by role) and the groups involved, and queue the
    generation of its response tasks. City admins enter incidents for the city (organization
    None) and may link anyone; a manager enters them for an organisation they manage and links
    that organisation's participants."""
    city = is_city_admin(entered_by)
    if organization is None and not city:
        raise ServiceError(
            gettext("Only city administrators can enter an incident for the whole city.")
        )
    if (
        organization is not None
        and not managed_organizations(entered_by, city_wide=True)
        .filter(pk=organization.pk)
        .exists()
    ):
        raise ServiceError(
            gettext("You do not manage %(organization)s, so cannot enter incidents for it.")
            % {"organization": organization}
        )
    if kind not in Incident.Kind.values:
        raise ServiceError(gettext("Choose the kind of incident."))
    if timezone.is_naive(occurred_at):
        raise ServiceError(gettext("The incident time needs a time zone."))
    if occurred_at > timezone.now() + CLOCK_SKEW_ALLOWANCE:
        raise ServiceError(gettext("An incident cannot be in the future."))
    if victim_count < 0:
        raise ServiceError(gettext("The number of victims cannot be negative."))
    if kind != Incident.Kind.SHOTS_FIRED and victim_count < 1:
        raise ServiceError(gettext("A homicide or a non-fatal shooting has at least one victim."))

    by_role: dict[int, tuple[Participant, str]] = {}
    for role, people in (participants or {}).items():
        if role not in Role.values:
            raise ServiceError(gettext("Choose the role of each person involved."))
        for person in people:
            if person.pk in by_role:
                raise ServiceError(
                    gettext("%(person)s is listed in more than one role.") % {"person": person}
                )
            if not city and person.organization_id != getattr(organization, "pk", None):
                raise ServiceError(gettext("You can only link your organisation's participants."))
            by_role[person.pk] = (person, role)
    groups = list(dict.fromkeys(groups))
    if groups and not can_see_street_intelligence(entered_by):
        raise ServiceError(gettext("You do not have access to street groups, so cannot link them."))

    incident = Incident.objects.create(
        kind=kind,
        occurred_at=occurred_at,
        organization=organization,
        area=area,
        location_description=location_description.strip(),
        victim_count=victim_count,
        entered_by=entered_by,
    )
    IncidentParticipant.objects.bulk_create(
        IncidentParticipant(incident=incident, participant=person, role=role)
        for person, role in by_role.values()
    )
    IncidentGroup.objects.bulk_create(IncidentGroup(incident=incident, group=g) for g in groups)
    enqueue_response_tasks(incident.pk)
    return incident


# Response tasks -------------------------------------------------------------------------------


def _current_ties(group_ids: set[int], on: date) -> list[tuple[int, int]]:
    if not group_ids:
        return []
    return list(
        GroupTie.objects.filter(group_id__in=group_ids)
        .filter(Q(since__isnull=True) | Q(since__lte=on))
        .filter(Q(until__isnull=True) | Q(until__gte=on))
        .order_by("participant_id", "group_id")
        .values_list("participant_id", "group_id")
    )


def generate_response_tasks(incident_id: int) -> int:
    """Create the missing response tasks of an incident; return how many were created.

    A fixed handful of queries whatever the number of people: the unique (incident,
    participant) constraint with ignore_conflicts makes a second run create nothing."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        return 0
    incident_day = timezone.localtime(incident.occurred_at).date()

    # participant id -> (reason, kind, via group id); the first rule that matches wins.
    plan: dict[int, tuple[str, str, int | None]] = {}
    for participant_id, role in IncidentParticipant.objects.filter(incident=incident).values_list(
        "participant_id", "role"
    ):
        hospital = role == Role.VICTIM and incident.kind == Incident.Kind.NONFATAL_SHOOTING
        plan[participant_id] = (
            Reason.INVOLVED,
            Kind.HOSPITAL_VISIT if hospital else Kind.HOME_VISIT,
            None,
        )

    involved_groups = set(
        IncidentGroup.objects.filter(incident=incident).values_list("group_id", flat=True)
    )
    rival_groups: set[int] = set()
    if involved_groups:
        for group_a, group_b in GroupConflict.objects.filter(
            Q(group_a_id__in=involved_groups) | Q(group_b_id__in=involved_groups),
            status=GroupConflict.Status.ACTIVE,
        ).values_list("group_a_id", "group_b_id"):
            rival_groups.update({group_a, group_b})
        rival_groups -= involved_groups

    rival_ties = []
    for participant_id, group_id in _current_ties(involved_groups | rival_groups, incident_day):
        if group_id in involved_groups:
            plan.setdefault(
                participant_id, (Reason.TIED_TO_INVOLVED_GROUP, Kind.CUSTOM_NOTIFICATION, group_id)
            )
        else:
            rival_ties.append((participant_id, group_id))
    # Rival ties come after every involved-group tie, so a person tied to both is notified
    # rather than mediated.
    for participant_id, group_id in rival_ties:
        plan.setdefault(participant_id, (Reason.TIED_TO_RIVAL_GROUP, Kind.MEDIATION, group_id))
    if not plan:
        return 0

    # Each person's organisation and the worker of their open enrolment (the most recent one
    # that has a worker), in one query.
    open_enrollment_worker = (
        Enrollment.objects.filter(participant=OuterRef("pk"), assigned_worker__isnull=False)
        .exclude(status=Enrollment.Status.EXITED)
        .order_by("-referred_on", "-id")
        .values("assigned_worker_id")[:1]
    )
    owners = {
        pk: (organization_id, worker_id)
        for pk, organization_id, worker_id in Participant.objects.filter(pk__in=plan)
        .annotate(worker_id=Subquery(open_enrollment_worker))
        .values_list("pk", "organization_id", "worker_id")
    }
    due_at = incident.occurred_at + RESPONSE_WINDOW
    before = ResponseTask.objects.filter(incident=incident).count()
    ResponseTask.objects.bulk_create(
        (
            ResponseTask(
                incident=incident,
                participant_id=participant_id,
                organization_id=owners[participant_id][0],
                assigned_worker_id=owners[participant_id][1],
                kind=kind,
                reason=reason,
                via_group_id=via_group,
                due_at=due_at,
            )
            for participant_id, (reason, kind, via_group) in plan.items()
        ),
        batch_size=2000,
        ignore_conflicts=True,
    )
    created = ResponseTask.objects.filter(incident=incident).count() - before
    if created:
        # Issue 14: the workers are told at once (interventions/services/reminders.py).
        reminder_services.enqueue_response_task_alerts(incident.pk)
    return created


def generate_missing_response_tasks(*, since: datetime) -> int:
    """The sweep: generate the tasks of every incident occurred or entered since `since` that
    has none, so even a lost outbox row cannot drop a shooting response. Returns how many tasks
    were created. An incident that connects nobody is looked at again each time, which costs a
    few queries and creates nothing."""
    without_tasks = (
        Incident.objects.filter(Q(occurred_at__gte=since) | Q(created_at__gte=since))
        .exclude(Exists(ResponseTask.objects.filter(incident=OuterRef("pk"))))
        .order_by("occurred_at", "pk")
        .values_list("pk", flat=True)
    )
    return sum(generate_response_tasks(incident_id) for incident_id in without_tasks)


def _may_complete(user: AbstractBaseUser, task: ResponseTask) -> bool:
    if task.assigned_worker_id == user.pk:
        return True
    return managed_organizations(user, city_wide=True).filter(pk=task.organization_id).exists()


@transaction.atomic
def complete_response_task(
    *, task: ResponseTask, session: Session, by: AbstractBaseUser
) -> ResponseTask:
    """Mark a task done by linking the session that reached the person."""
    task = ResponseTask.objects.select_for_update().select_related("incident").get(pk=task.pk)
    if not _may_complete(by, task):
        raise ServiceError(gettext("Only the assigned worker or a manager can complete this task."))
    if task.status != ResponseTask.Status.OPEN:
        raise ServiceError(
            gettext("This task is already %(status)s.")
            % {"status": task.get_status_display().lower()}
        )
    if session.organization_id != task.organization_id:
        raise ServiceError(
            gettext("The session must be one of the participant's organisation's sessions.")
        )
    if not SessionParticipant.objects.filter(
        session=session, participant_id=task.participant_id
    ).exists():
        raise ServiceError(gettext("The session must be with the person this task is about."))
    if session.occurred_at < task.incident.occurred_at:
        raise ServiceError(gettext("The session must be after the incident."))
    task.status = ResponseTask.Status.DONE
    task.completed_session = session
    task.completed_at = timezone.now()
    task.completed_by = by
    task.save(
        update_fields=["status", "completed_session", "completed_at", "completed_by", "updated_at"]
    )
    return task


SESSION_KIND_FOR_TASK = {
    Kind.HOSPITAL_VISIT: Session.Kind.HOSPITAL_VISIT,
    Kind.HOME_VISIT: Session.Kind.CRISIS_RESPONSE,
    Kind.MEDIATION: Session.Kind.CRISIS_RESPONSE,
    Kind.CUSTOM_NOTIFICATION: Session.Kind.CUSTOM_NOTIFICATION,
}


@transaction.atomic
def log_contact_and_complete(
    *,
    task: ResponseTask,
    worker: AbstractBaseUser,
    occurred_at: datetime,
    duration_minutes: int,
    location: str,
    notes: str = "",
    client_key: uuid.UUID | None = None,
) -> ResponseTask:
    """Log the contact that did the task (through services.log_session, so the session rules
    hold) and complete the task with it, all or nothing."""
    task = ResponseTask.objects.select_related("incident", "participant", "organization").get(
        pk=task.pk
    )
    if not _may_complete(worker, task):
        raise ServiceError(gettext("Only the assigned worker or a manager can complete this task."))
    if occurred_at < task.incident.occurred_at:
        raise ServiceError(gettext("The contact must be after the incident."))
    session = services.log_session(
        worker=worker,
        organization=task.organization,
        participants=[task.participant],
        kind=SESSION_KIND_FOR_TASK[ResponseTask.Kind(task.kind)],
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        location=location,
        notes=notes,
        client_key=client_key,
    )
    # A repeated submission finds its session, and the task already done with it.
    task.refresh_from_db(fields=["status", "completed_session"])
    if task.status == ResponseTask.Status.DONE and task.completed_session_id == session.pk:
        return task
    return complete_response_task(task=task, session=session, by=worker)


@transaction.atomic
def cancel_response_task(*, task: ResponseTask, by: AbstractBaseUser) -> ResponseTask:
    """A manager closes a task that no longer applies (the person moved away, is in custody)."""
    task = ResponseTask.objects.select_for_update().get(pk=task.pk)
    if not managed_organizations(by, city_wide=True).filter(pk=task.organization_id).exists():
        raise ServiceError(
            gettext("Only a manager of the participant's organisation can cancel this task.")
        )
    if task.status != ResponseTask.Status.OPEN:
        raise ServiceError(
            gettext("This task is already %(status)s.")
            % {"status": task.get_status_display().lower()}
        )
    task.status = ResponseTask.Status.CANCELLED
    task.save(update_fields=["status", "updated_at"])
    return task


# Call-ins and custom notifications -------------------------------------------------------------


def _mark_notified(participant_ids: Iterable[int], on: date) -> None:
    """Date the funnel's notified step, unless an earlier date is already there. The database
    refuses a notified date before identification, so those people are left as they are."""
    Participant.objects.filter(
        pk__in=list(participant_ids), notified_on__isnull=True, identified_on__lte=on
    ).filter(Q(engaged_on__isnull=True) | Q(engaged_on__gte=on)).update(
        notified_on=on, updated_at=timezone.now()
    )


def _require_manager_of(user: AbstractBaseUser, organization: PartnerOrganization) -> None:
    if not managed_organizations(user, city_wide=True).filter(pk=organization.pk).exists():
        raise ServiceError(
            gettext("You do not manage %(organization)s.") % {"organization": organization}
        )


@transaction.atomic
def record_call_in(
    *,
    by: AbstractBaseUser,
    organization: PartnerOrganization,
    held_on: date,
    place: str,
    attendees: Iterable[Participant],
    area: Area | None = None,
    notes: str = "",
) -> CallIn:
    _require_manager_of(by, organization)
    if held_on > timezone.localdate():
        raise ServiceError(gettext("The call-in date cannot be in the future."))
    if not place.strip():
        raise ServiceError(gettext("Say where the call-in was held."))
    attendees = list(dict.fromkeys(attendees))
    if any(p.organization_id != organization.pk for p in attendees):
        raise ServiceError(gettext("Attendees must be your organisation's participants."))
    call_in = CallIn.objects.create(
        organization=organization, held_on=held_on, place=place.strip(), area=area, notes=notes
    )
    call_in.attendees.set(attendees)
    _mark_notified((p.pk for p in attendees), held_on)
    return call_in


@transaction.atomic
def record_custom_notification(
    *,
    by: AbstractBaseUser,
    participant: Participant,
    delivered_on: date,
    deliverers: Iterable[AbstractBaseUser],
    message_delivered: bool,
    response: str = "",
    response_notes: str = "",
) -> CustomNotification:
    organization = participant.organization
    _require_manager_of(by, organization)
    if delivered_on > timezone.localdate():
        raise ServiceError(gettext("The notification date cannot be in the future."))
    if delivered_on < participant.identified_on:
        raise ServiceError(gettext("The notification cannot be before the person was identified."))
    if response and response not in CustomNotification.Response.values:
        raise ServiceError(gettext("Choose the person's response."))
    deliverers = list(dict.fromkeys(deliverers))
    if not deliverers:
        raise ServiceError(gettext("Name at least one person who delivered the message."))
    notification = CustomNotification.objects.create(
        participant=participant,
        organization=organization,
        delivered_on=delivered_on,
        message_delivered=message_delivered,
        response=response,
        response_notes=response_notes.strip(),
    )
    notification.deliverers.set(deliverers)
    if message_delivered:
        _mark_notified([participant.pk], delivered_on)
    return notification


# The weekly review -----------------------------------------------------------------------------


@transaction.atomic
def record_review(
    *,
    by: AbstractBaseUser,
    period_start: date,
    period_end: date,
    decisions: str,
    follow_ups: Iterable[tuple[AbstractBaseUser, str, date | None]] = (),
    organization: PartnerOrganization | None = None,
) -> ShootingReview:
    if organization is None and not is_city_admin(by):
        raise ServiceError(gettext("Only city administrators can record a city-wide review."))
    if organization is not None:
        _require_manager_of(by, organization)
    if period_end < period_start:
        raise ServiceError(gettext("The end of the period cannot be before its start."))
    if not decisions.strip():
        raise ServiceError(gettext("Write down what the review decided."))
    follow_ups = [(user, text.strip(), due) for user, text, due in follow_ups if text.strip()]
    allowed = set(follow_up_assignees(by).values_list("pk", flat=True))
    if any(user.pk not in allowed for user, _, _ in follow_ups):
        raise ServiceError(gettext("Follow-ups can only go to members of your organisations."))
    review = ShootingReview.objects.create(
        period_start=period_start,
        period_end=period_end,
        organization=organization,
        decisions=decisions.strip(),
        recorded_by=by,
    )
    ReviewDecision.objects.bulk_create(
        ReviewDecision(review=review, assigned_to=user, description=text[:500], due_on=due)
        for user, text, due in follow_ups
    )
    return review
