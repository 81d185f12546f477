"""What may be shared with whom: consents and emergency overrides."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from interventions.models.case import Participant, PartnerOrganization, TimeStamped

# Consent: what may be shared with whom -----------------------------------------------------------
# A participant belongs to the organisation that registered them. Another organisation sees the
# record only while a consent covers it: granted on or before today, not yet expired, not
# revoked. `interventions.access` applies that rule to every read.


class Consent(TimeStamped):
    class Scope(models.TextChoices):
        ORGANIZATION = "organization", _("A partner organisation")
        # Shared with the city: every partner organisation of kind "city".
        CITY = "city", _("The city")

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="consents",
        verbose_name=_("participant"),
    )
    scope = models.CharField(
        max_length=20, choices=Scope.choices, default=Scope.ORGANIZATION, verbose_name=_("scope")
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents_received",
        help_text=_("The partner organisation the record is shared with (empty for the city)."),
        verbose_name=_("organization"),
    )
    granted_on = models.DateField(verbose_name=_("granted on"))
    # The first day the consent no longer applies; empty: until revoked.
    expires_on = models.DateField(null=True, blank=True, verbose_name=_("expires on"))
    # The first day the consent no longer applies because the person withdrew it.
    revoked_on = models.DateField(null=True, blank=True, verbose_name=_("revoked on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consents_recorded",
        verbose_name=_("recorded by"),
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents_revoked",
        verbose_name=_("revoked by"),
    )
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))
    # Gender, race and ethnicity, and language stay with the owning organisation unless the
    # person agreed to share them too.
    shares_demographics = models.BooleanField(
        default=False,
        help_text=_("The person agreed to share their demographics too."),
        verbose_name=_("shares demographics"),
    )

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ["-granted_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "organization"], name="consent_participant_idx"),
            models.Index(fields=["organization", "participant"], name="consent_organization_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="organization") & Q(organization__isnull=False))
                | (Q(scope="city") & Q(organization__isnull=True)),
                name="consent_scope_is_organization_or_city",
                violation_error_message=_(
                    "A consent shares with one partner organisation or with the city, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("granted_on")),
                name="consent_expires_after_granted",
                violation_error_message=_("A consent must expire after the day it was granted."),
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=F("granted_on")),
                name="consent_revoked_not_before_granted",
                violation_error_message=_("A consent cannot be revoked before it was granted."),
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_by__isnull=False),
                name="consent_revocation_has_its_author",
            ),
        ]
        permissions = [
            (
                "override_consent",
                "Can open one participant's record without consent in an emergency",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent for {self.participant_id} to {self.shared_with}"

    @property
    def shared_with(self) -> str:
        if self.scope == self.Scope.CITY:
            return gettext("the city")
        return self.organization.name if self.organization else "-"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (
            self.organization_id is not None
            and self.participant_id is not None
            and self.organization_id == self.participant.organization_id
        ):
            raise ValidationError(
                {
                    "organization": gettext(
                        "This organisation holds the record; no consent is needed."
                    )
                }
            )

    def is_valid_on(self, day: date) -> bool:
        return (
            self.granted_on <= day
            and (self.expires_on is None or day < self.expires_on)
            and (self.revoked_on is None or day < self.revoked_on)
        )


CONSENT_OVERRIDE_DURATION = timedelta(hours=24)


class ConsentOverride(models.Model):
    """Emergency access by one user to one participant's record, without consent, for a limited
    time. Kept for good: the row says who, when, for how long and why."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="consent_overrides",
        verbose_name=_("user"),
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="consent_overrides",
        verbose_name=_("participant"),
    )
    reason = models.CharField(max_length=1000, verbose_name=_("reason"))
    granted_at = models.DateTimeField(db_default=Now(), verbose_name=_("granted at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("consent override")
        verbose_name_plural = _("consent overrides")
        ordering = ["-granted_at", "-id"]
        indexes = [
            models.Index(fields=["user", "expires_at"], name="consentoverride_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")),
                name="consentoverride_expires_after_granted",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="consentoverride_has_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Override by {self.user_id} for {self.participant_id} until {self.expires_at}"
