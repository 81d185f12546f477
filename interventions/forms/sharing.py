"""Forms for sharing: record and revoke a consent, open a record in an emergency. They validate
and normalise; the rules are in consent_services.py."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interventions.date_bounds import BoundedDateField
from interventions.forms.widgets import DateInput
from interventions.models import Participant, PartnerOrganization
from interventions.services.sharing import OVERRIDE_REASON_MIN_LENGTH

CITY_CHOICE = "city"


class ConsentForm(forms.Form):
    share_with = forms.ChoiceField(
        label=_("Share the record with"),
        help_text=_("The city means every city partner organisation."),
    )
    granted_on = BoundedDateField(label=_("Consent given on"), widget=DateInput())
    expires_on = BoundedDateField(
        label=_("Expires on"),
        required=False,
        widget=DateInput(),
        help_text=_("The first day it no longer applies. Leave empty: until revoked."),
    )
    note = forms.CharField(
        max_length=500,
        required=False,
        help_text=_("How consent was given (signed form, verbal with witness…). No case details."),
        label=_("Note"),
    )
    shares_demographics = forms.BooleanField(
        label=_("Also share gender, race and ethnicity, and language"),
        required=False,
        help_text=_("Only if the person agreed to this too."),
    )

    def __init__(self, *args: Any, participant: Participant, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("granted_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        partners = PartnerOrganization.objects.filter(is_active=True).exclude(
            pk=participant.organization_id
        )
        self.partners = {str(org.pk): org for org in partners.order_by("name")}
        self.fields["share_with"].choices = [
            ("", _("Choose…")),
            (CITY_CHOICE, _("The city")),
            *((pk, org.name) for pk, org in self.partners.items()),
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        granted_on, expires_on = cleaned.get("granted_on"), cleaned.get("expires_on")
        if granted_on and granted_on > timezone.localdate():
            self.add_error("granted_on", _("The day consent was given cannot be in the future."))
        if granted_on and expires_on and expires_on <= granted_on:
            self.add_error("expires_on", _("The consent must expire after the day it was given."))
        return cleaned

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        choice = data["share_with"]
        return {
            "organization": None if choice == CITY_CHOICE else self.partners[choice],
            "city": choice == CITY_CHOICE,
            "granted_on": data["granted_on"],
            "expires_on": data["expires_on"],
            "note": data["note"],
            "shares_demographics": data["shares_demographics"],
        }


class ConsentRevokeForm(forms.Form):
    on = BoundedDateField(
        label=_("Revoked on"),
        widget=DateInput(),
        help_text=_("From this day the other organisation no longer sees the record."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("on", timezone.localdate())
        super().__init__(*args, **kwargs)

    def clean_on(self) -> Any:
        on = self.cleaned_data["on"]
        if on > timezone.localdate():
            raise forms.ValidationError(_("The revocation date cannot be in the future."))
        return on


class ConsentOverrideForm(forms.Form):
    participant_code = forms.CharField(
        label=_("Participant code"),
        max_length=20,
        help_text=_("The exact code (for example GP-00042), from the person who holds the record."),
    )
    reason = forms.CharField(
        label=_("Reason for the emergency"),
        min_length=OVERRIDE_REASON_MIN_LENGTH,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Recorded for good and reviewed. Say what the emergency is, not case details."),
    )
