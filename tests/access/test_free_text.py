"""Every free-text field of case data is a note (interventions/notes.py): each text field of the
app is classified, and a string planted in every note of organisation A is shown on no page,
partial, export or admin page to organisation B (which holds a consent), to an analyst or to a
city admin. The planting enumerates the models' fields, so a note added to the list is planted
and checked without touching this file."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.urls import NoReverseMatch, reverse

from interventions import notes
from interventions.models import PartnerOrganization
from interventions.views.worker import PARTICIPANT_TABS
from tests.access.conftest import fresh
from tests.access.planted import case_models, leaks
from tests.conftest import logged_in
from tests.security.routes import SKIPPED_KWARGS, all_routes, fill_kwargs, is_admin
from tests.test_scoping import content

pytestmark = pytest.mark.django_db

TEXT_FIELDS = (models.CharField, models.TextField)


# The list ---------------------------------------------------------------------------------


def test_every_text_field_of_a_case_model_is_a_note_or_says_why_not():
    unclassified = []
    for model in case_models():
        label = model._meta.label
        narrative = set(notes.free_text_fields(model))
        allowed = notes.NOT_NARRATIVE.get(label, {})
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS) or field.choices:
                continue
            if field.name in narrative and field.name in allowed:
                unclassified.append(f"{label}.{field.name} is in both lists")
            elif field.name not in narrative and field.name not in allowed:
                unclassified.append(f"{label}.{field.name}")
    assert not unclassified, (
        "Classify these text fields in interventions/notes.py (FREE_TEXT, or NOT_NARRATIVE "
        f"with the reason): {unclassified}"
    )


def test_the_list_names_only_real_text_fields_and_paths():
    for label, entry in notes.FREE_TEXT.items():
        model = apps.get_model(label)
        for name in entry.fields:
            assert isinstance(model._meta.get_field(name), TEXT_FIELDS), f"{label}.{name}"
        if entry.written_by is not None:
            # The path must lead to an organisation, one row each: the rule filters on it.
            target: Any = model
            for part in entry.written_by.split("__"):
                field = target._meta.get_field(part)
                assert field.many_to_one, f"{label}: {entry.written_by} must follow foreign keys"
                target = field.related_model
            assert target is PartnerOrganization, f"{label}: {entry.written_by}"
    for label, fields in notes.NOT_NARRATIVE.items():
        model = apps.get_model(label)
        for name in fields:
            assert isinstance(model._meta.get_field(name), TEXT_FIELDS), f"{label}.{name}"


def test_a_new_unclassified_text_field_fails_the_classification(monkeypatch):
    """The classification test is not vacuous: a text field missing from both lists fails it."""
    monkeypatch.setitem(notes.NOT_NARRATIVE, "interventions.Program", {"name": "x", "slug": "x"})
    with pytest.raises(AssertionError, match=r"interventions.Program.description"):
        test_every_text_field_of_a_case_model_is_a_note_or_says_why_not()


def page_urls(objects: dict[str, Any]) -> list[str]:
    urls = []
    for route in all_routes():
        if is_admin(route) or route.name in {"logout"}:
            continue
        kwargs = fill_kwargs(route, objects)
        if kwargs is None:
            # Only a route whose missing kwargs no record can fill (a one-time link's token),
            # each listed with its reason, is left out; any other is a walk to teach.
            missing = [name for name in route.kwarg_names if name not in objects]
            assert set(missing) <= set(SKIPPED_KWARGS), f"no object for {missing} of {route.name}"
            continue
        try:
            url = reverse(route.name, kwargs=kwargs)
        except NoReverseMatch:  # a route needing a kwarg this record has no value for
            continue
        urls.append(url)
    detail = reverse("participant_detail", args=[objects["participant_id"]])
    tabs = [f"{detail}?tab={tab}" for tab in PARTICIPANT_TABS]
    return [*urls, *tabs, f"{detail}?page=1", f"{detail}?page=2"]


def test_the_writing_organisation_reads_its_notes(
    planted,
    org_a,
):
    """The control: A's own pages show the planted notes, so the checks below can fail."""
    page = logged_in(org_a.manager).get(
        reverse("participant_detail", args=[planted["participant_id"]])
    )
    text = content(page)
    for model, field in (("session", "notes"), ("enrollmentstatuschange", "note")):
        assert f"zqplant-{model}-{field}-qz" in text
    assert "zqplant-referral-outcome-qz" in text
    outcomes = content(
        logged_in(org_a.manager).get(
            reverse("participant_outcomes", args=[planted["participant_id"]])
        )
    )
    assert "zqplant-outcomeevent-notes-qz" in outcomes
    assert "zqplant-risktierchange-reason-qz" in outcomes
    plan = content(logged_in(org_a.manager).get(reverse("plan_detail", args=[planted["plan_id"]])))
    for model, field in (
        ("goal", "description"),
        ("milestone", "description"),
        ("planchange", "old_value"),
        ("planchange", "new_value"),
        ("incentiveentry", "decline_reason"),
    ):
        assert f"zqplant-{model}-{field}-qz" in plan


def test_no_page_partial_or_export_shows_a_note_to_another_organisation(
    planted, org_b, analyst, group_city_admin
):
    viewers = [org_b.worker, org_b.manager, analyst, group_city_admin]
    found = []
    for viewer in viewers:
        client = logged_in(fresh(viewer))
        for url in page_urls(planted):
            for headers in ({}, {"HX-Request": "true"}):
                response = client.get(url, headers=headers)
                if leaked := leaks(response):
                    found.append((viewer.username, url, headers, leaked))
    assert not found
