"""Logged-in sessions for the benchmarks, made directly in the session store.

A benchmark measures pages, not the login form: going through it would cost an Argon2 hash per
user and count against django-axes' lockout. A session made here holds what a complete login
leaves behind, the second factor included for the users who must use one (their authenticator
is a benchmark device created on the spot, as the test suite's `verify_session` does)."""

from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import AbstractBaseUser
from django.test import Client

BENCH_DEVICE_NAME = "Benchmark authenticator"


def _two_factor_keys(user: AbstractBaseUser) -> dict[str, object]:
    """The session keys that say the second factor was passed, when the user needs it."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from interventions.accounts.two_factor import VERIFIED_USER_KEY, requires_two_factor

    if not requires_two_factor(user):
        return {}
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=BENCH_DEVICE_NAME, confirmed=True)
    return {DEVICE_ID_SESSION_KEY: device.persistent_id, VERIFIED_USER_KEY: user.pk}


def session_key_for(user: AbstractBaseUser) -> str:
    """A saved session in which `user` is logged in; its key is the session cookie's value."""
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    # The backend that loads users by id (django-axes' own only watches login attempts).
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.update(_two_factor_keys(user))
    store.save()
    return store.session_key


def client_for(user: AbstractBaseUser) -> Client:
    """A test client (in-process, the full middleware stack) logged in as `user`."""
    client = Client()
    client.cookies[settings.SESSION_COOKIE_NAME] = session_key_for(user)
    return client
