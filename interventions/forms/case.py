"""Forms for the outreach worker's pages. They validate and normalise input; the writes and
their rules are in services.py."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from interventions import access
from interventions.date_bounds import (
    BoundedDateField,
    BoundedDateTimeField,
    validate_date_in_range,
)
from interventions.forms.single_submit import SingleSubmitFormMixin
from interventions.forms.widgets import DateInput, DateTimeLocalInput
from interventions.models import (
    CLOCK_SKEW_ALLOWANCE,
    Area,
    Enrollment,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    Session,
)
from interventions.selectors import worker as worker_selectors
from interventions.services.case import (
    FORWARD_ORDER,
    PARTICIPANT_EDITABLE_FIELDS,
    allowed_next_statuses,
)
from interventions.services.locking import VersionField, surface_version_error, version_of

QUICK_DURATIONS = (15, 30, 45, 60, 90)
# Free text: a long case note fits; a pasted document or a flood does not.
NOTES_MAX_LENGTH = 5000
DEFAULT_DURATION = 30


def _not_in_future(day: Any, message: str) -> None:
    """`message` is the whole sentence: "The exit date cannot be in the future." """
    if day and day > timezone.localdate():
        raise forms.ValidationError(message)


def short_name(participant: Participant) -> str:
    """First name and last initial, as the session button names a person: "Cristian S."."""
    initial = participant.last_name[:1]
    return f"{participant.first_name} {initial}." if initial else participant.first_name


def people_phrase(names: list[str]) -> str:
    if len(names) == 2:
        return gettext("%(first)s and %(second)s") % {"first": names[0], "second": names[1]}
    if len(names) < 2:
        return "".join(names)
    others = len(names) - 1
    return ngettext("%(first)s and %(count)s other", "%(first)s and %(count)s others", others) % {
        "first": names[0],
        "count": others,
    }


class SessionLogForm(forms.Form):
    """Log a contact. Participant choices are limited to those the user can see; the page
    draws only the user's caseload (and whoever is already picked), never the whole list."""

    participants = forms.ModelMultipleChoiceField(
        queryset=Participant.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose at least one participant."),
            "invalid_choice": _("Choose participants from your organisation."),
            "invalid_pk_value": _("Choose participants from your organisation."),
        },
        label=_("Participants"),
    )
    # Chips right under the people (session_log.html): the worker sees what will be saved.
    kind = forms.ChoiceField(
        choices=Session.Kind.choices, widget=forms.RadioSelect, label=_("Kind")
    )
    occurred_at = BoundedDateTimeField(label=_("Date and time"), widget=DateTimeLocalInput)
    duration_minutes = forms.IntegerField(
        label=_("Duration (minutes)"),
        min_value=1,
        max_value=1440,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    location = forms.ChoiceField(choices=Session.Location.choices, label=_("Location"))
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        label=_("Notes"),
    )
    follow_up_on = BoundedDateField(label=_("Follow-up date"), required=False, widget=DateInput)
    client_key = forms.UUIDField(widget=forms.HiddenInput)
    # Sent by the "Log anyway" button of the likely-duplicate warning; never drawn as a field.
    log_anyway = forms.BooleanField(required=False)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participants"].queryset = access.participants_visible_to(user)
        # Imported here: forms.plans builds on this module's widgets.
        from interventions.forms.plans import add_progress_fields

        add_progress_fields(self, user)
        if not self.is_bound:
            defaults = worker_selectors.last_session_defaults(user)
            self.initial.setdefault("kind", defaults.get("kind", Session.Kind.STREET_OUTREACH))
            self.initial.setdefault("location", defaults.get("location", Session.Location.STREET))
            self.initial.setdefault(
                "duration_minutes", defaults.get("duration_minutes", DEFAULT_DURATION)
            )
            self.initial.setdefault(
                "occurred_at", timezone.localtime().replace(second=0, microsecond=0)
            )
            self.initial.setdefault("client_key", uuid.uuid4())

    def clean_occurred_at(self) -> Any:
        occurred_at = self.cleaned_data["occurred_at"]
        if occurred_at > timezone.now() + CLOCK_SKEW_ALLOWANCE:
            raise forms.ValidationError(_("A session cannot be in the future."))
        return occurred_at

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        occurred_at, follow_up_on = cleaned.get("occurred_at"), cleaned.get("follow_up_on")
        if occurred_at and follow_up_on and follow_up_on < timezone.localtime(occurred_at).date():
            self.add_error("follow_up_on", _("The follow-up date cannot be before the session."))
        return cleaned

    def submit_label(self, chosen: list[Participant]) -> str:
        """What the button says it will save: "Log 30 min mentoring with Cristian S."
        (static/js/session_form.js redraws it as the choice changes)."""
        kind = dict(Session.Kind.choices).get(self._shown_value("kind"), gettext("session"))
        minutes = self._shown_value("duration_minutes")
        words = [gettext("Log")]
        if str(minutes).isdigit():
            words.append(gettext("%(minutes)s min") % {"minutes": minutes})
        words.append(str(kind).lower())
        if chosen:
            words.append(
                gettext("with %(people)s")
                % {"people": people_phrase([short_name(p) for p in chosen])}
            )
        return " ".join(words)

    @staticmethod
    def label_words() -> dict[str, str]:
        """The button's words in the page's language, with {placeholders} for the browser to
        fill as the choice changes (static/js/session_form.js): the same messages as
        submit_label, so both say the same in every language."""
        return {
            "log": gettext("Log"),
            "session": gettext("session"),
            "minutes": gettext("%(minutes)s min") % {"minutes": "{minutes}"},
            "with": gettext("with %(people)s") % {"people": "{people}"},
            "two": gettext("%(first)s and %(second)s") % {"first": "{first}", "second": "{second}"},
            # Three people or more: always two or more others.
            "many": ngettext("%(first)s and %(count)s other", "%(first)s and %(count)s others", 2)
            % {"first": "{first}", "count": "{count}"},
        }

    def _shown_value(self, name: str) -> Any:
        return self[name].value() or ""

    def selected_ids(self) -> list[int]:
        """The participant ids picked so far (typed data when bound), for redrawing them."""
        if self.is_bound:
            raw = self.data.getlist(self.add_prefix("participants"))
        else:
            raw = self.initial.get("participants") or []
        return [int(value) for value in raw if str(value).isdigit()]


