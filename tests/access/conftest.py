"""Fixtures for the access tests: a participant of organisation A with a session and a referral
carrying notes, and helpers to share them with organisation B."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser, Group
from django.utils import timezone

from interventions.access import ANALYST_GROUP, CITY_ADMIN_GROUP
from interventions.models import Consent, Enrollment, Participant, Referral, Session
from tests.access.planted import planted  # noqa: F401 - a fixture for every access test
from tests.conftest import OrgSetup
from tests.factories import (
    ConsentFactory,
    EnrollmentFactory,
    ParticipantFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)

SESSION_NOTE = "told me about the debt of his brother"
REFERRAL_NOTE = "asked not to call his mother"


@dataclass
class ARecord:
    participant: Participant
    enrollment: Enrollment
    session: Session
    referral: Referral


@pytest.fixture
def a_record(org_a: OrgSetup) -> ARecord:
    participant = ParticipantFactory(
        organization=org_a.organization, first_name="Dashiell", last_name="Ravensmoor"
    )
    enrollment = EnrollmentFactory(
        participant=participant, program=org_a.program, assigned_worker=org_a.worker
    )
    session = SessionFactory(
        organization=org_a.organization,
        program=org_a.program,
        worker=org_a.worker,
        notes=SESSION_NOTE,
        participants=[participant],
    )
    referral = ReferralFactory(participant=participant, made_by=org_a.worker, notes=REFERRAL_NOTE)
    return ARecord(participant, enrollment, session, referral)


def share(
    record: ARecord,
    org_a: OrgSetup,
    org_b: OrgSetup,
    *,
    granted_days_ago: int = 10,
    expires_in_days: int | None = None,
    revoked_days_ago: int | None = None,
) -> Consent:
    """A consent of A's participant for organisation B, dated relative to today."""
    today = timezone.localdate()
    return ConsentFactory(
        participant=record.participant,
        organization=org_b.organization,
        granted_on=today - timedelta(days=granted_days_ago),
        expires_on=None if expires_in_days is None else today + timedelta(days=expires_in_days),
        revoked_on=None if revoked_days_ago is None else today - timedelta(days=revoked_days_ago),
        revoked_by=None if revoked_days_ago is None else org_a.manager,
        recorded_by=org_a.manager,
    )


@pytest.fixture
def analyst(db: None) -> AbstractBaseUser:
    user = UserFactory(username="analyst")
    user.groups.add(Group.objects.get(name=ANALYST_GROUP))
    return user


@pytest.fixture
def group_city_admin(db: None) -> AbstractBaseUser:
    """A city admin by group, not a superuser: what the admin shows them comes from the group."""
    user = UserFactory(username="group-city-admin", is_staff=True)
    user.groups.add(Group.objects.get(name=CITY_ADMIN_GROUP))
    return user


@pytest.fixture
def plain_staff(db: None) -> AbstractBaseUser:
    return UserFactory(username="plain-staff", is_staff=True)


def fresh(user: AbstractBaseUser) -> AbstractBaseUser:
    """The user without the roles cached on the object."""
    return type(user)._default_manager.get(pk=user.pk)
