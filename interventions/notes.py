"""THE LIST of free text in case data. Every free-text field a person types about someone's case
(session and referral notes, a referral's outcome, status-change and exit notes, consent and
override reasons, call-in and notification notes, the review's decisions, outcome-event notes,
the reason a risk tier was set by hand, goal and milestone text, the old and new values of a
plan change, why an incentive was declined) is a note, and one rule holds for all of them
(applied by `access.with_notes_for` in pages, partials and exports, and by NotesNeverLookedUp
(accounts/admin_notes_guard.py, re-exported by admin/base.py), which the admin site puts in
front of every model admin and inline):

    a note is read only by the organisation that wrote it (`written_by`); a record with no
    writing organisation (a city-wide review) is read by city admins; nobody else, and never in
    the Django admin, an analyst's view or the city-wide pages.

Adding a model or a text field to the app: put each CharField/TextField either in FREE_TEXT
(narrative) or in NOT_NARRATIVE with the reason it is not (a code, a name, reference data).
tests/access/test_free_text.py fails for any text field of the app that is in neither, and
plants a string in every FREE_TEXT field to prove no other organisation, analyst or admin page
shows it. Fields with `choices` are codes from a fixed list and need no entry.

This module imports nothing else of the app (models are named by label), so models, access,
the admin and the tests can all read it without a cycle."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.db import models

# The apps whose models hold case data.
CASE_APPS = ("interventions",)


@dataclass(frozen=True)
class FreeText:
    """The narrative fields of one model, and the ORM path from the model to the organisation
    that wrote them (None: no organisation page reads them; they are kept for the record)."""

    fields: tuple[str, ...]
    written_by: str | None


FREE_TEXT: dict[str, FreeText] = {
    "interventions.Session": FreeText(("notes",), "organization"),
    "interventions.Referral": FreeText(("outcome", "notes"), "organization"),
    # Status-change and exit notes: written by the organisation running the program.
    "interventions.EnrollmentStatusChange": FreeText(
        ("note",), "enrollment__program__organization"
    ),
    # Consent is recorded by the organisation that owns the record.
    "interventions.Consent": FreeText(("note",), "participant__organization"),
    # Why someone opened a record without consent: about the person, shown on no page.
    "interventions.ConsentOverride": FreeText(("reason",), None),
    "interventions.CallIn": FreeText(("notes",), "organization"),
    "interventions.CustomNotification": FreeText(("response_notes",), "organization"),
    # The review's decisions and follow-ups name people and what is to be done about them.
    "interventions.ShootingReview": FreeText(("decisions",), "organization"),
    "interventions.ReviewDecision": FreeText(("description",), "review__organization"),
    # Outcomes in a person's life and why a risk tier was set by hand: the recording
    # organisation's (the record's owner when it was written).
    "interventions.OutcomeEvent": FreeText(("notes",), "organization"),
    "interventions.RiskTierChange": FreeText(("reason",), "organization"),
    # Life plans: goals in the participant's own words, their milestones, the changes made to an
    # approved plan (old and new text) and why an incentive was declined are written by the
    # organisation running the plan's program.
    "interventions.Goal": FreeText(("description",), "plan__enrollment__program__organization"),
    "interventions.Milestone": FreeText(
        ("description",), "goal__plan__enrollment__program__organization"
    ),
    "interventions.PlanChange": FreeText(
        ("old_value", "new_value"), "plan__enrollment__program__organization"
    ),
    "interventions.IncentiveEntry": FreeText(
        ("decline_reason",), "enrollment__program__organization"
    ),
}

_REFERENCE = "reference data about the program, not about a person"
_IDENTITY = "who the person is: shown to whoever may see the person, never a narrative"
_INSTRUMENT = "an assessment instrument's definition, set by a city admin: reference data"
_TEMPLATE = "a plan template's generic starting point, set by a city admin: reference data"

# Text fields that are not narrative, each with the reason. A field with `choices` needs none.
NOT_NARRATIVE: dict[str, dict[str, str]] = {
    "interventions.Area": {"name": _REFERENCE, "slug": _REFERENCE},
    "interventions.PartnerOrganization": {
        "name": _REFERENCE,
        "slug": _REFERENCE,
        "phone": "the organisation's public contact",
        "email": "the organisation's public contact",
    },
    "interventions.Program": {
        "name": _REFERENCE,
        "slug": _REFERENCE,
        "description": "the program's public description, written by the city",
    },
    "interventions.Participant": {
        "participant_code": _IDENTITY,
        "first_name": _IDENTITY,
        "last_name": _IDENTITY,
        "aliases": _IDENTITY,
        "phone": _IDENTITY,
    },
    "interventions.Referral": {
        "outside_provider": "the name of a service provider, not what happened there",
    },
    "interventions.StreetGroup": {
        "name": "street intelligence about a group, shown only with view_street_intelligence",
        "slug": "street intelligence about a group, shown only with view_street_intelligence",
        "notes": "street intelligence about a group, not a person's case; shown only to "
        "holders of view_street_intelligence",
    },
    "interventions.GroupConflict": {
        "notes": "street intelligence about two groups, not a person's case; shown only to "
        "holders of view_street_intelligence",
    },
    "interventions.GroupTie": {
        "source": "how a tie is known (self-reported, outreach…), shown only with the tie",
    },
    "interventions.Incident": {
        "location_description": "where a shooting happened: city-wide public information",
    },
    "interventions.CallIn": {"place": "where the call-in was held: a venue, not a person"},
    # Assessment instruments and plan templates are defined by a city admin in the Django admin:
    # the questions and generic starting points every participant gets, about nobody.
    "interventions.Instrument": {
        "name": _INSTRUMENT,
        "slug": _INSTRUMENT,
        "description": _INSTRUMENT,
    },
    "interventions.Scale": {"code": _INSTRUMENT, "name": _INSTRUMENT},
    "interventions.Item": {"text": _INSTRUMENT},
    "interventions.ItemChoice": {"label": _INSTRUMENT},
    "interventions.PlanTemplate": {"name": _TEMPLATE},
    "interventions.PlanTemplateGoal": {"description": _TEMPLATE, "milestones": _TEMPLATE},
    "interventions.PlanChange": {
        "field": "the name of the plan field that changed (target_on, status…), a code",
    },
    "interventions.IncentiveEntry": {
        "payment_reference": "the check, card or transfer number finance paid with: a "
        "bookkeeping code for the finance office, not about the person",
    },
    # Reminders hold no case data (models/reminders.py).
    "interventions.ReminderPreference": {
        "phone": "the staff member's own mobile number for reminders, not a participant's",
    },
    "interventions.ReminderDelivery": {
        "subject": "what a reminder was about, as a code (incident:42)",
        "channels": "how a reminder went (email, text), a code",
    },
    # The manager dashboard's kept counts (models/caseload.py) hold counts, no case data.
    "interventions.CaseloadCount": {
        "worker_name": "a staff member's display name, kept beside their counts for the "
        "dashboard's list of workers; not about a participant",
    },
    # The funder report's kept session counts (models/report_counts.py) hold counts, no case data.
    "interventions.SessionDayCountFillState": {
        "time_zone": "the time zone the day counts were filled in, a setting's value",
    },
}


def free_text_fields(model: type[models.Model]) -> tuple[str, ...]:
    entry = FREE_TEXT.get(model._meta.label)
    return entry.fields if entry else ()


def written_by(model: type[models.Model]) -> str | None:
    entry = FREE_TEXT.get(model._meta.label)
    return entry.written_by if entry else None


def reaches_free_text(model: type[models.Model], lookup: str) -> bool:
    """Whether a lookup (`notes__icontains`, `referral__outcome`, `enrollment__status_changes__
    note__iregex`…) reads a free-text field of the model or of one it walks to."""
    current: type[models.Model] | None = model
    for part in lookup.split("__"):
        if current is None:
            return False
        if part in free_text_fields(current):
            return True
        try:
            field = current._meta.get_field(part)
        except FieldDoesNotExist:  # a transform or a lookup (icontains…) ends the walk
            return False
        current = field.related_model if field.is_relation else None
    return False
