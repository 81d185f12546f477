"""Background work through a transactional outbox.

Sending a Celery task "on commit" straight to the broker loses the work whenever the broker
refuses it (Redis restarting, a full disk): the data is committed, the task is not, and the
error surfaced as a server error for work that was saved. Instead:

1. `enqueue` writes an `OutboxMessage` row in the caller's transaction: the work exists exactly
   when the data does, and a rolled-back change leaves no work behind.
2. Right after the commit, the rows that transaction wrote are sent (best effort: a failure is
   logged and recorded on the row, never raised into the request).
3. `relay_pending` sends every due pending row; Celery beat runs it every minute, and
   `manage.py dispatch_pending` runs it on demand (in process when no broker is configured).

A row is marked sent only after the broker took it, so a crash in between sends it again: every
task sent this way must be idempotent (the project's tasks are, SECURITY.md "Reliability").
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import Task, current_app
from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Min, Q
from django.utils import timezone

from interventions.outbox.models import OutboxMessage

logger = logging.getLogger(__name__)

RELAY_BATCH_SIZE = 500
ERROR_LENGTH = 500
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}


@dataclass(frozen=True)
class RelayResult:
    tasks: int = 0  # tasks handed to the broker (or run here)
    rows: int = 0  # rows marked sent (more than tasks when rows were coalesced)
    failed: int = 0  # rows left pending after a failed attempt


@dataclass(frozen=True)
class Backlog:
    due: int  # pending rows whose time has come
    oldest_minutes: int  # how late the most overdue pending row is (0 when none is)


def enqueue(
    task_name: str,
    *,
    kwargs: dict[str, Any] | None = None,
    delay: timedelta = timedelta(0),
    coalesce_key: str = "",
) -> OutboxMessage:
    """Record a task to send once the current transaction commits (and `delay` has passed).
    Call it inside the transaction that writes the data the task needs."""
    now = timezone.now()
    message = OutboxMessage.objects.create(
        task_name=task_name,
        kwargs=kwargs or {},
        coalesce_key=coalesce_key,
        created_at=now,
        not_before=now + delay,
    )
    transaction.on_commit(lambda: send_after_commit(message.pk), robust=True)
    return message


def send_after_commit(message_id: int) -> None:
    """Send one row right after its transaction committed. With a broker a delayed row waits for
    the relay; with none (tasks run in process) there is no relay, so it runs now. Never raises:
    the user's change is saved, and the relay will try the row again."""
    try:
        relay_pending(ids=[message_id], due_only=not runs_in_process(), with_same_key=True)
    except Exception:
        logger.exception("Could not send outbox row %s; the relay will retry it", message_id)


def runs_in_process() -> bool:
    """No broker configured: Celery runs tasks eagerly, in this process."""
    return bool(current_app.conf.task_always_eager)


def relay_pending(
    *,
    ids: Sequence[int] | None = None,
    due_only: bool = True,
    in_process: bool | None = None,
    limit: int = RELAY_BATCH_SIZE,
    with_same_key: bool = False,
) -> RelayResult:
    """Send pending rows (all, or those of `ids`, with the pending rows sharing their coalesce
    key if `with_same_key`) and mark them sent; rows that fail stay pending with the error.
    Rows locked by another relay are skipped, not waited for."""
    if in_process is None:
        in_process = runs_in_process()
    now = timezone.now()
    tasks = rows = failed = 0
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            sent_at__isnull=True
        )
        if ids is not None:
            wanted = Q(pk__in=ids)
            if with_same_key:
                # A burst of sessions committed in one go (the demo data, an import) costs one
                # refresh per month even when tasks run in process, right after each commit.
                keys = OutboxMessage.objects.filter(pk__in=ids).exclude(coalesce_key="")
                wanted |= Q(coalesce_key__in=keys.values("coalesce_key"))
            pending = pending.filter(wanted)
        if due_only:
            pending = pending.filter(not_before__lte=now)
        for group in _coalesced(pending.order_by("not_before", "pk")[:limit]):
            try:
                # A savepoint: a task run here that fails must not abort the relay's transaction.
                with transaction.atomic():
                    _send(group[0], in_process=in_process)
            except Exception as error:
                failed += len(group)
                _record_failure(group, error)
                if not in_process:
                    # The broker is unreachable: every other row would fail the same way, each
                    # after its own connection timeout.
                    break
                continue
            tasks += 1
            rows += OutboxMessage.objects.filter(pk__in=[row.pk for row in group]).update(
                sent_at=timezone.now()
            )
    return RelayResult(tasks=tasks, rows=rows, failed=failed)


