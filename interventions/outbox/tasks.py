"""The relay, run by Celery beat every minute (settings.CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from interventions.outbox import services


@shared_task(
    name="outbox.relay_pending",
    autoretry_for=(DatabaseError,),
    retry_backoff=5,
    retry_backoff_max=60,
    max_retries=3,
    # A relay that waits behind a dead broker is pointless once the next minute's has started.
    expires=55,
)
def relay_pending() -> int:
    """Send every due pending row; delete sent rows past GVR_OUTBOX_KEEP_SENT_DAYS. Returns the
    number of rows sent. Running it twice at once is safe: each skips the other's rows."""
    services.delete_sent_before(timezone.now() - timedelta(days=settings.GVR_OUTBOX_KEEP_SENT_DAYS))
    return services.relay_all().rows
