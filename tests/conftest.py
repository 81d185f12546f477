"""Shared fixtures: two organisations, and a user for each role in each, so every test can ask
"does organisation B see organisation A's records?"."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AbstractBaseUser
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
