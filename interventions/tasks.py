"""Celery tasks: thin, idempotent, by id. Each re-fetches what it needs and calls one service."""

from __future__ import annotations

from celery import shared_task
from django.db import DatabaseError

from interventions import response_services


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
