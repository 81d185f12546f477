"""Celery tasks: thin, idempotent, by id. Each re-fetches what it needs and calls one service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import DatabaseError
from django.utils import timezone

from interventions.services import caseload as caseload_services
from interventions.services import reminders as reminder_services
from interventions.services import response as response_services
from interventions.services import staff as staff_services
from interventions.text_messages import TextMessageError

# How far back the sweep looks for incidents without response tasks.
SWEEP_DAYS = 7


@shared_task(
    # The name outboxes and brokers hold: it must not follow the module if the code moves.
    name="interventions.tasks.generate_response_tasks_task",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,
)
def generate_response_tasks_task(incident_id: int) -> int:
    """Create the response tasks of an incident. Safe to run twice: the second run creates
    nothing (the tasks are unique per incident and person)."""
    return response_services.generate_response_tasks(incident_id)


@shared_task(
    name="interventions.sweep_missing_response_tasks",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=120,
    max_retries=3,
    acks_late=True,
)
def sweep_missing_response_tasks() -> int:
    """Every 10 minutes (beat): tasks for any incident of the last SWEEP_DAYS days without them."""
    since = timezone.now() - timedelta(days=SWEEP_DAYS)
    return response_services.generate_missing_response_tasks(since=since)


@shared_task(
    name="interventions.send_morning_digests",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=3,
    acks_late=True,
)
def send_morning_digests() -> int:
    """Beat, every 15 minutes: each user's morning digest once it is due; once a day each."""
    return reminder_services.send_morning_digests()


@shared_task(
    name="interventions.send_response_task_alerts",
    autoretry_for=(DatabaseError, OSError, TextMessageError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,
)
def send_response_task_alerts(incident_id: int) -> int:
    """Outbox, after an incident's response tasks are created: tell their workers at once."""
    return reminder_services.send_response_task_alerts(incident_id)


@shared_task(
    name="interventions.send_staff_invitation",
    autoretry_for=(DatabaseError, OSError),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,
)
def send_staff_invitation(user_id: int) -> bool:
    """Outbox, after an invitation is saved: e-mail the set-a-password link."""
    return staff_services.send_staff_invitation(user_id)


@shared_task(
    name="interventions.refresh_caseload_counts",
    autoretry_for=(DatabaseError,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=5,
    acks_late=True,
)
def refresh_caseload_counts_task(organization_id: int | None = None) -> int:
    """Rebuild the manager dashboard's kept counts of one organisation, or of every one (the
    nightly run). Idempotent: the rows are rebuilt whole."""
    if organization_id is None:
        return caseload_services.refresh_all_caseload_counts()
    return caseload_services.refresh_caseload_counts(organization_id)
