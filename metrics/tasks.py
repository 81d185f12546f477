"""Thin Celery tasks: dates in (ISO strings, JSON-safe), one service call each.

Each refresh is idempotent (delete and insert of whole months in one transaction), so a
retry or a second delivery after a worker was killed leaves the same table."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.db import DatabaseError

from metrics import services

RETRY = {
    "autoretry_for": (DatabaseError,),
    "max_retries": 3,
    "retry_backoff": 10,
    "retry_backoff_max": 300,
    "retry_jitter": True,
}


@shared_task(name="metrics.refresh_rollups", **RETRY)
def refresh_rollups(start_month: str | None = None, end_month: str | None = None) -> int:
    """Rebuild the months from start_month to end_month (YYYY-MM-DD or YYYY-MM), or every
    month when both are None (the nightly run)."""
    return services.refresh_rollups(
        start_month=_month(start_month) if start_month else None,
        end_month=_month(end_month) if end_month else None,
    )


@shared_task(name="metrics.refresh_month", **RETRY)
def refresh_month(month: str, organization: int | None = None) -> int:
    """The refresh sent (through the outbox) after sessions are logged: the month, of the
    session's organisation only when it names one."""
    day = _month(month)
    return services.refresh_rollups(start_month=day, end_month=day, organization_id=organization)


def _month(value: str) -> date:
    if len(value) == 7:
        value = f"{value}-01"
    return date.fromisoformat(value).replace(day=1)


@shared_task(name="metrics.run_evaluation", **RETRY)
def run_evaluation(inputs: dict[str, object]) -> bool:
    """Fit an evaluation too long for a page request and store it where the page finds it.
    Idempotent: the result is keyed by its inputs and the figures it read."""
    return services.run_queued_evaluation(services.EvaluationInputs.from_dict(inputs))
