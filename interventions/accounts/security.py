"""Request-level protections of an account: session limits, no caching of pages with case data,
and the failed-login window for django-axes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from interventions.audit.signals import LAST_SEEN_KEY, LOGIN_AT_KEY

# How often the last-activity time is written back to the session: every request would cost a
# session save each time; once a minute is precise enough for a 30-minute idle limit.
LAST_SEEN_RESOLUTION_SECONDS = 60


class SessionLimitsMiddleware:
    """Ends a session after `GVR_SESSION_IDLE_MINUTES` without a request and
    `GVR_SESSION_MAX_HOURS` after login, whichever comes first."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        if session is not None and session.get(LOGIN_AT_KEY) is not None:
            self._enforce(request)
        elif session is not None and request.user.is_authenticated:
            # A session from before these limits existed: start its clocks now.
            now = int(timezone.now().timestamp())
            session[LOGIN_AT_KEY] = now
            session[LAST_SEEN_KEY] = now
        return self.get_response(request)

    def _enforce(self, request: HttpRequest) -> None:
        session = request.session
        now = int(timezone.now().timestamp())
        login_at = int(session.get(LOGIN_AT_KEY, now))
        last_seen = int(session.get(LAST_SEEN_KEY, login_at))
        idle_limit = settings.GVR_SESSION_IDLE_MINUTES * 60
        max_age = settings.GVR_SESSION_MAX_HOURS * 60 * 60
        if now - last_seen > idle_limit or now - login_at > max_age:
            if now - last_seen > idle_limit:
                message = gettext(
                    "Your session ended after %(minutes)s minutes without activity. "
                    "Please log in again."
                ) % {"minutes": settings.GVR_SESSION_IDLE_MINUTES}
            else:
                message = gettext(
                    "Your session ended %(hours)s hours after you logged in. Please log in again."
                ) % {"hours": settings.GVR_SESSION_MAX_HOURS}
            request._gvr_session_expired = True  # type: ignore[attr-defined]
            logout(request)
            messages.info(request, message)
            return
        if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
            session[LAST_SEEN_KEY] = now


class NoStoreForAuthenticatedMiddleware:
    """Nothing shown to a logged-in user is kept by the browser or a proxy cache: every such page
    can carry case data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            add_never_cache_headers(response)
        return response


class WindowedLockoutHandler(AxesDatabaseHandler):
    """django-axes with a failure window: a username is locked after AXES_FAILURE_LIMIT failures
    that each follow the previous one within AXES_FAILURE_WINDOW_MINUTES (so any 5 in 15
    minutes lock it); how long the lock lasts is lockout.py's. A run of failures that
    pauses longer than the window starts again from zero."""

    def user_login_failed(
        self, sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
    ) -> None:
        username = credentials.get(settings.AXES_USERNAME_FORM_FIELD)
        if username:
            window = timedelta(minutes=settings.AXES_FAILURE_WINDOW_MINUTES)
            AccessAttempt.objects.filter(
                username=username,
                attempt_time__lt=timezone.now() - window,
                failures_since_start__lt=settings.AXES_FAILURE_LIMIT,
            ).delete()
        super().user_login_failed(sender, credentials, request, **kwargs)
