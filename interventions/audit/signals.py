"""Logins, failed logins, logouts and lockouts go to the audit trail; logout and deactivation
end every session of the user."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.contrib.sessions.models import Session as DjangoSession
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from interventions.audit.models import AuditEvent, UserSession
from interventions.audit.recording import record

# Session keys the session-limits middleware (accounts/security.py) reads.
LOGIN_AT_KEY = "_gvr_login_at"
LAST_SEEN_KEY = "_gvr_last_seen"


def end_all_sessions(user: Any) -> int:
    """Delete every server-side session of `user`; each of their browsers is logged out at its
    next request."""
    keys = list(UserSession.objects.filter(user=user).values_list("session_key", flat=True))
    DjangoSession.objects.filter(session_key__in=keys).delete()
    UserSession.objects.filter(user=user).delete()
    return len(keys)


@receiver(user_logged_in, dispatch_uid="gvr_audit_login")
def on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        now = int(timezone.now().timestamp())
        request.session[LOGIN_AT_KEY] = now
        request.session[LAST_SEEN_KEY] = now
        if request.session.session_key is None:
            request.session.save()
        UserSession.objects.get_or_create(
            session_key=request.session.session_key, defaults={"user": user}
        )
    record(request, AuditEvent.Action.LOGIN, user=user)


@receiver(user_logged_out, dispatch_uid="gvr_audit_logout")
def on_logout(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    expired = request is not None and getattr(request, "_gvr_session_expired", False)
    if expired:
        # A timed-out session ends alone; the user's other devices carry on.
        UserSession.objects.filter(session_key=request.session.session_key).delete()
        record(request, AuditEvent.Action.SESSION_EXPIRED, user=user)
    else:
        ended = end_all_sessions(user)
        record(request, AuditEvent.Action.LOGOUT, user=user, sessions_ended=ended)


@receiver(user_login_failed, dispatch_uid="gvr_audit_login_failed")
def on_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    username = str(credentials.get("username", ""))[:150]
    record(
        request,
        AuditEvent.Action.LOGIN_FAILED,
        outcome=AuditEvent.Outcome.FAILED,
        object_type="user",
        username=username,
    )


@receiver(user_locked_out, dispatch_uid="gvr_audit_lockout")
def on_locked_out(
    sender: Any, request: HttpRequest | None, username: str | None, **kwargs: Any
) -> None:
    record(
        request,
        AuditEvent.Action.LOCKOUT,
        outcome=AuditEvent.Outcome.DENIED,
        object_type="user",
        username=(username or "")[:150],
    )


@receiver(post_save, sender=get_user_model(), dispatch_uid="gvr_end_sessions_of_inactive")
def on_user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created and not instance.is_active:
        end_all_sessions(instance)
