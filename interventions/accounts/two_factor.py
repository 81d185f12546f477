"""Two-factor authentication (TOTP with django-otp): who must use it, the middleware that holds
everyone else back until they have, and the enrolment and verification steps.

A password login alone is half a login for managers, city admins, analysts and the Django
admin (and for outreach workers too with GVR_REQUIRE_2FA_FOR_WORKERS=1): until the session is
verified by a TOTP code or a backup code, the only pages open are the two-factor pages, logout
and static files."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from urllib.parse import urlencode

import segno
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, user_has_device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from interventions import access

AUTHENTICATOR_NAME = "Authenticator app"
BACKUP_CODES_NAME = "Backup codes"
BACKUP_CODE_COUNT = 10


def requires_two_factor(user: AbstractBaseUser | AnonymousUser) -> bool:
    """Everyone who can see more than their own caseload: staff, managers, city admins,
    analysts, and a user with no role yet (what they will be given is not known). Outreach
    workers only when GVR_REQUIRE_2FA_FOR_WORKERS is on."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser or settings.GVR_REQUIRE_2FA_FOR_WORKERS:
        return True
    return access.user_roles(user) != {access.OUTREACH_WORKER}


# Set in the session by `mark_verified`, beside django-otp's record of the device used.
VERIFIED_USER_KEY = "_gvr_2fa_user"


def is_verified(request: HttpRequest) -> bool:
    """Whether this session passed the second factor, for the user it belongs to.

    Read from the session alone (django-otp's own middleware would look the device up on every
    request): the session is loaded anyway, and removing a user's authenticator ends all of
    their sessions (`end_sessions_when_authenticator_removed`), so a verified session cannot
    outlive its device."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    session = request.session
    return session.get(VERIFIED_USER_KEY) == user.pk and bool(session.get(DEVICE_ID_SESSION_KEY))


class TwoFactorMiddleware:
    """Sends a user who must use two-factor and has not yet verified this session to enrolment
    (no device yet) or to the code prompt, whatever they asked for."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def open_paths(self) -> tuple[str, ...]:
        return (
            reverse("two_factor_setup"),
            reverse("two_factor_verify"),
            reverse("logout"),
            reverse("login"),
            reverse("health"),
            # The English/Español switch works on the code prompt too (it saves nothing there).
            reverse("set_language"),
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not self._is_open(request.path)
            and requires_two_factor(user)
            and not is_verified(request)
        ):
            return self._send_to_two_factor(request, user)
        return self.get_response(request)

    def _is_open(self, path: str) -> bool:
        return path in self.open_paths or path.startswith("/" + settings.STATIC_URL.lstrip("/"))

    def _send_to_two_factor(self, request: HttpRequest, user: AbstractBaseUser) -> HttpResponse:
        step = "two_factor_verify" if user_has_device(user) else "two_factor_setup"
        url = reverse(step)
        if request.method == "GET" and request.path != reverse("home"):
            url += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            # A page fragment must not be swapped for the code prompt: reload the whole page.
            return HttpResponse(status=204, headers={"HX-Redirect": url})
        return redirect(url)


# ---- enrolment -------------------------------------------------------------------------------


def pending_authenticator(*, user: AbstractBaseUser) -> TOTPDevice:
    """The unconfirmed authenticator being set up, created on the first visit. Reloading the
    page shows the same secret, so a code from an app that already scanned it still works."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=AUTHENTICATOR_NAME, confirmed=False)
    return device


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32, in groups of four, for typing into an app by hand."""
    secret = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(device: TOTPDevice) -> str:
    """The otpauth:// address as an inline SVG QR code (drawn here, nothing fetched)."""
    return segno.make(device.config_url, error="m").svg_inline(
        scale=4, dark="#000", light="#fff", title=gettext("QR code for your authenticator app")
    )


def is_totp_shaped(token: str) -> bool:
    return token.isdigit() and len(token) == 6


def normalise_token(token: str) -> str:
    return "".join(token.split()).lower()


@dataclass(frozen=True)
class Verification:
    device: TOTPDevice | StaticDevice | None
    message: str = ""


def _throttled_message(device: TOTPDevice | StaticDevice) -> str | None:
    allowed, detail = device.verify_is_allowed()
    if allowed:
        return None
    until = detail.get("locked_until") if detail else None
    wait = ""
    if until is not None:
        seconds = max(1, int((until - timezone.now()).total_seconds()) + 1)
        wait = " " + ngettext(
            "Wait %(seconds)s second and try again.",
            "Wait %(seconds)s seconds and try again.",
            seconds,
        ) % {"seconds": seconds}
    return gettext("Too many wrong codes in a row.") + wait


