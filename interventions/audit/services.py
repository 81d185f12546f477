"""Writes on the audit trail that are not single events: the retention purge."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from interventions.errors import ServiceError

# The database refuses to purge anything younger (migrations/0001_initial.py); this is the same
# floor, checked first so a bad setting gets a clear message instead of a database error.
MINIMUM_RETENTION_DAYS = 365


def audit_retention_cutoff(*, now: datetime | None = None) -> datetime:
    days = settings.GVR_AUDIT_RETENTION_DAYS
    if days < MINIMUM_RETENTION_DAYS:
        raise ServiceError(
            f"GVR_AUDIT_RETENTION_DAYS is {days}; audit events must be kept at least "
            f"{MINIMUM_RETENTION_DAYS} days."
        )
    return (now or timezone.now()) - timedelta(days=days)


@transaction.atomic
def audit_events_purge_expired(*, now: datetime | None = None) -> int:
    """Delete audit events older than the retention period; returns how many. Idempotent."""
    cutoff = audit_retention_cutoff(now=now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT audit_purge_before(%s)", [cutoff])
        (deleted,) = cursor.fetchone()
    return int(deleted)
