"""The instruments in the Django admin: defined there, frozen once answered, copied into a new
draft version; the case data of this feature is not in the admin at all."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.urls import reverse

from interventions.models.outcomes import (
    Assessment,
    Demographics,
    InstrumentVersion,
    OutcomeEvent,
    RiskTierChange,
)
from interventions.services import outcomes as outcome_services
from tests.factories import ParticipantFactory
from tests.outcomes.factories import answers_for, make_version

pytestmark = pytest.mark.django_db


def test_case_data_of_outcomes_is_not_in_the_admin():
    for model in (OutcomeEvent, Demographics, Assessment, RiskTierChange):
        assert not admin.site.is_registered(model)


def test_a_draft_version_can_be_changed_and_an_answered_one_cannot(admin_client_city, org_a):
    version = make_version()
    url = reverse("admin:interventions_instrumentversion_change", args=[version.pk])
    assert 'name="_save"' in admin_client_city.get(url).content.decode()
    outcome_services.record_assessment(
        participant=ParticipantFactory(organization=org_a.organization),
        version=version,
        by=org_a.worker,
        answers=answers_for(version, 1),
    )
    page = admin_client_city.get(url)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    assert admin_client_city.post(url, {"number": 9}).status_code == 403
    delete = reverse("admin:interventions_instrumentversion_delete", args=[version.pk])
    assert admin_client_city.post(delete, {"post": "yes"}).status_code == 403
    item = version.items.first()
    item_url = reverse("admin:interventions_item_change", args=[item.pk])
    assert admin_client_city.post(item_url, {"text": "changed"}).status_code == 403
    version.refresh_from_db()
    assert version.number == 1


def test_the_admin_action_makes_a_new_draft_version(admin_client_city):
    version = make_version()
    response = admin_client_city.post(
        reverse("admin:interventions_instrumentversion_changelist"),
        {"action": "make_new_version", "_selected_action": [version.pk]},
    )
    assert response.status_code == 302
    copy = InstrumentVersion.objects.get(instrument=version.instrument, number=2)
    assert not copy.is_published and copy.items.count() == version.items.count()
