from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxMessage(models.Model):
    """One Celery task to send. Written in the transaction of the change that needs it, so the
    work exists exactly when the data does; marked sent once the broker (or, with no broker,
    this process) has taken it. Holds task names and ids only, never case data."""

    task_name = models.CharField(max_length=200)
    kwargs = models.JSONField(default=dict, blank=True)
    # Due rows with the same key are sent as one task: a burst of sessions in a month costs one
    # rollup refresh. Empty: the row is sent on its own.
    coalesce_key = models.CharField(max_length=200, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    # Not sent before this moment (the rollup refresh waits for the burst to end). How late a
    # pending row is, for the banner and the health check, is counted from here.
    not_before = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")

    class Meta:
        indexes = [
            # The relay, the banner and the health check read pending rows only.
            models.Index(
                fields=["not_before"],
                condition=Q(sent_at__isnull=True),
                name="outbox_pending_idx",
            ),
            # The nightly clean-up of sent rows.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="outbox_sent_idx"
            ),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "pending"
        return f"{self.task_name} ({state})"