@transaction.atomic
def confirm_authenticator(
    *, user: AbstractBaseUser, device: TOTPDevice, token: str
) -> tuple[Verification, list[str]]:
    """Confirm the pending authenticator with a code from the app; on success, replace any
    backup codes with BACKUP_CODE_COUNT new ones and return them (shown once)."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    token = normalise_token(token)
    if (message := _throttled_message(device)) is not None:
        return Verification(None, message), []
    # A wrong code (or anything that is not one) counts towards the throttle.
    if not device.verify_token(token):
        return Verification(
            None, gettext("That code is not right. Enter the 6-digit code your app shows now.")
        ), []
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = replace_backup_codes(user=user)
    return Verification(device), codes


@transaction.atomic
def replace_backup_codes(*, user: AbstractBaseUser) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name=BACKUP_CODES_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=code) for code in codes)
    return codes


# ---- verification ----------------------------------------------------------------------------


@transaction.atomic
def verify_code(*, user: AbstractBaseUser, token: str) -> Verification:
    """Check a code against the user's authenticator (six digits) or backup codes (anything
    else; a used backup code is deleted). Wrong codes count towards django-otp's throttling,
    which doubles the wait after each one."""
    token = normalise_token(token)
    if not token:
        return Verification(None, gettext("Enter the code from your authenticator app."))
    kind = TOTPDevice if is_totp_shaped(token) else StaticDevice
    devices = [
        device for device in devices_for_user(user, for_verify=True) if isinstance(device, kind)
    ]
    if not devices:
        return Verification(
            None,
            gettext(
                "That code is not right. Enter the 6-digit code from your app, or a backup code."
            )
            if kind is TOTPDevice
            else gettext("You have no backup codes left. Enter the code from your app."),
        )
    for device in devices:
        if (message := _throttled_message(device)) is not None:
            return Verification(None, message)
        if device.verify_token(token):
            return Verification(device)
    return Verification(
        None,
        gettext("That code is not right. Enter the 6-digit code from your app, or a backup code."),
    )


def mark_verified(request: HttpRequest, device: TOTPDevice | StaticDevice) -> None:
    """Record in the session that `device` verified it, under a new session key: a key seen
    before the second factor is worth nothing after it."""
    from interventions.audit.models import UserSession

    old_key = request.session.session_key
    request.session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    request.session[VERIFIED_USER_KEY] = request.user.pk
    request.session.cycle_key()
    # Logout and deactivation find a user's sessions by key (interventions/audit/signals.py).
    UserSession.objects.filter(session_key=old_key).update(session_key=request.session.session_key)


def backup_codes_left(user: AbstractBaseUser) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@transaction.atomic
def reset_two_factor(*, user: AbstractBaseUser, request: HttpRequest | None = None) -> int:
    """Reset a lost authenticator: remove every device of the user (authenticators, half
    set-up ones and backup codes: whoever holds the lost phone may hold the codes too), end
    every session of theirs, and record it. Their next sign-in goes to set-up, as a new user's.
    Returns how many devices were removed."""
    from interventions.audit import record
    from interventions.audit.signals import end_all_sessions

    devices = list(devices_for_user(user, confirmed=None))
    for device in devices:
        device.delete()
    ended = end_all_sessions(user)
    record(
        request,
        "update",
        object_type="two_factor",
        object_id=user.pk,
        devices_removed=len(devices),
        sessions_ended=ended,
    )
    return len(devices)


@receiver(post_delete, sender=TOTPDevice, dispatch_uid="gvr_2fa_device_removed")
def end_sessions_when_authenticator_removed(
    sender: type, instance: TOTPDevice, **kwargs: object
) -> None:
    """Deleting a user's last authenticator (Django admin > TOTP devices) is a reset too: the
    backup codes issued with it go with it, so the next login asks for set-up and not for a
    code the lost phone's holder may have, and every session it verified ends."""
    if instance.confirmed:
        from interventions.audit.signals import end_all_sessions

        if not TOTPDevice.objects.filter(user_id=instance.user_id, confirmed=True).exists():
            StaticDevice.objects.filter(user_id=instance.user_id).delete()
        end_all_sessions(instance.user)