def relay_all(
    *, due_only: bool = True, in_process: bool | None = None, batch_size: int = RELAY_BATCH_SIZE
) -> RelayResult:
    """Relay batch after batch until a batch sends nothing: after an outage the backlog goes out
    in one run, not RELAY_BATCH_SIZE rows a minute. `failed` counts the rows that still failed
    in the last batch. Ends, since every row is sent at most once."""
    tasks = rows = 0
    while True:
        result = relay_pending(due_only=due_only, in_process=in_process, limit=batch_size)
        tasks += result.tasks
        rows += result.rows
        if result.rows == 0:
            return RelayResult(tasks=tasks, rows=rows, failed=result.failed)


def dispatch_all(*, in_process: bool | None = None) -> RelayResult:
    """Send every pending row now, due or not (the drain command)."""
    return relay_all(due_only=False, in_process=in_process)


def delete_sent_before(cutoff: datetime) -> int:
    """Sent rows are kept a while for anyone investigating, then deleted."""
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=cutoff).delete()
    return deleted


def backlog(now: datetime | None = None) -> Backlog:
    """How much due work waits, and how late the oldest is, in one query on the pending index."""
    now = now or timezone.now()
    figures = OutboxMessage.objects.filter(sent_at__isnull=True, not_before__lte=now).aggregate(
        due=Count("pk"), oldest=Min("not_before")
    )
    oldest = figures["oldest"]
    late = (now - oldest) if oldest is not None else timedelta(0)
    return Backlog(due=figures["due"], oldest_minutes=int(late.total_seconds() // 60))


def is_delayed(figures: Backlog) -> bool:
    """Late enough to tell managers (GVR_OUTBOX_BANNER_MINUTES)."""
    return figures.due > 0 and figures.oldest_minutes >= settings.GVR_OUTBOX_BANNER_MINUTES


def is_stuck(figures: Backlog) -> bool:
    """Late enough for the health check to fail (GVR_OUTBOX_ALERT_MINUTES)."""
    return figures.due > 0 and figures.oldest_minutes >= settings.GVR_OUTBOX_ALERT_MINUTES


def _coalesced(rows: Iterable[OutboxMessage]) -> list[list[OutboxMessage]]:
    """Rows grouped by coalesce key (in order of first appearance); a row without a key alone.
    Safe because the relay sees a row only once its transaction committed: the one task sent
    runs after every coalesced change is in the database."""
    groups: dict[str, list[OutboxMessage]] = {}
    for row in rows:
        groups.setdefault(row.coalesce_key or f"row:{row.pk}", []).append(row)
    return list(groups.values())


def _task(name: str) -> Task:
    if name not in current_app.tasks:
        # Workers import every app's tasks.py when they start; a web process has imported only
        # those something happened to use.
        current_app.loader.import_default_modules()
    return current_app.tasks[name]


def _send(row: OutboxMessage, *, in_process: bool) -> None:
    task = _task(row.task_name)
    if in_process:
        # throw: a failure must leave the row pending, not be stored in a result nobody reads.
        task.apply(kwargs=row.kwargs, throw=True)
    else:
        # One quick retry only: it reconnects a pooled connection that went stale while Redis
        # restarted, while a broker that is down is found out in well under a second and the
        # row is retried by the relay instead of holding up a request.
        task.apply_async(kwargs=row.kwargs, retry=True, retry_policy=PUBLISH_RETRY_POLICY)


def _record_failure(group: list[OutboxMessage], error: Exception) -> None:
    logger.warning("Outbox: could not send %s (%s rows): %s", group[0].task_name, len(group), error)
    message = f"{type(error).__name__}: {error}"[:ERROR_LENGTH]
    OutboxMessage.objects.filter(pk__in=[row.pk for row in group]).update(
        attempts=F("attempts") + 1, last_error=message
    )
