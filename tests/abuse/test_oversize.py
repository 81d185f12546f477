"""Every free-text field has a maximum length, and text ten times over it is refused with a
message, keeps what was typed, and writes nothing."""

from __future__ import annotations

import copy
import importlib
import inspect

import pytest
from django import forms
from django.contrib import admin
from django.contrib.auth.forms import ReadOnlyPasswordHashField
from django.test import RequestFactory
from django.urls import reverse

from interventions.accounts.admin_site import ADMIN_TEXT_MAX_LENGTH
from interventions.forms.case import NOTES_MAX_LENGTH
from interventions.models import (
    Area,
    Enrollment,
    EnrollmentStatusChange,
    Incident,
    Participant,
    Referral,
    Session,
    StreetGroup,
)
from interventions.services.locking import VersionField
from metrics.forms import MonthField
from tests.abuse.helpers import (
    incident_data,
    referral_data,
    register_data,
    session_data,
    today,
)
from tests.conftest import logged_in
from tests.factories import EnrollmentFactory, ParticipantFactory, ReferralFactory

pytestmark = pytest.mark.django_db

FORM_MODULES = (
    "interventions.forms.case",
    "interventions.forms.response",
    "interventions.forms.sharing",
    "interventions.forms.filters",
    "interventions.audit.forms",
    "interventions.accounts.views",
    "metrics.forms",
)
TOO_LONG = "Ensure this value has at most"


def _declared_forms() -> list[type[forms.BaseForm]]:
    found = []
    for name in FORM_MODULES:
        module = importlib.import_module(name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if value.__module__ == name and issubclass(value, forms.BaseForm):
                found.append(value)
    return found


# Fields that parse their input and refuse anything else (a UUID, a record version, a month),
# and passwords, which are hashed and must not be capped short of a long passphrase.
PARSED_OR_HASHED = (forms.UUIDField, VersionField, MonthField, ReadOnlyPasswordHashField)


def _unbounded_text_fields(fields: dict[str, forms.Field]) -> list[str]:
    return [
        name
        for name, field in fields.items()
        if isinstance(field, forms.CharField)
        and not isinstance(field, PARSED_OR_HASHED)
        and not isinstance(field.widget, forms.PasswordInput)
        and (field.max_length is None or field.max_length > NOTES_MAX_LENGTH)
    ]


def test_every_text_field_of_every_form_has_a_maximum_length():
    declared = _declared_forms()
    assert len(declared) >= 15
    unbounded = {
        form.__name__: fields
        for form in declared
        if (fields := _unbounded_text_fields(form.base_fields))
    }
    assert unbounded == {}


def test_every_text_field_of_the_filters_has_a_maximum_length():
    from interventions.forms import filters

    for filterset in (filters.ParticipantFilter, filters.SessionFilter, filters.ReferralFilter):
        # On copies: a filter caches its form field, and the class's own must stay unbuilt.
        fields = {name: copy.deepcopy(f).field for name, f in filterset.base_filters.items()}
        assert _unbounded_text_fields(fields) == [], filterset.__name__


def test_every_admin_add_and_change_form_bounds_its_text(city_admin):
    request = RequestFactory().get("/admin/")
    request.user = city_admin
    unbounded = {}
    for model, model_admin in admin.site._registry.items():
        form = model_admin.get_form(request, obj=None)
        if fields := _unbounded_text_fields(form.base_fields):
            unbounded[model._meta.label] = fields
    assert unbounded == {}
    participant_form = admin.site._registry[Participant].get_form(request)
    assert participant_form.base_fields["first_name"].max_length == 100
    group_form = admin.site._registry[StreetGroup].get_form(request)
    assert group_form.base_fields["notes"].max_length == ADMIN_TEXT_MAX_LENGTH


# ---- ten times over: refused, with a message, nothing written --------------------------------


def _refused(response, field_value: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    page = response.content.decode()
    assert TOO_LONG in page
    # What was typed is kept in the form (the start of it, at least).
    assert field_value[:50] in page


@pytest.mark.parametrize("field", ["first_name", "last_name", "aliases"])
def test_an_oversize_name_is_refused_on_registration(org_a, field):
    text = "N" * 1000 + "x"
    before = Participant.objects.count()
    response = logged_in(org_a.worker).post(
        reverse("participant_register"), register_data(org_a.program.pk, **{field: text})
    )
    _refused(response, text)
    assert Participant.objects.count() == before
    assert Enrollment.objects.count() == 0


def test_an_oversize_session_note_is_refused(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    EnrollmentFactory(participant=participant, program=org_a.program, assigned_worker=org_a.worker)
    text = "n" * (NOTES_MAX_LENGTH * 10)
    response = logged_in(org_a.worker).post(
        reverse("session_log"), session_data(participant.pk, notes=text)
    )
    _refused(response, text)
    assert Session.objects.count() == 0


def test_an_oversize_referral_is_refused(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    EnrollmentFactory(participant=participant, program=org_a.program, assigned_worker=org_a.worker)
    client = logged_in(org_a.worker)
    url = reverse("referral_create", args=[participant.pk])
    for field, text in (("notes", "r" * NOTES_MAX_LENGTH * 10), ("outside_provider", "p" * 2000)):
        _refused(client.post(url, referral_data(**{field: text})), text)
    assert Referral.objects.count() == 0


def test_an_oversize_referral_outcome_and_status_note_are_refused(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    enrollment = EnrollmentFactory(
        participant=participant, program=org_a.program, assigned_worker=org_a.worker
    )
    referral = ReferralFactory(participant=participant, made_by=org_a.worker)
    client = logged_in(org_a.worker)
    text = "o" * 5000
    response = client.post(
        reverse("referral_advance", args=[referral.pk]),
        {"status": Referral.Status.ACCEPTED, "on": today(), "outcome": text},
    )
    _refused(response, text)
    referral.refresh_from_db()
    assert referral.status == Referral.Status.MADE
    changes = EnrollmentStatusChange.objects.count()
    response = client.post(
        reverse("enrollment_status", args=[enrollment.pk]),
        {"status": Enrollment.Status.INACTIVE, "on": today(), "note": text},
    )
    _refused(response, text)
    assert EnrollmentStatusChange.objects.count() == changes
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_an_oversize_incident_location_is_refused(org_a):
    text = "l" * 3000
    response = logged_in(org_a.manager).post(
        reverse("incident_new"), incident_data(org_a.organization.pk, location_description=text)
    )
    _refused(response, text)
    assert Incident.objects.count() == 0


def test_oversize_text_in_the_admin_is_refused(city_admin):
    client = logged_in(city_admin)
    name = "A" * 1200
    response = client.post(
        reverse("admin:interventions_area_add"), {"name": name, "slug": "a", "kind": "city"}
    )
    _refused(response, name)
    assert not Area.objects.filter(slug="a").exists()
    notes = "g" * (ADMIN_TEXT_MAX_LENGTH * 10)
    response = client.post(
        reverse("admin:interventions_streetgroup_add"),
        {
            "name": "Eastside",
            "slug": "eastside",
            "status": "active",
            "notes": notes,
            "ties-TOTAL_FORMS": "0",
            "ties-INITIAL_FORMS": "0",
        },
    )
    _refused(response, notes)
    assert StreetGroup.objects.count() == 0


def test_an_oversize_search_finds_nothing_and_says_why(org_a):
    ParticipantFactory(organization=org_a.organization)
    response = logged_in(org_a.manager).get(reverse("org_participants"), {"q": "q" * 2000})
    assert response.status_code == 200
    assert TOO_LONG in response.content.decode()
