"""Admin forms for the writes that have rules. Each form sends its write through the services, so
the admin and the web pages share one implementation of every rule.

A form validates by running its service once inside a savepoint that is always rolled back:
the rules are checked by the very code that will do the write, and a refusal becomes a form
error (the page keeps what was typed, nothing is saved). The admin's `save_model` then runs the
same service for real."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AdminDateWidget, AutocompleteSelectMultiple
from django.contrib.auth.models import AbstractBaseUser
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from interventions import access
from interventions.date_bounds import BoundedDateField
from interventions.errors import ServiceError
from interventions.models import Enrollment, Membership, Participant, Referral, Session
from interventions.services import case as services
from interventions.services.locking import EditConflictFormMixin

EXITED = Enrollment.Status.EXITED


class _TrialRunRollback(Exception):
    """Raised at the end of a trial run so its savepoint is rolled back."""


class ServiceRoutedForm(forms.ModelForm):
    """A ModelForm whose write is a service call (`perform`). The admin sets `acting_user`."""

    acting_user: AbstractBaseUser | None = None

    def perform(self) -> models.Model:
        """Do the write through the service and return the saved object."""
        raise NotImplementedError

    def _post_clean(self) -> None:
        super()._post_clean()
        if self.errors:
            return
        try:
            with transaction.atomic():
                self.perform()
                raise _TrialRunRollback
        except _TrialRunRollback:
            pass
        except ServiceError as error:
            self.add_error(None, error)


def _today_initial(form: forms.BaseForm, *names: str) -> None:
    for name in names:
        if name in form.fields and not form.initial.get(name):
            form.fields[name].initial = timezone.localdate


# Enrolments -----------------------------------------------------------------------------------


class EnrollmentAddForm(ServiceRoutedForm):
    class Meta:
        model = Enrollment
        fields = ["participant", "program", "assigned_worker", "status", "referred_on"]
        labels = {"status": _("Starting status"), "referred_on": _("Start date")}
        help_texts = {
            "status": _("Every step up to the starting status is dated with the start date."),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "status" in self.fields:
            self.fields["status"].choices = [
                (status.value, status.label) for status in services.FORWARD_ORDER
            ]
        _today_initial(self, "referred_on")

    def perform(self) -> Enrollment:
        data = self.cleaned_data
        return services.enroll_participant(
            participant=data["participant"],
            program=data["program"],
            by=self.acting_user,
            worker=data.get("assigned_worker"),
            status=data["status"],
            on=data["referred_on"],
        )


class EnrollmentChangeForm(EditConflictFormMixin, ServiceRoutedForm):
    """The lifecycle fields are read-only; a status change is a transition, done by a service."""

    new_status = forms.ChoiceField(
        label=_("Move to"),
        required=False,
        help_text=_("Leave blank to keep the current status. Exiting needs a reason."),
    )
    status_on = BoundedDateField(
        label=_("Date of the change"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Blank means today."),
    )
    exit_with_reason = forms.ChoiceField(
        label=_("Exit reason"),
        required=False,
        choices=[("", "---------"), *Enrollment.ExitReason.choices],
    )
    note = forms.CharField(label=_("Note for the history"), required=False, max_length=500)

    class Meta:
        model = Enrollment
        fields = ["assigned_worker"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        enrollment = self.instance
        choices: list[tuple[str, str]] = [
            ("", _("(keep: %(status)s)") % {"status": enrollment.get_status_display().lower()})
        ]
        choices += [
            (status, Enrollment.Status(status).label)
            for status in services.allowed_next_statuses(enrollment)
        ]
        if enrollment.is_open:
            choices.append((EXITED.value, _("Exited (choose a reason)")))
        self.fields["new_status"].choices = choices

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("exit_with_reason") and data.get("new_status") != EXITED:
            self.add_error("exit_with_reason", _("An exit reason goes with the status 'Exited'."))
        return data

    def perform(self) -> Enrollment:
        data = self.cleaned_data
        enrollment = self.instance
        if "assigned_worker" in self.changed_data:
            services.assign_worker(
                enrollments=[enrollment], worker=data.get("assigned_worker"), by=self.acting_user
            )
        new_status = data.get("new_status")
        if new_status == EXITED:
            services.exit_enrollment(
                enrollment=enrollment,
                reason=data.get("exit_with_reason", ""),
                by=self.acting_user,
                on=data.get("status_on"),
                note=data.get("note", ""),
            )
        elif new_status:
            services.change_enrollment_status(
                enrollment=enrollment,
                status=new_status,
                by=self.acting_user,
                on=data.get("status_on"),
                note=data.get("note", ""),
            )
        return enrollment


# Sessions -------------------------------------------------------------------------------------


class SessionAddForm(ServiceRoutedForm):
    attendees = forms.ModelMultipleChoiceField(
        label=_("Participants"),
        queryset=Participant.objects.all(),
        widget=AutocompleteSelectMultiple(Session._meta.get_field("participants"), admin.site),
        help_text=_("One person, or everyone in a group session. All from the same organisation."),
    )

    class Meta:
        model = Session
        fields = [
            "organization",
            "program",
            "worker",
            "kind",
            "occurred_at",
            "duration_minutes",
            "location",
            "follow_up_on",
        ]

    def perform(self) -> Session:
        data = self.cleaned_data
        return services.log_session(
            worker=data["worker"],
            organization=data["organization"],
            participants=data["attendees"],
            kind=data["kind"],
            occurred_at=data["occurred_at"],
            duration_minutes=data["duration_minutes"],
            location=data["location"],
            program=data.get("program"),
            follow_up_on=data.get("follow_up_on"),
        )


class SessionChangeForm(forms.ModelForm):
    """Who, when and for whom are fixed once logged; the details can be corrected."""

    class Meta:
        model = Session
        fields = ["kind", "duration_minutes", "location", "follow_up_on"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        follow_up_on = data.get("follow_up_on")
        if follow_up_on and follow_up_on < timezone.localtime(self.instance.occurred_at).date():
            self.add_error("follow_up_on", _("The follow-up date cannot be before the session."))
        return data


# Referrals ------------------------------------------------------------------------------------


class ReferralAddForm(ServiceRoutedForm):
    class Meta:
        model = Referral
        fields = [
            "participant",
            "organization",
            "made_by",
            "service_category",
            "to_organization",
            "outside_provider",
            "made_on",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _today_initial(self, "made_on")

    def perform(self) -> Referral:
        data = self.cleaned_data
        return services.make_referral(
            participant=data["participant"],
            made_by=data["made_by"],
            organization=data["organization"],
            service_category=data["service_category"],
            to_organization=data.get("to_organization"),
            outside_provider=data.get("outside_provider", ""),
            made_on=data["made_on"],
        )


class ReferralChangeForm(EditConflictFormMixin, ServiceRoutedForm):
    new_status = forms.ChoiceField(
        label=_("Move to"),
        required=False,
        help_text=_("Leave blank to keep the current status."),
    )
    status_on = BoundedDateField(
        label=_("Date of the change"),
        required=False,
        widget=AdminDateWidget,
        help_text=_("Blank means today."),
    )
    new_outcome = forms.CharField(
        label=_("Outcome"),
        required=False,
        max_length=500,
        help_text=_("What came of the referral (recorded with the change)."),
    )

    class Meta:
        model = Referral
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        referral = self.instance
        allowed = services.REFERRAL_NEXT.get(Referral.Status(referral.status), [])
        self.fields["new_status"].choices = [
            ("", _("(keep: %(status)s)") % {"status": referral.get_status_display().lower()}),
            *[(status.value, status.label) for status in allowed],
        ]

    def perform(self) -> Referral:
        data = self.cleaned_data
        if not data.get("new_status"):
            return self.instance
        return services.advance_referral(
            referral=self.instance,
            status=data["new_status"],
            by=self.acting_user,
            on=data.get("status_on"),
            outcome=data.get("new_outcome", ""),
        )


# Participants ---------------------------------------------------------------------------------


class ParticipantAdminForm(EditConflictFormMixin, forms.ModelForm):
    class Meta:
        model = Participant
        fields = [
            "organization",
            "participant_code",
            "first_name",
            "last_name",
            "aliases",
            "date_of_birth",
            "phone",
            "area",
            "risk_tier",
            "referral_source",
            "identified_on",
            "notified_on",
            "engaged_on",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        code = self.fields.get("participant_code")
        if code is not None and self.instance.pk is None:
            code.required = False
            code.help_text = _("Leave blank to give the organisation's next code (e.g. GP-00042).")
        _today_initial(self, "identified_on")


# Memberships ----------------------------------------------------------------------------------


class MembershipAdminForm(forms.ModelForm):
    """A membership in the admin, on its own page or in an organisation's inline. The admin
    sets `acting_user`: nobody gives themself a membership (access.can_grant_membership)."""

    acting_user: AbstractBaseUser | None = None

    class Meta:
        model = Membership
        fields = ["user", "organization", "role", "is_active"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        member = data.get("user")
        if self.acting_user is not None and not access.can_grant_membership(
            self.acting_user, member
        ):
            raise forms.ValidationError(
                _(
                    "You cannot give yourself a membership: another admin must, so the trail "
                    "shows someone else agreed."
                ),
                code="own_membership",
            )
        return data
