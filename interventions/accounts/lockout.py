"""Failed-login lockout that an attacker cannot turn against the account's owner (issue 13).

The rules (SECURITY.md, AC-7):
1. Failures are counted per username *and* address: five in 15 minutes lock that pair only, so
   someone guessing `cityadmin`'s password from elsewhere does not lock the city admin out of
   their own device.
2. A lock ends by itself after a cool-off of 15 minutes that doubles with each further lock of
   the same pair (a failure after a cool-off locks again at once) up to four hours; a successful
   sign-in, or an admin deleting the access attempts (Axes > Access attempts, or
   `manage.py axes_reset_username NAME`), starts afresh.
3. A distributed attack on one username (many addresses, each under its own limit) meets a
   ceiling: past GVR_LOGIN_USERNAME_CEILING failures for the username in 15 minutes, an address
   the user has never signed in from gets one try per GVR_LOGIN_CEILING_SECONDS for that
   username. That slows the guessing down to a few tries a minute without locking anybody out:
   the user's usual devices (addresses they signed in from in the last 90 days) are not slowed.
Failures refused during a lock are not counted (AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT),
so pressing "log in" again while locked does not lengthen the lock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Max, Sum
from django.utils import timezone

from interventions.accounts.security import WindowedLockoutHandler
from interventions.audit.middleware import client_ip

BASE_COOL_OFF = timedelta(minutes=15)
MAX_COOL_OFF = timedelta(hours=4)
USUAL_DEVICE_DAYS = 90


def cool_off_after(failures: int) -> timedelta:
    """The lock's length after `failures` failures of one username and address: 15 minutes at
    the limit, doubling with each failure after a cool-off, up to the cap."""
    extra = max(failures - settings.AXES_FAILURE_LIMIT, 0)
    return min(BASE_COOL_OFF * (2 ** min(extra, 16)), MAX_COOL_OFF)


class GraduatedLockoutHandler(WindowedLockoutHandler):
    def is_locked(self, request: Any, credentials: dict[str, Any] | None = None) -> bool:
        username = (credentials or {}).get(settings.AXES_USERNAME_FORM_FIELD)
        if not username:
            return super().is_locked(request, credentials)
        address = client_ip(request)
        now = timezone.now()
        pair = AccessAttempt.objects.filter(username=username, ip_address=address).aggregate(
            failures=Sum("failures_since_start"), last=Max("attempt_time")
        )
        failures = pair["failures"] or 0
        if failures >= settings.AXES_FAILURE_LIMIT and now - pair["last"] < cool_off_after(
            failures
        ):
            return True
        return self._slowed_by_username_ceiling(username, address, now)

    def _slowed_by_username_ceiling(self, username: str, address: str | None, now: Any) -> bool:
        window = timedelta(minutes=settings.AXES_FAILURE_WINDOW_MINUTES)
        everywhere = AccessAttempt.objects.filter(
            username=username, attempt_time__gte=now - window
        ).aggregate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        if (everywhere["failures"] or 0) < settings.GVR_LOGIN_USERNAME_CEILING:
            return False
        if now - everywhere["last"] >= timedelta(seconds=settings.GVR_LOGIN_CEILING_SECONDS):
            return False
        return not _is_usual_device(username, address, now)


def _is_usual_device(username: str, address: str | None, now: Any) -> bool:
    from interventions.audit.models import AuditEvent

    if address is None:
        return False
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.LOGIN,
        username=username,
        ip_address=address,
        occurred_at__gte=now - timedelta(days=USUAL_DEVICE_DAYS),
    ).exists()
