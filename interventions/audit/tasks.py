"""Celery tasks of the audit trail (scheduled in settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from interventions.audit.context import Actor, acting_as
from interventions.audit.services import audit_events_purge_expired


@shared_task(
    name="interventions.audit.tasks.purge_expired_audit_events",
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def purge_expired_audit_events() -> int:
    """Delete audit events past the retention period. Running it twice deletes nothing more."""
    with acting_as(Actor(username="system:purge_audit")):
        return audit_events_purge_expired()