class ReferralForm(SingleSubmitFormMixin, forms.Form):
    service_category = forms.ChoiceField(
        choices=Referral.ServiceCategory.choices, label=_("Service category")
    )
    to_organization = forms.ModelChoiceField(
        label=_("Partner organisation"),
        queryset=PartnerOrganization.objects.filter(is_active=True),
        required=False,
        help_text=_("A partner organisation, or name an outside provider below."),
    )
    outside_provider = forms.CharField(max_length=200, required=False, label=_("Outside provider"))
    made_on = BoundedDateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Notes"),
    )

    def clean_made_on(self) -> Any:
        made_on = self.cleaned_data["made_on"]
        _not_in_future(made_on, gettext("The referral date cannot be in the future."))
        return made_on

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        to_organization = cleaned.get("to_organization")
        outside_provider = (cleaned.get("outside_provider") or "").strip()
        if bool(to_organization) == bool(outside_provider):
            raise forms.ValidationError(
                _("Refer to a partner organisation or name an outside provider (one of the two).")
            )
        return cleaned


class ReferralAdvanceForm(forms.Form):
    status = forms.ChoiceField(
        choices=[
            (status.value, status.label)
            for status in (
                Referral.Status.ACCEPTED,
                Referral.Status.COMPLETED,
                Referral.Status.DECLINED,
                Referral.Status.NO_SHOW,
            )
        ],
        label=_("Status"),
    )
    on = BoundedDateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)
    outcome = forms.CharField(max_length=500, required=False, label=_("Outcome"))

    def clean_on(self) -> Any:
        on = self.cleaned_data["on"]
        _not_in_future(on, gettext("The date cannot be in the future."))
        return on


class EnrollmentStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New status"), choices=())
    on = BoundedDateField(label=_("Date"), widget=DateInput, initial=timezone.localdate)
    note = forms.CharField(max_length=500, required=False, label=_("Note"))

    def __init__(self, *args: Any, enrollment: Enrollment, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [
            (status, Enrollment.Status(status).label)
            for status in allowed_next_statuses(enrollment)
        ]
        self.fields["status"].error_messages["invalid_choice"] = gettext(
            "An enrolment that is %(status)s cannot move to that status."
        ) % {"status": enrollment.get_status_display().lower()}

    def clean_on(self) -> Any:
        on = self.cleaned_data["on"]
        _not_in_future(on, gettext("The date cannot be in the future."))
        return on


class EnrollmentExitForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("Exit reason"),
        choices=[("", _("Choose a reason")), *Enrollment.ExitReason.choices],
    )
    on = BoundedDateField(label=_("Exit date"), widget=DateInput, initial=timezone.localdate)
    note = forms.CharField(max_length=500, required=False, label=_("Note"))

    def clean_on(self) -> Any:
        on = self.cleaned_data["on"]
        _not_in_future(on, gettext("The exit date cannot be in the future."))
        return on


class NameMatchForm(forms.Form):
    """What the registration form sends, as it is typed, to look for people already registered."""

    first_name = forms.CharField(max_length=100, required=False, label=_("First name"))
    last_name = forms.CharField(max_length=100, required=False, label=_("Last name"))
    aliases = forms.CharField(max_length=200, required=False, label=_("Aliases"))
    # A date typed halfway is no date yet, not an error: the view reads it only when whole.
    date_of_birth = forms.CharField(max_length=10, required=False, label=_("Date of birth"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))

    def typed_date_of_birth(self) -> date | None:
        try:
            typed = date.fromisoformat(self.cleaned_data.get("date_of_birth") or "")
            validate_date_in_range(typed)
        except (ValueError, forms.ValidationError):
            return None
        return typed


