"""Reads of case data. One door: every query for participants, enrolments, sessions and
referrals made on behalf of a user starts from one of the `*_visible_to(user)` functions, which
scope it to the organisations the user belongs to. Outsiders get nothing, so views that fetch
through them answer 404."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import DateField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Cast, ExtractDay, TruncDate
from django.utils import timezone

from interventions.models import (
    Enrollment,
    Membership,
    Participant,
    PartnerOrganization,
    Referral,
    Session,
    SessionParticipant,
)

CITY_ADMIN = "city_admin"
MANAGER = Membership.Role.MANAGER.value
OUTREACH_WORKER = Membership.Role.OUTREACH_WORKER.value

AnyUser = AbstractBaseUser | AnonymousUser


def user_roles(user: AnyUser) -> frozenset[str]:
    """The roles a user holds in any active organisation, plus city admin for staff."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, "_gvr_roles", None)
    if cached is None:
        roles = set(
            Membership.objects.filter(
                user=user, is_active=True, organization__is_active=True
            ).values_list("role", flat=True)
        )
        if user.is_staff:
            roles.add(CITY_ADMIN)
        cached = frozenset(roles)
        user._gvr_roles = cached  # type: ignore[union-attr]
    return cached


def organizations_of(user: AnyUser, *, role: str | None = None) -> QuerySet[PartnerOrganization]:
    """Active organisations in which the user has an active membership (optionally in a role)."""
    if not user.is_authenticated or not user.is_active:
        return PartnerOrganization.objects.none()
    memberships = Membership.objects.filter(user=user, is_active=True)
    if role is not None:
        memberships = memberships.filter(role=role)
    return PartnerOrganization.objects.filter(
        is_active=True, id__in=memberships.values("organization_id")
    )


def participants_visible_to(user: AnyUser) -> QuerySet[Participant]:
    return Participant.objects.filter(organization__in=organizations_of(user))


def enrollments_visible_to(user: AnyUser) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(participant__organization__in=organizations_of(user))


def sessions_visible_to(user: AnyUser) -> QuerySet[Session]:
    return Session.objects.filter(organization__in=organizations_of(user))


def referrals_visible_to(user: AnyUser) -> QuerySet[Referral]:
    return Referral.objects.filter(participant__organization__in=organizations_of(user))


def workers_of(organization: PartnerOrganization) -> QuerySet:
    """Users who can be assigned participants in an organisation (its active members)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__organization=organization,
            memberships__is_active=True,
        )
        .order_by("first_name", "last_name", "username")
    )


def with_contact_facts(participants: QuerySet[Participant]) -> QuerySet[Participant]:
    """Annotate last_contact_at, next_follow_up_on and days_since_last_contact, each one
    correlated subquery on an index (no query per row).

    next_follow_up_on is the earliest follow-up date, today or later, set on any of the
    participant's sessions; days_since_last_contact is None for someone never contacted.
    """
    today = timezone.localdate()
    last_contact = (
        SessionParticipant.objects.filter(participant=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    next_follow_up = (
        SessionParticipant.objects.filter(
            participant=OuterRef("pk"), session__follow_up_on__gte=today
        )
        .order_by("session__follow_up_on")
        .values("session__follow_up_on")[:1]
    )
    return participants.annotate(
        last_contact_at=Subquery(last_contact),
        next_follow_up_on=Subquery(next_follow_up),
    ).annotate(
        days_since_last_contact=ExtractDay(
            Cast(Value(today), DateField()) - Cast(TruncDate("last_contact_at"), DateField())
        ),
    )


def gone_cold_q(cold_after_days: int | None = None) -> Q:
    """Participants (annotated by with_contact_facts) with no contact in the last N days."""
    days = settings.GVR_COLD_AFTER_DAYS if cold_after_days is None else cold_after_days
    cutoff = timezone.now() - timedelta(days=days)
    return Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=cutoff)
