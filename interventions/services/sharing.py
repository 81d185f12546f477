"""Writes about sharing: recording and revoking a participant's consent, and the emergency
override. The owning organisation's members record and revoke; an override needs its own
permission and a reason, lasts a limited time and is kept for good."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from interventions.access import OVERRIDE_CONSENT_PERMISSION
from interventions.errors import ServiceError
from interventions.models import (
    CONSENT_OVERRIDE_DURATION,
    Consent,
    ConsentOverride,
    Participant,
    PartnerOrganization,
)
from interventions.services.case import _member_of, _not_after_today

# An emergency reason has to say something: "x" is not a reason.
OVERRIDE_REASON_MIN_LENGTH = 20


def _require_owner_member(user: AbstractBaseUser, participant: Participant, message: str) -> None:
    """`message` names %(organization)s: "Only members of … can record consent …"."""
    if not _member_of(user, participant.organization):
        raise ServiceError(message % {"organization": participant.organization})


@transaction.atomic
def record_consent(
    *,
    participant: Participant,
    recorded_by: AbstractBaseUser,
    organization: PartnerOrganization | None = None,
    city: bool = False,
    granted_on: date | None = None,
    expires_on: date | None = None,
    note: str = "",
    shares_demographics: bool = False,
) -> Consent:
    """Record the participant's consent to share their record with one partner organisation,
    or (city=True) with the city; their demographics too only with shares_demographics."""
    _require_owner_member(
        recorded_by,
        participant,
        gettext("Only members of %(organization)s can record consent for this participant."),
    )
    if city == (organization is not None):
        raise ServiceError(
            gettext("Share with one partner organisation or with the city (one of the two).")
        )
    if organization is not None:
        if organization.pk == participant.organization_id:
            raise ServiceError(
                gettext("%(organization)s already holds this record; no consent is needed.")
                % {"organization": organization}
            )
        if not organization.is_active:
            raise ServiceError(
                gettext("%(organization)s is no longer active.") % {"organization": organization}
            )
    granted_on = granted_on or timezone.localdate()
    _not_after_today(granted_on, gettext("The consent date cannot be in the future."))
    if expires_on is not None and expires_on <= granted_on:
        raise ServiceError(gettext("The consent must expire after the day it was granted."))
    return Consent.objects.create(
        participant=participant,
        scope=Consent.Scope.CITY if city else Consent.Scope.ORGANIZATION,
        organization=organization,
        granted_on=granted_on,
        expires_on=expires_on,
        recorded_by=recorded_by,
        note=note.strip()[:500],
        shares_demographics=shares_demographics,
    )


@transaction.atomic
def revoke_consent(
    *, consent: Consent, revoked_by: AbstractBaseUser, on: date | None = None
) -> Consent:
    """Withdraw a consent from a day on (today by default): from that day the other
    organisation no longer sees the record."""
    consent = (
        Consent.objects.select_for_update(of=("self",))
        .select_related("participant__organization")
        .get(pk=consent.pk)
    )
    _require_owner_member(
        revoked_by,
        consent.participant,
        gettext("Only members of %(organization)s can revoke consent for this participant."),
    )
    if consent.revoked_on is not None:
        raise ServiceError(
            gettext("This consent was already revoked on %(revoked_on)s.")
            % {"revoked_on": f"{consent.revoked_on:%Y-%m-%d}"}
        )
    on = on or timezone.localdate()
    _not_after_today(on, gettext("The revocation date cannot be in the future."))
    if on < consent.granted_on:
        raise ServiceError(gettext("A consent cannot be revoked before the day it was granted."))
    consent.revoked_on = on
    consent.revoked_by = revoked_by
    consent.save(update_fields=["revoked_on", "revoked_by", "updated_at"])
    return consent


@transaction.atomic
def override_consent(
    *,
    user: AbstractBaseUser,
    participant_code: str,
    reason: str,
    duration: timedelta = CONSENT_OVERRIDE_DURATION,
) -> ConsentOverride:
    """Open one participant's record to one user for a limited time, without consent. Needs the
    override permission, an active membership (the record is read on the case pages) and a
    reason of some substance."""
    if not (user.is_active and user.has_perm(OVERRIDE_CONSENT_PERMISSION)):
        raise ServiceError(gettext("You do not hold the permission to override consent."))
    from interventions.access import organizations_of

    if not organizations_of(user).exists():
        raise ServiceError(gettext("Only members of a partner organisation can override consent."))
    reason = " ".join(reason.split())
    if len(reason) < OVERRIDE_REASON_MIN_LENGTH:
        raise ServiceError(
            gettext("Give the reason for the emergency (at least %(min_length)s characters).")
            % {"min_length": OVERRIDE_REASON_MIN_LENGTH}
        )
    participant = Participant.objects.filter(participant_code=participant_code.strip()).first()
    if participant is None:
        raise ServiceError(
            gettext("No participant has that code. Check it with the person who gave it.")
        )
    now = timezone.now()
    return ConsentOverride.objects.create(
        user=user,
        participant=participant,
        reason=reason[:1000],
        granted_at=now,
        expires_at=now + duration,
    )