# The registration form asks for likely matches as the name is typed (views.participant_matches).
NAME_MATCH_ATTRS = {
    "hx-get": reverse_lazy("participant_matches"),
    "hx-trigger": "input changed delay:300ms",
    "hx-target": "#name-matches",
    "hx-include": "#register-form [name=first_name], #register-form [name=last_name], "
    "#register-form [name=aliases], #register-form [name=date_of_birth], "
    "#register-form [name=phone]",
    "autocomplete": "off",
}


class ParticipantRegisterForm(SingleSubmitFormMixin, forms.Form):
    first_name = forms.CharField(max_length=100, label=_("First name"))
    last_name = forms.CharField(max_length=100, label=_("Last name"))
    aliases = forms.CharField(
        max_length=200,
        required=False,
        help_text=_("Street names and other names, comma-separated."),
        label=_("Aliases"),
    )
    date_of_birth = BoundedDateField(required=False, widget=DateInput, label=_("Date of birth"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    area = forms.ModelChoiceField(queryset=Area.objects.all(), required=False, label=_("Area"))
    referral_source = forms.ChoiceField(
        choices=Participant.ReferralSource.choices,
        initial=Participant.ReferralSource.COMMUNITY,
        label=_("Referral source"),
    )
    risk_tier = forms.TypedChoiceField(
        choices=Participant.RiskTier.choices,
        coerce=int,
        initial=Participant.RiskTier.HIGH,
        label=_("Risk tier"),
    )
    identified_on = BoundedDateField(
        label=_("Identified on"), widget=DateInput, initial=timezone.localdate
    )
    program = forms.ModelChoiceField(
        queryset=Program.objects.none(), empty_label=None, label=_("Program")
    )
    status = forms.ChoiceField(
        label=_("Starting status"),
        choices=[(status.value, status.label) for status in FORWARD_ORDER],
        initial=Enrollment.Status.REFERRED,
    )
    assign_to_me = forms.BooleanField(label=_("Assign to me"), required=False, initial=True)

    def __init__(self, *args: Any, user: AbstractBaseUser, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("first_name", "last_name", "aliases"):
            self.fields[name].widget.attrs.update(NAME_MATCH_ATTRS)
        self.fields["program"].queryset = (
            Program.objects.filter(is_active=True, organization__in=access.organizations_of(user))
            .select_related("organization")
            .order_by("organization__name", "name")
        )

    def clean_date_of_birth(self) -> Any:
        date_of_birth = self.cleaned_data["date_of_birth"]
        _not_in_future(date_of_birth, gettext("The date of birth cannot be in the future."))
        return date_of_birth

    def clean_identified_on(self) -> Any:
        identified_on = self.cleaned_data["identified_on"]
        _not_in_future(identified_on, gettext("The identified date cannot be in the future."))
        return identified_on

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        born, identified = cleaned.get("date_of_birth"), cleaned.get("identified_on")
        if born and identified and born > identified:
            self.add_error(
                "date_of_birth",
                _("The date of birth must be before the date the person was identified."),
            )
        return cleaned

    def participant_details(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            name: data[name]
            for name in (
                "first_name",
                "last_name",
                "aliases",
                "date_of_birth",
                "phone",
                "area",
                "referral_source",
                "risk_tier",
                "identified_on",
            )
        }


class ParticipantEditForm(forms.Form):
    """Correct a participant's profile. `version` is the record's updated_at when the form was
    drawn (see interventions/concurrency.py)."""

    first_name = forms.CharField(max_length=100, label=_("First name"))
    last_name = forms.CharField(max_length=100, label=_("Last name"))
    aliases = forms.CharField(
        max_length=200,
        required=False,
        help_text=_("Street names and other names, comma-separated."),
        label=_("Aliases"),
    )
    date_of_birth = BoundedDateField(required=False, widget=DateInput, label=_("Date of birth"))
    phone = forms.CharField(max_length=40, required=False, label=_("Phone"))
    area = forms.ModelChoiceField(queryset=Area.objects.all(), required=False, label=_("Area"))
    referral_source = forms.ChoiceField(
        choices=Participant.ReferralSource.choices, label=_("Referral source")
    )
    risk_tier = forms.TypedChoiceField(
        choices=Participant.RiskTier.choices, coerce=int, label=_("Risk tier")
    )
    version = VersionField()

    def __init__(self, *args: Any, participant: Participant, **kwargs: Any) -> None:
        initial = {name: getattr(participant, name) for name in PARTICIPANT_EDITABLE_FIELDS}
        initial["version"] = version_of(participant)
        super().__init__(*args, initial=initial, **kwargs)
        self.participant = participant

    def clean_date_of_birth(self) -> Any:
        date_of_birth = self.cleaned_data["date_of_birth"]
        _not_in_future(date_of_birth, gettext("The date of birth cannot be in the future."))
        if date_of_birth and date_of_birth > self.participant.identified_on:
            raise forms.ValidationError(
                gettext(
                    "The date of birth must be before the date the person was identified "
                    "(%(identified_on)s)."
                )
                % {"identified_on": f"{self.participant.identified_on:%Y-%m-%d}"}
            )
        return date_of_birth

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        surface_version_error(self)
        return cleaned

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in PARTICIPANT_EDITABLE_FIELDS}
