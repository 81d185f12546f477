"""Forms of the shooting-response pages. They validate and normalise; the services decide."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from django import forms
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from interventions.date_bounds import BoundedDateField, BoundedDateTimeField
from interventions.forms.single_submit import SingleSubmitFormMixin
from interventions.models import (
    Area,
    CustomNotification,
    Incident,
    IncidentParticipant,
    Participant,
    PartnerOrganization,
    Session,
    StreetGroup,
)

# Free text: a long note fits; a pasted document or a flood does not (as in forms.py).
NOTES_MAX_LENGTH = 5000

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


def _datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class PeopleField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Participant) -> str:
        return f"{obj.full_name} ({obj.participant_code})"


ROLE_FIELDS = {
    "victims": IncidentParticipant.Role.VICTIM,
    "suspects": IncidentParticipant.Role.SUSPECT,
    "witnesses": IncidentParticipant.Role.WITNESS,
    "associates": IncidentParticipant.Role.ASSOCIATE,
}


class IncidentForm(SingleSubmitFormMixin, forms.Form):
    kind = forms.ChoiceField(choices=Incident.Kind.choices, label=_("Kind"))
    occurred_at = BoundedDateTimeField(
        label=_("When"), widget=_datetime_input(), input_formats=[DATETIME_LOCAL]
    )
    organization = forms.ModelChoiceField(
        queryset=PartnerOrganization.objects.none(),
        required=False,
        empty_label=_("The city (no partner)"),
        label=_("Entered for"),
    )
    area = forms.ModelChoiceField(queryset=Area.objects.all(), required=False, label=_("Area"))
    location_description = forms.CharField(max_length=300, required=False, label=_("Location"))
    victim_count = forms.IntegerField(min_value=0, max_value=100, initial=1, label=_("Victims"))
    victims = PeopleField(queryset=Participant.objects.none(), required=False, label=_("Victims"))
    suspects = PeopleField(queryset=Participant.objects.none(), required=False, label=_("Suspects"))
    witnesses = PeopleField(
        queryset=Participant.objects.none(), required=False, label=_("Witnesses")
    )
    associates = PeopleField(
        queryset=Participant.objects.none(), required=False, label=_("Associates")
    )
    groups = forms.ModelMultipleChoiceField(
        queryset=StreetGroup.objects.none(), required=False, label=_("Groups involved")
    )

    def __init__(
        self,
        *args: object,
        organizations: QuerySet[PartnerOrganization],
        participants: QuerySet[Participant],
        groups: QuerySet[StreetGroup],
        city_admin: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if not city_admin:
            self.fields["organization"].required = True
            self.fields["organization"].empty_label = None
        for name in ROLE_FIELDS:
            self.fields[name].queryset = participants.order_by("last_name", "first_name")
            self.fields[name].widget.attrs["size"] = 6
        if groups.exists():
            self.fields["groups"].queryset = groups
        else:
            del self.fields["groups"]

    def clean(self) -> dict[str, object]:
        data = super().clean()
        seen: set[int] = set()
        for name in ROLE_FIELDS:
            for person in data.get(name) or []:
                if person.pk in seen:
                    self.add_error(
                        name,
                        gettext("%(person)s is listed in more than one role.")
                        % {"person": person.full_name},
                    )
                seen.add(person.pk)
        return data

    def people_by_role(self) -> dict[str, list[Participant]]:
        return {role: list(self.cleaned_data.get(name) or []) for name, role in ROLE_FIELDS.items()}


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Session) -> str:
        when = timezone.localtime(obj.occurred_at)
        return f"{when:%Y-%m-%d %H:%M} · {obj.get_kind_display()} · {obj.worker}"


class LinkSessionForm(forms.Form):
    session = SessionChoiceField(
        queryset=Session.objects.none(),
        empty_label=None,
        widget=forms.RadioSelect,
        label=_("Session"),
    )

    def __init__(self, *args: object, sessions: QuerySet[Session], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["session"].queryset = sessions


class QuickContactForm(forms.Form):
    occurred_at = BoundedDateTimeField(
        label=_("When"), widget=_datetime_input(), input_formats=[DATETIME_LOCAL]
    )
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=1440, initial=30, label=_("Minutes")
    )
    location = forms.ChoiceField(choices=Session.Location.choices, label=_("Location"))
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Notes"),
    )
    client_key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault(
            "initial",
            {
                "occurred_at": timezone.localtime().replace(second=0, microsecond=0),
                "client_key": uuid.uuid4(),
            },
        )
        super().__init__(*args, **kwargs)


class PeriodForm(forms.Form):
    start = BoundedDateField(widget=_date_input(), required=False, label=_("Start"))
    end = BoundedDateField(widget=_date_input(), required=False, label=_("End"))

    def __init__(self, *args: object, default_days: int = 7, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.default_days = default_days

    def period(self) -> tuple[date, date]:
        """The chosen period, or the last `default_days` days ending today."""
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=self.default_days - 1)
        return (start, end) if start <= end else (end, start)


class ReviewForm(forms.Form):
    organization = forms.ModelChoiceField(
        queryset=PartnerOrganization.objects.none(),
        required=False,
        empty_label=_("City-wide"),
        label=_("Review of"),
    )
    period_start = BoundedDateField(widget=forms.HiddenInput)
    period_end = BoundedDateField(widget=forms.HiddenInput)
    decisions = forms.CharField(
        max_length=NOTES_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 4}), label=_("Decisions")
    )

    def __init__(
        self,
        *args: object,
        organizations: QuerySet[PartnerOrganization],
        city_admin: bool,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if not city_admin:
            self.fields["organization"].required = True
            self.fields["organization"].empty_label = None


class FollowUpForm(forms.Form):
    assigned_to = forms.ModelChoiceField(queryset=None, required=False, label=_("Assign to"))
    description = forms.CharField(max_length=500, required=False, label=_("Follow-up"))
    due_on = BoundedDateField(widget=_date_input(), required=False, label=_("Due"))

    def __init__(self, *args: object, assignees: QuerySet, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["assigned_to"].queryset = assignees

    def clean(self) -> dict[str, object]:
        data = super().clean()
        if data.get("description") and not data.get("assigned_to"):
            self.add_error("assigned_to", _("Choose who will do it."))
        if data.get("assigned_to") and not data.get("description"):
            self.add_error("description", _("Say what is to be done."))
        return data


FollowUpFormSet = forms.formset_factory(FollowUpForm, extra=3, max_num=10)


class CallInForm(SingleSubmitFormMixin, forms.Form):
    organization = forms.ModelChoiceField(queryset=None, empty_label=None, label=_("Organization"))
    held_on = BoundedDateField(widget=_date_input(), label=_("Date"))
    place = forms.CharField(max_length=200, label=_("Place"))
    area = forms.ModelChoiceField(queryset=Area.objects.all(), required=False, label=_("Area"))
    attendees = PeopleField(queryset=None, required=False, label=_("Attendees"))
    notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Notes"),
    )

    def __init__(
        self,
        *args: object,
        organizations: QuerySet[PartnerOrganization],
        participants: QuerySet[Participant],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["attendees"].queryset = participants.order_by("last_name", "first_name")
        self.fields["attendees"].widget.attrs["size"] = 10


class PersonField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Participant) -> str:
        return f"{obj.full_name} ({obj.participant_code})"


class CustomNotificationForm(SingleSubmitFormMixin, forms.Form):
    participant = PersonField(queryset=None, label=_("Participant"))
    delivered_on = BoundedDateField(widget=_date_input(), label=_("Delivered on"))
    deliverers = forms.ModelMultipleChoiceField(queryset=None, label=_("Delivered by"))
    message_delivered = forms.BooleanField(
        required=False, initial=True, label=_("Message delivered")
    )
    response = forms.ChoiceField(
        choices=[("", "—"), *CustomNotification.Response.choices],
        required=False,
        label=_("Response"),
    )
    response_notes = forms.CharField(
        max_length=NOTES_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("Response notes"),
    )

    def __init__(
        self,
        *args: object,
        participants: QuerySet[Participant],
        deliverers: QuerySet,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["participant"].queryset = participants.order_by("last_name", "first_name")
        self.fields["deliverers"].queryset = deliverers
