"""Reads of case data. One door: every query for participants, enrolments, sessions and
referrals made on behalf of a user starts from one of the `*_visible_to(user)` functions, which
scope it to the organisations the user belongs to. Outsiders get nothing, so views that fetch
through them answer 404."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from interventions.models import (
    Enrollment,
    Membership,
    Participant,
    PartnerOrganization,
    Referral,
    Session,
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
