"""factory_boy factories for the case-management models. Every person here is fictional."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from interventions.models import (
    Area,
    Enrollment,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    Session,
    SessionParticipant,
)

TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password(TEST_PASSWORD)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"Area {n}")
    slug = factory.Sequence(lambda n: f"area-{n}")
    kind = Area.Kind.CITY


class PartnerOrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PartnerOrganization

    name = factory.Sequence(lambda n: f"Partner {n}")
    slug = factory.Sequence(lambda n: f"partner-{n}")
    kind = PartnerOrganization.Kind.NONPROFIT


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(PartnerOrganizationFactory)
    role = Membership.Role.OUTREACH_WORKER


class ProgramFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Program

    organization = factory.SubFactory(PartnerOrganizationFactory)
    name = factory.Sequence(lambda n: f"Program {n}")
    slug = factory.Sequence(lambda n: f"program-{n}")
    kind = Program.Kind.GANG_INTERVENTION


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    organization = factory.SubFactory(PartnerOrganizationFactory)
    participant_code = factory.Sequence(lambda n: f"T-{n:06d}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    date_of_birth = factory.Faker("date_between", start_date="-25y", end_date="-15y")
    identified_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=200))


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    participant = factory.SubFactory(ParticipantFactory)
    program = factory.SubFactory(
        ProgramFactory, organization=factory.SelfAttribute("..participant.organization")
    )
    status = Enrollment.Status.ACTIVE
    referred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=150))
    enrolled_on = factory.LazyAttribute(lambda e: e.referred_on)
    active_on = factory.LazyAttribute(lambda e: e.referred_on)


class SessionFactory(factory.django.DjangoModelFactory):
    """A session; pass participants=[...] to attend it."""

    class Meta:
        model = Session
        skip_postgeneration_save = True

    organization = factory.SubFactory(PartnerOrganizationFactory)
    worker = factory.SubFactory(UserFactory)
    kind = Session.Kind.MENTORING
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    duration_minutes = 60
    location = Session.Location.STREET

    @factory.post_generation
    def participants(self, create: bool, extracted: list | None, **kwargs: object) -> None:
        if create and extracted:
            SessionParticipant.objects.bulk_create(
                SessionParticipant(session=self, participant=p, occurred_at=self.occurred_at)
                for p in extracted
            )


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    participant = factory.SubFactory(ParticipantFactory)
    organization = factory.SelfAttribute("participant.organization")
    made_by = factory.SubFactory(UserFactory)
    service_category = Referral.ServiceCategory.EMPLOYMENT
    outside_provider = "Kern County Job Center"
    made_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))


# Shootings and the response (imports kept here so this section stands on its own).
from interventions.models import (  # noqa: E402
    GroupConflict,
    GroupTie,
    Incident,
    ResponseTask,
    StreetGroup,
)


class StreetGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StreetGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")


class GroupTieFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupTie

    participant = factory.SubFactory(ParticipantFactory)
    group = factory.SubFactory(StreetGroupFactory)
    kind = GroupTie.Kind.MEMBER
    since = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=365))


class GroupConflictFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GroupConflict

    group_a = factory.SubFactory(StreetGroupFactory)
    group_b = factory.SubFactory(StreetGroupFactory)
    status = GroupConflict.Status.ACTIVE


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident saved directly (no task generation); use record_incident for the real path."""

    class Meta:
        model = Incident

    kind = Incident.Kind.NONFATAL_SHOOTING
    occurred_at = factory.LazyFunction(lambda: timezone.now() - timedelta(hours=6))
    victim_count = 1
    entered_by = factory.SubFactory(UserFactory)


class ResponseTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ResponseTask

    incident = factory.SubFactory(IncidentFactory)
    participant = factory.SubFactory(ParticipantFactory)
    organization = factory.SelfAttribute("participant.organization")
    kind = ResponseTask.Kind.HOME_VISIT
    reason = ResponseTask.Reason.INVOLVED
    due_at = factory.LazyAttribute(lambda t: t.incident.occurred_at + timedelta(hours=24))


# Sharing: consent and emergency overrides.
from interventions.models import Consent, ConsentOverride  # noqa: E402


class ConsentFactory(factory.django.DjangoModelFactory):
    """A consent in force since 30 days ago, to share with a partner organisation."""

    class Meta:
        model = Consent

    participant = factory.SubFactory(ParticipantFactory)
    scope = Consent.Scope.ORGANIZATION
    organization = factory.SubFactory(PartnerOrganizationFactory)
    granted_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=30))
    recorded_by = factory.SubFactory(UserFactory)


class ConsentOverrideFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentOverride

    user = factory.SubFactory(UserFactory)
    participant = factory.SubFactory(ParticipantFactory)
    reason = "Credible threat reported by hospital staff tonight"
    granted_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.granted_at + timedelta(hours=24))
