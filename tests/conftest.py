"""Shared fixtures: two organisations, and a user for each role in each, so every test can ask
"does organisation B see organisation A's records?"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.db.backends.postgresql.operations import DatabaseOperations as PostgresOperations
from django.test import Client, override_settings

from interventions.models import Membership, PartnerOrganization, Program
from tests.factories import (
    MembershipFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    UserFactory,
)


@dataclass
class OrgSetup:
    organization: PartnerOrganization
    program: Program
    worker: AbstractBaseUser
    manager: AbstractBaseUser


def _org_setup(slug: str) -> OrgSetup:
    organization = PartnerOrganizationFactory(name=slug.replace("-", " ").title(), slug=slug)
    program = ProgramFactory(organization=organization, slug=f"{slug}-gang-intervention")
    worker = UserFactory(username=f"{slug}-worker")
    manager = UserFactory(username=f"{slug}-manager")
    MembershipFactory(user=worker, organization=organization, role=Membership.Role.OUTREACH_WORKER)
    MembershipFactory(user=manager, organization=organization, role=Membership.Role.MANAGER)
    return OrgSetup(organization, program, worker, manager)


@pytest.fixture(scope="session", autouse=True)
def fast_password_hashing() -> Iterator[None]:
    """Argon2 is slow on purpose; tests that are not about passwords skip that cost.
    tests/security/test_sessions.py proves Argon2 is the configured hasher."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


# The audit table and the incentive ledger refuse TRUNCATE unless the transaction says it means it
# (audit/0005, interventions/0009). Django's test runner empties every table with one TRUNCATE
# after each transactional test; this is the one place that says so, for that statement only.
ALLOW_APPEND_ONLY_TRUNCATE_SQL = "SET LOCAL gvr.allow_append_only_truncate = on"
_original_execute_sql_flush = PostgresOperations.execute_sql_flush


def _flush_allowing_append_only_truncate(self: PostgresOperations, sql_list: list[str]) -> None:
    # execute_sql_flush runs its statements in one transaction: SET LOCAL ends with it.
    _original_execute_sql_flush(self, [ALLOW_APPEND_ONLY_TRUNCATE_SQL, *sql_list])


@pytest.fixture(scope="session", autouse=True)
def flush_may_truncate_append_only_tables() -> Iterator[None]:
    with mock.patch.object(
        PostgresOperations, "execute_sql_flush", _flush_allowing_append_only_truncate
    ):
        yield


@pytest.fixture
def org_a(db: None) -> OrgSetup:
    return _org_setup("org-a")


@pytest.fixture
def org_b(db: None) -> OrgSetup:
    return _org_setup("org-b")


@pytest.fixture
def worker(org_a: OrgSetup) -> AbstractBaseUser:
    return org_a.worker


@pytest.fixture
def manager(org_a: OrgSetup) -> AbstractBaseUser:
    return org_a.manager


@pytest.fixture
def city_admin(db: None) -> AbstractBaseUser:
    return UserFactory(username="city-admin", is_staff=True, is_superuser=True)


_TWO_FACTOR_SHORTCUT = {"on": True}
_original_force_login = Client.force_login


def verify_session(client: Client, user: AbstractBaseUser) -> None:
    """Mark the client's session as verified by a (test) authenticator of the user's, as a
    correct TOTP code would, when the user must use two-factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from interventions.accounts.two_factor import VERIFIED_USER_KEY, requires_two_factor

    fresh = type(user)._default_manager.get(pk=user.pk)  # no cached roles on the test's object
    if not requires_two_factor(fresh):
        return
    device = TOTPDevice.objects.filter(user=fresh, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=fresh, name="Test authenticator", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[VERIFIED_USER_KEY] = fresh.pk
    session.save()


def _force_login_verified(self: Client, user: AbstractBaseUser, backend: str | None = None) -> None:
    _original_force_login(self, user, backend)
    if _TWO_FACTOR_SHORTCUT["on"]:
        verify_session(self, user)


@pytest.fixture(scope="session", autouse=True)
def force_login_passes_two_factor() -> Iterator[None]:
    """`client.force_login(user)` stands for a complete login, second factor included, so tests
    about anything else need not type codes. tests/security/test_two_factor.py turns this off
    (fixture `password_only_logins`) to prove a password-only session is held back."""
    with mock.patch.object(Client, "force_login", _force_login_verified):
        yield


@pytest.fixture
def password_only_logins() -> Iterator[None]:
    """`force_login` gives a session that passed the password only, as in production."""
    _TWO_FACTOR_SHORTCUT["on"] = False
    try:
        yield
    finally:
        _TWO_FACTOR_SHORTCUT["on"] = True


def logged_in(user: AbstractBaseUser) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def worker_client(worker: AbstractBaseUser) -> Client:
    return logged_in(worker)


@pytest.fixture
def manager_client(manager: AbstractBaseUser) -> Client:
    return logged_in(manager)


@pytest.fixture
def admin_client_city(city_admin: AbstractBaseUser) -> Client:
    return logged_in(city_admin)


# Nothing listens on port 1 (and only root could): every send fails at once, as when Redis is down.
UNREACHABLE_BROKER_URL = "redis://127.0.0.1:1/0"


@pytest.fixture
def broker_unreachable(settings: Any) -> Iterator[str]:
    """Celery configured for a broker that refuses connections, instead of running tasks in
    process: what the app does when Redis is down."""
    from tests.celery_support import sending_to

    with sending_to(settings, UNREACHABLE_BROKER_URL):
        yield UNREACHABLE_BROKER_URL
