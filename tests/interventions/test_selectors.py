"""The one door to case data: what each user can see, their roles, and the contact facts the
caseload pages are built from."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from interventions import access
from interventions.models import Membership, Participant, PartnerOrganization
from interventions.selectors import worker as worker_selectors
from tests.conftest import OrgSetup
from tests.factories import (
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

VISIBLE_TO = [
    access.participants_visible_to,
    access.enrollments_visible_to,
    access.sessions_visible_to,
    access.referrals_visible_to,
]


def case_records(org: OrgSetup) -> dict:
    """One of each kind of case record, owned by the organisation."""
    participant = ParticipantFactory(organization=org.organization)
    return {
        "participants_visible_to": participant,
        "enrollments_visible_to": EnrollmentFactory(participant=participant, program=org.program),
        "sessions_visible_to": SessionFactory(
            organization=org.organization, worker=org.worker, participants=[participant]
        ),
        "referrals_visible_to": ReferralFactory(participant=participant, made_by=org.worker),
    }


@pytest.fixture
def records(org_a: OrgSetup, org_b: OrgSetup) -> dict[str, dict]:
    return {"a": case_records(org_a), "b": case_records(org_b)}


@pytest.mark.parametrize("selector", VISIBLE_TO, ids=lambda s: s.__name__)
def test_each_organization_sees_only_its_own_records(org_a, org_b, records, selector) -> None:
    for user in (org_a.worker, org_a.manager):
        assert list(selector(user)) == [records["a"][selector.__name__]]
    for user in (org_b.worker, org_b.manager):
        assert list(selector(user)) == [records["b"][selector.__name__]]


@pytest.mark.parametrize("selector", VISIBLE_TO, ids=lambda s: s.__name__)
def test_member_of_two_organizations_sees_both(org_a, org_b, records, selector) -> None:
    MembershipFactory(user=org_b.worker, organization=org_a.organization)
    assert set(selector(org_b.worker)) == {
        records["a"][selector.__name__],
        records["b"][selector.__name__],
    }


@pytest.mark.parametrize("selector", VISIBLE_TO, ids=lambda s: s.__name__)
def test_inactive_membership_sees_nothing(org_a, records, selector) -> None:
    Membership.objects.filter(user=org_a.worker).update(is_active=False)
    assert not selector(org_a.worker).exists()
    assert selector(org_a.manager).exists()


@pytest.mark.parametrize("selector", VISIBLE_TO, ids=lambda s: s.__name__)
def test_inactive_organization_sees_nothing(org_a, records, selector) -> None:
    PartnerOrganization.objects.filter(pk=org_a.organization.pk).update(is_active=False)
    assert not selector(org_a.worker).exists()
    assert not selector(org_a.manager).exists()


@pytest.mark.parametrize("selector", VISIBLE_TO, ids=lambda s: s.__name__)
def test_anonymous_inactive_and_unattached_users_see_nothing(org_a, records, selector) -> None:
    assert not selector(AnonymousUser()).exists()
    assert not selector(UserFactory()).exists()
    # Staff status alone opens no case data: the city admin works through the Django admin.
    assert not selector(UserFactory(is_staff=True, is_superuser=True)).exists()
    type(org_a.worker).objects.filter(pk=org_a.worker.pk).update(is_active=False)
    org_a.worker.refresh_from_db()
    assert not selector(org_a.worker).exists()


def test_organizations_of_by_role(org_a, org_b) -> None:
    assert list(access.organizations_of(org_a.manager)) == [org_a.organization]
    assert list(access.organizations_of(org_a.manager, role=access.MANAGER)) == [org_a.organization]
    assert not access.organizations_of(org_a.worker, role=access.MANAGER).exists()
    assert not access.organizations_of(AnonymousUser()).exists()


def test_workers_of_lists_active_members_only(org_a, org_b) -> None:
    former = UserFactory()
    MembershipFactory(user=former, organization=org_a.organization, is_active=False)
    disabled = UserFactory(is_active=False)
    MembershipFactory(user=disabled, organization=org_a.organization)
    assert set(worker_selectors.workers_of(org_a.organization)) == {org_a.worker, org_a.manager}


# user_roles -----------------------------------------------------------------------------------


def test_user_roles(org_a, org_b, city_admin) -> None:
    assert access.user_roles(org_a.worker) == {access.OUTREACH_WORKER}
    assert access.user_roles(org_a.manager) == {access.MANAGER}
    assert access.user_roles(city_admin) == {access.CITY_ADMIN}
    assert access.user_roles(AnonymousUser()) == frozenset()
    assert access.user_roles(UserFactory()) == frozenset()


def test_user_roles_across_organizations(org_a, org_b) -> None:
    MembershipFactory(
        user=org_a.worker, organization=org_b.organization, role=Membership.Role.MANAGER
    )
    assert access.user_roles(org_a.worker) == {access.OUTREACH_WORKER, access.MANAGER}


def test_user_roles_ignore_inactive_memberships_and_organizations(org_a, org_b) -> None:
    Membership.objects.filter(user=org_a.worker).update(is_active=False)
    PartnerOrganization.objects.filter(pk=org_b.organization.pk).update(is_active=False)
    assert access.user_roles(org_a.worker) == frozenset()
    assert access.user_roles(org_b.manager) == frozenset()


def test_user_roles_of_an_inactive_user_are_empty(org_a) -> None:
    org_a.manager.is_active = False
    assert access.user_roles(org_a.manager) == frozenset()


def test_user_roles_are_read_once_per_user_object(org_a, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):
        access.user_roles(org_a.worker)
        access.user_roles(org_a.worker)


# with_contact_facts and gone_cold_q -----------------------------------------------------------


def test_contact_facts(org_a, django_assert_num_queries) -> None:
    now = timezone.now()
    today = timezone.localdate()
    seen = ParticipantFactory(organization=org_a.organization)
    never = ParticipantFactory(organization=org_a.organization)
    SessionFactory(
        organization=org_a.organization,
        participants=[seen],
        occurred_at=now - timedelta(days=20),
        follow_up_on=today + timedelta(days=9),
    )
    latest = SessionFactory(
        organization=org_a.organization,
        participants=[seen],
        occurred_at=now - timedelta(days=3),
        follow_up_on=today + timedelta(days=4),
    )
    # A follow-up already past is not "next".
    SessionFactory(
        organization=org_a.organization,
        participants=[seen],
        occurred_at=now - timedelta(days=30),
        follow_up_on=today - timedelta(days=1),
    )
    # What the worker may reach is read once per request, before the list.
    visible = access.participants_visible_to(org_a.worker)
    with django_assert_num_queries(1):
        facts = {p.pk: p for p in worker_selectors.with_contact_facts(visible)}
    assert facts[seen.pk].last_contact_at == latest.occurred_at
    assert facts[seen.pk].next_follow_up_on == today + timedelta(days=4)
    assert (
        facts[seen.pk].days_since_last_contact
        == (today - timezone.localtime(latest.occurred_at).date()).days
    )
    assert facts[never.pk].last_contact_at is None
    assert facts[never.pk].next_follow_up_on is None
    assert facts[never.pk].days_since_last_contact is None


def test_days_since_last_contact_counts_calendar_days_in_local_time(org_a) -> None:
    today = timezone.localdate()
    this_morning = timezone.make_aware(
        timezone.datetime.combine(today, timezone.datetime.min.time())
    ) + timedelta(minutes=1)
    earlier_today = min(this_morning, timezone.now())
    participant = ParticipantFactory(organization=org_a.organization)
    SessionFactory(
        organization=org_a.organization, participants=[participant], occurred_at=earlier_today
    )
    annotated = worker_selectors.with_contact_facts(
        access.participants_visible_to(org_a.worker)
    ).get()
    assert annotated.days_since_last_contact == 0


def test_gone_cold(org_a, settings) -> None:
    settings.GVR_COLD_AFTER_DAYS = 14
    now = timezone.now()
    recent = ParticipantFactory(organization=org_a.organization, last_name="Recent")
    cold = ParticipantFactory(organization=org_a.organization, last_name="Cold")
    never = ParticipantFactory(organization=org_a.organization, last_name="Never")
    # Registered three months ago and never seen: cold at every limit below (someone registered
    # within the limit is "first contact due", not cold).
    Participant.objects.filter(pk=never.pk).update(created_at=now - timedelta(days=90))
    SessionFactory(
        organization=org_a.organization, participants=[recent], occurred_at=now - timedelta(days=13)
    )
    SessionFactory(
        organization=org_a.organization, participants=[cold], occurred_at=now - timedelta(days=15)
    )
    # An old contact does not make someone cold when there is a recent one.
    SessionFactory(
        organization=org_a.organization, participants=[recent], occurred_at=now - timedelta(days=60)
    )
    annotated = worker_selectors.with_contact_facts(access.participants_visible_to(org_a.worker))
    assert set(annotated.filter(worker_selectors.gone_cold_q())) == {cold, never}
    assert set(annotated.filter(worker_selectors.gone_cold_q(30))) == {never}
    assert set(annotated.exclude(worker_selectors.gone_cold_q(10))) == set()
    settings.GVR_COLD_AFTER_DAYS = 60
    assert set(annotated.filter(worker_selectors.gone_cold_q())) == {never}


def test_contact_facts_ignore_other_organizations_sessions(org_a, org_b) -> None:
    participant = ParticipantFactory(organization=org_a.organization)
    assert EnrollmentFactory(participant=participant, program=org_a.program)
    annotated = worker_selectors.with_contact_facts(access.participants_visible_to(org_b.worker))
    assert not annotated.exists()
