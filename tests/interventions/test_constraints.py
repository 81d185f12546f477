"""Every rule in Meta.constraints is kept by PostgreSQL itself: these tests write straight to the
database (no form, no service) and expect the database to refuse the bad row by the constraint's
name."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from interventions.models import (
    Area,
    Enrollment,
    Membership,
    Participant,
    Referral,
    Session,
    SessionParticipant,
)
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = timedelta(days=1)


@contextmanager
def refused_by(constraint: str) -> Iterator[None]:
    """The block must fail in the database, on the named constraint (or unique column)."""
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        yield


# Sessions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("minutes", [0, 1441, 10_000])
def test_session_duration_out_of_range_is_refused(minutes: int) -> None:
    with refused_by("session_duration_1_to_1440_minutes"):
        SessionFactory(duration_minutes=minutes)


@pytest.mark.parametrize("minutes", [1, 1440])
def test_session_duration_bounds_are_accepted(minutes: int) -> None:
    session = SessionFactory(duration_minutes=minutes)
    session.refresh_from_db()
    assert session.duration_minutes == minutes


def test_session_duration_refused_on_update_and_raw_sql() -> None:
    session = SessionFactory(duration_minutes=30)
    with refused_by("session_duration_1_to_1440_minutes"):
        Session.objects.filter(pk=session.pk).update(duration_minutes=0)
    with refused_by("session_duration_1_to_1440_minutes"), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Session._meta.db_table} SET duration_minutes = 1441 WHERE id = %s",  # noqa: S608
            [session.pk],
        )
    session.refresh_from_db()
    assert session.duration_minutes == 30


def test_session_in_the_future_is_refused() -> None:
    with refused_by("session_not_in_future"):
        SessionFactory(occurred_at=timezone.now() + timedelta(minutes=10))
    session = SessionFactory()
    with refused_by("session_not_in_future"):
        Session.objects.filter(pk=session.pk).update(occurred_at=timezone.now() + timedelta(days=1))


def test_session_within_clock_allowance_is_accepted() -> None:
    # A phone a few minutes ahead of the server is a clock difference, not a future session.
    session = SessionFactory(occurred_at=timezone.now() + timedelta(minutes=4))
    assert Session.objects.filter(pk=session.pk).exists()


def test_session_client_key_is_unique_but_may_be_empty() -> None:
    key = uuid.uuid4()
    SessionFactory(client_key=key)
    with refused_by("client_key"):
        SessionFactory(client_key=key)
    SessionFactory(client_key=None)
    SessionFactory(client_key=None)
    assert Session.objects.filter(client_key__isnull=True).count() == 2


def test_session_participant_once() -> None:
    participant = ParticipantFactory()
    session = SessionFactory(organization=participant.organization, participants=[participant])
    with refused_by("session_participant_once"):
        SessionParticipant.objects.create(
            session=session, participant=participant, occurred_at=session.occurred_at
        )
    assert session.attendance.count() == 1


# Enrolments -----------------------------------------------------------------------------------


def exited(**overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "status": Enrollment.Status.EXITED,
        "referred_on": TODAY - 30 * DAY,
        "enrolled_on": None,
        "active_on": None,
        "exited_on": TODAY,
        "exit_reason": Enrollment.ExitReason.GRADUATED,
    }
    values.update(overrides)
    return values


def test_enrollment_exit_before_referral_is_refused() -> None:
    with refused_by("enrollment_exit_not_before_referral"):
        EnrollmentFactory(**exited(exited_on=TODAY - 31 * DAY))


def test_enrollment_exit_before_enrolment_is_refused() -> None:
    with refused_by("enrollment_exit_not_before_enrolment"):
        EnrollmentFactory(**exited(enrolled_on=TODAY - 10 * DAY, exited_on=TODAY - 20 * DAY))


def test_enrollment_exit_on_enrolment_day_is_accepted() -> None:
    enrollment = EnrollmentFactory(
        **exited(enrolled_on=TODAY - 10 * DAY, exited_on=TODAY - 10 * DAY)
    )
    assert enrollment.pk


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param(exited(exited_on=None), id="exited-without-date"),
        pytest.param(exited(exit_reason=""), id="exited-without-reason"),
        pytest.param(
            {"status": Enrollment.Status.ACTIVE, "exited_on": TODAY}, id="open-with-exit-date"
        ),
        pytest.param(
            {"status": Enrollment.Status.ACTIVE, "exit_reason": Enrollment.ExitReason.MOVED},
            id="open-with-exit-reason",
        ),
    ],
)
def test_enrollment_exit_needs_date_and_reason_only_when_exited(
    overrides: dict[str, object],
) -> None:
    with refused_by("enrollment_exit_has_date_and_reason"):
        EnrollmentFactory(**overrides)


def test_enrollment_status_update_to_exited_without_reason_is_refused() -> None:
    enrollment = EnrollmentFactory()
    with refused_by("enrollment_exit_has_date_and_reason"):
        Enrollment.objects.filter(pk=enrollment.pk).update(
            status=Enrollment.Status.EXITED, exited_on=TODAY
        )


@pytest.mark.parametrize(
    "field", ["contacted_on", "engaged_on", "enrolled_on", "active_on", "inactive_on"]
)
def test_enrollment_step_dates_not_before_referral(field: str) -> None:
    referred_on = TODAY - 30 * DAY
    with refused_by(f"enrollment_{field}_not_before_referral"):
        EnrollmentFactory(
            **{
                "status": Enrollment.Status.REFERRED,
                "referred_on": referred_on,
                "enrolled_on": None,
                "active_on": None,
            }
            | {field: referred_on - DAY}
        )


@pytest.mark.parametrize(
    ("status", "field"),
    [
        ("contacted", "contacted_on"),
        ("engaged", "engaged_on"),
        ("enrolled", "enrolled_on"),
        ("active", "active_on"),
        ("inactive", "inactive_on"),
    ],
)
def test_enrollment_status_needs_the_date_it_was_reached(status: str, field: str) -> None:
    referred_on = TODAY - 30 * DAY
    steps = ("contacted_on", "engaged_on", "enrolled_on", "active_on", "inactive_on")
    dated = dict.fromkeys(steps, referred_on)
    EnrollmentFactory(status=status, referred_on=referred_on, **dated)
    with refused_by(f"enrollment_{status}_has_its_date"):
        EnrollmentFactory(status=status, referred_on=referred_on, **(dated | {field: None}))


def test_area_cannot_be_its_own_parent() -> None:
    area = AreaFactory()
    with refused_by("area_not_its_own_parent"):
        Area.objects.filter(pk=area.pk).update(parent=area)


def test_one_open_enrollment_per_participant_and_program() -> None:
    first = EnrollmentFactory()
    with refused_by("enrollment_one_open_per_program"):
        EnrollmentFactory(
            participant=first.participant, program=first.program, status=Enrollment.Status.REFERRED
        )
    # Once the first is exited, a new one may open (a person who comes back).
    Enrollment.objects.filter(pk=first.pk).update(
        status=Enrollment.Status.EXITED, exited_on=TODAY, exit_reason=Enrollment.ExitReason.MOVED
    )
    second = EnrollmentFactory(participant=first.participant, program=first.program)
    # ...but the old one cannot be reopened beside it.
    with refused_by("enrollment_one_open_per_program"):
        Enrollment.objects.filter(pk=first.pk).update(
            status=Enrollment.Status.ACTIVE, exited_on=None, exit_reason=""
        )
    assert Enrollment.objects.filter(participant=first.participant).count() == 2
    assert second.is_open


def test_open_enrollments_in_different_programs_are_accepted() -> None:
    first = EnrollmentFactory()
    other_program = ProgramFactory(organization=first.program.organization)
    EnrollmentFactory(participant=first.participant, program=other_program)
    assert first.participant.enrollments.count() == 2


# Participants ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dates", "constraint"),
    [
        ({"notified_on": TODAY - 11 * DAY}, "participant_notified_not_before_identified"),
        ({"engaged_on": TODAY - 11 * DAY}, "participant_engaged_not_before_identified"),
        (
            {"notified_on": TODAY - 2 * DAY, "engaged_on": TODAY - 5 * DAY},
            "participant_engaged_not_before_notified",
        ),
        ({"date_of_birth": TODAY - 9 * DAY}, "participant_born_before_identified"),
    ],
)
def test_participant_lifecycle_dates_in_order(dates: dict[str, object], constraint: str) -> None:
    with refused_by(constraint):
        ParticipantFactory(identified_on=TODAY - 10 * DAY, **dates)


def test_participant_dates_in_order_are_accepted() -> None:
    participant = ParticipantFactory(
        date_of_birth=TODAY - 20 * 365 * DAY,
        identified_on=TODAY - 10 * DAY,
        notified_on=TODAY - 10 * DAY,
        engaged_on=TODAY - 5 * DAY,
    )
    assert participant.pk


def test_participant_code_is_unique() -> None:
    ParticipantFactory(participant_code="GP-00001")
    with refused_by("participant_code"):
        ParticipantFactory(participant_code="GP-00001")
    assert Participant.objects.filter(participant_code="GP-00001").count() == 1


# Referrals ------------------------------------------------------------------------------------


def test_referral_needs_partner_or_outside_provider_not_both() -> None:
    partner = PartnerOrganizationFactory()
    with refused_by("referral_to_partner_or_outside_provider"):
        ReferralFactory(to_organization=partner, outside_provider="Job Center")
    with refused_by("referral_to_partner_or_outside_provider"):
        ReferralFactory(to_organization=None, outside_provider="")
    ReferralFactory(to_organization=partner, outside_provider="")
    ReferralFactory(to_organization=None, outside_provider="Job Center")
    assert Referral.objects.count() == 2


def test_referral_accepted_not_before_made() -> None:
    with refused_by("referral_accepted_not_before_made"):
        ReferralFactory(made_on=TODAY, status=Referral.Status.ACCEPTED, accepted_on=TODAY - DAY)


def test_referral_closed_not_before_made() -> None:
    with refused_by("referral_closed_not_before_made"):
        ReferralFactory(made_on=TODAY, status=Referral.Status.COMPLETED, closed_on=TODAY - DAY)


@pytest.mark.parametrize("status", Referral.CLOSED_STATUSES)
def test_closed_referral_needs_closed_date(status: str) -> None:
    with refused_by("referral_closed_has_date"):
        ReferralFactory(status=status, closed_on=None)
    assert ReferralFactory(status=status, closed_on=TODAY).pk


@pytest.mark.parametrize("status", Referral.WAITING_STATUSES)
def test_open_referral_has_no_closed_date(status: str) -> None:
    accepted_on = TODAY if status == Referral.Status.ACCEPTED else None
    with refused_by("referral_closed_has_date"):
        ReferralFactory(status=status, closed_on=TODAY, accepted_on=accepted_on)
    assert ReferralFactory(status=status, closed_on=None, accepted_on=accepted_on).pk


def test_accepted_referral_needs_its_date() -> None:
    with refused_by("referral_accepted_has_date"):
        ReferralFactory(status=Referral.Status.ACCEPTED, accepted_on=None)


def test_referral_closed_not_before_accepted() -> None:
    with refused_by("referral_closed_not_before_accepted"):
        ReferralFactory(
            made_on=TODAY - 5 * DAY,
            accepted_on=TODAY - DAY,
            status=Referral.Status.COMPLETED,
            closed_on=TODAY - 2 * DAY,
        )


# Reference data -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "factory", [AreaFactory, PartnerOrganizationFactory, ProgramFactory], ids=lambda f: f.__name__
)
def test_slugs_are_unique(factory: type) -> None:
    factory(slug="bakersfield")
    with refused_by("slug"):
        factory(slug="bakersfield")
    assert factory._meta.model.objects.filter(slug="bakersfield").count() == 1


def test_one_membership_per_user_and_organization() -> None:
    user = UserFactory()
    organization = PartnerOrganizationFactory()
    MembershipFactory(user=user, organization=organization, role=Membership.Role.OUTREACH_WORKER)
    with refused_by("membership_one_role_per_organization"):
        MembershipFactory(user=user, organization=organization, role=Membership.Role.MANAGER)
    # The same person may work for a second organisation.
    MembershipFactory(user=user, organization=PartnerOrganizationFactory())
    assert user.memberships.count() == 2
