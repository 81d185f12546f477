"""The audit trail. Rows are written by PostgreSQL triggers (changes to case data) and by
`interventions.audit.record` (logins, views, exports); the database refuses to change or delete
them (migrations/0001_initial.py), except the retention purge of rows older than a year."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("Create")
        UPDATE = "update", _("Update")
        DELETE = "delete", _("Delete")
        VIEW = "view", _("View")
        EXPORT = "export", _("Export")
        LOGIN = "login", _("Login")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOGOUT = "logout", _("Logout")
        SESSION_EXPIRED = "session_expired", _("Session expired")
        LOCKOUT = "lockout", _("Lockout")
        OVERRIDE = "override", _("Consent override")

    class Outcome(models.TextChoices):
        OK = "ok", _("OK")
        DENIED = "denied", _("Denied")
        FAILED = "failed", _("Failed")

    occurred_at = models.DateTimeField(
        db_default=Now(), editable=False, verbose_name=_("occurred at")
    )
    # No foreign-key constraint and DO_NOTHING: deleting a user must neither fail nor touch the
    # audit rows (which cannot be updated); `username` keeps who it was.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(max_length=150, blank=True, verbose_name=_("username"))
    action = models.CharField(max_length=20, choices=Action.choices, verbose_name=_("action"))
    object_type = models.CharField(max_length=60, blank=True, verbose_name=_("object type"))
    object_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("object id"))
    # The participant a record belongs to, so "who has seen or changed this person's record" is
    # one index scan. No foreign key: the trail outlives the record.
    participant_id = models.BigIntegerField(null=True, blank=True, verbose_name=_("participant id"))
    # Names of the columns that changed, never their values.
    changed_fields = ArrayField(
        models.CharField(max_length=63), default=list, blank=True, verbose_name=_("changed fields")
    )
    ip_address = models.GenericIPAddressField(null=True, blank=True, verbose_name=_("ip address"))
    outcome = models.CharField(
        max_length=10, choices=Outcome.choices, default=Outcome.OK, verbose_name=_("outcome")
    )
    path = models.CharField(max_length=500, blank=True, verbose_name=_("path"))
    # Non-personal metadata only (export format, row count, reason codes).
    detail = models.JSONField(default=dict, blank=True, verbose_name=_("detail"))

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(
                fields=["participant_id", "-occurred_at"],
                name="audit_participant_idx",
                condition=Q(participant_id__isnull=False),
            ),
            models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
            models.Index(fields=["user", "-occurred_at"], name="audit_user_idx"),
            # Rows arrive in time order, so a BRIN index serves date filters and the purge for
            # almost nothing per insert.
            BrinIndex(fields=["occurred_at"], name="audit_occurred_brin"),
        ]

    def __str__(self) -> str:
        target = f" {self.object_type} {self.object_id}" if self.object_type else ""
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.username or '-'} {self.action}{target}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ValueError("Audit events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise ValueError("Audit events cannot be deleted.")


class UserSession(models.Model):
    """Which session keys belong to which user, so logout and deactivation can end all of them
    without decoding every row of django_session."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="login_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"{self.user_id}: {self.session_key[:6]}…"
