"""The Django admin is a city-wide view: no free-text field of case data (interventions/notes.py)
is shown, exported, searched or filtered on there, on any registered model admin."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse

from interventions import notes
from interventions.admin.base import NotesNeverLookedUp
from tests.access.planted import leaks

pytestmark = pytest.mark.django_db


def _admin_pages(model: type[models.Model]) -> list[str]:
    opts = model._meta
    pages = [reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")]
    pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_add"))
    for pk in model._default_manager.values_list("pk", flat=True)[:5]:
        for view in ("change", "history", "delete"):
            pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[pk]))
    return pages


def test_no_admin_page_or_admin_export_shows_a_note(
    planted,
    admin_client_city: Client,
):
    # A page refused to the city admin (a 403) is a page that shows nothing.
    admin_client_city.raise_request_exception = False
    found = []
    for model in admin.site._registry:
        for url in _admin_pages(model):
            response = admin_client_city.get(url)
            assert response.status_code in (200, 302, 403), (url, response.status_code)
            if leaked := leaks(response):
                found.append((url, leaked))
        # The export action writes the changelist's columns for the selected rows.
        pks = [str(pk) for pk in model._default_manager.values_list("pk", flat=True)]
        if pks:
            changelist = _admin_pages(model)[0]
            response = admin_client_city.post(
                changelist, {"action": "export_as_csv", helpers.ACTION_CHECKBOX_NAME: pks}
            )
            if leaked := leaks(response):
                found.append((f"{changelist} export", leaked))
    assert not found


def _lookups_reaching_notes(model: type[models.Model]) -> list[str]:
    """`<note>__icontains` for the model's own notes and, one relation away, its neighbours'
    (`enrollment__status_changes__note__icontains` is two: the walk covers it the same way)."""
    lookups = [f"{name}__icontains" for name in notes.free_text_fields(model)]
    for field in model._meta.get_fields():
        if field.is_relation and field.related_model is not None:
            lookups += [
                f"{field.name}__{name}__icontains"
                for name in notes.free_text_fields(field.related_model)
            ]
    return lookups


def test_every_model_admin_refuses_lookups_on_notes(admin_client_city: Client, city_admin):
    request = RequestFactory().get("/")
    request.user = city_admin
    refused = 0
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, NotesNeverLookedUp), model
        for name in model_admin.get_search_fields(request):
            assert not notes.reaches_free_text(model, name.lstrip("^=@")), (model, name)
        for name in model_admin.get_list_display(request):
            assert not (isinstance(name, str) and notes.reaches_free_text(model, name)), name
        changelist = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for lookup in _lookups_reaching_notes(model):
            response = admin_client_city.get(changelist, {lookup: "a"})
            assert response.status_code == 400, (changelist, lookup, response.status_code)
            refused += 1
    # The probe's lookups are among those refused.
    assert refused >= 4


@pytest.mark.parametrize(
    ("model_name", "lookup"),
    [
        ("session", "notes__icontains"),
        ("referral", "outcome__icontains"),
        ("enrollmentstatuschange", "note__icontains"),
        ("customnotification", "response_notes__icontains"),
        ("callin", "notes__icontains"),
        ("enrollment", "status_changes__note__icontains"),
    ],
)
def test_the_probes_note_filters_are_refused(admin_client_city: Client, model_name, lookup):
    response = admin_client_city.get(
        reverse(f"admin:interventions_{model_name}_changelist"), {lookup: "a"}
    )
    assert response.status_code == 400
