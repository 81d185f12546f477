"""The demo data of this feature: an example instrument marked as such, and demographics,
outcomes and assessments for the demo participants, so every new page shows something."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions.demo.case import seed_demo
from interventions.demo.outcomes import EXAMPLE_SLUG
from interventions.models import Participant
from interventions.models.outcomes import Assessment, Demographics, Instrument, OutcomeEvent
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db


def test_the_demo_has_an_example_instrument_and_outcomes_for_its_people():
    seed_demo()
    instrument = Instrument.objects.get(slug=EXAMPLE_SLUG)
    assert instrument.is_example and "not a validated tool" in instrument.name
    assert Demographics.objects.count() == Participant.objects.count() == 150
    assert OutcomeEvent.objects.count() > 30
    assert Assessment.objects.filter(kind="reassessment").exists()
    assert Assessment.objects.filter(eligible=True).exists()
    assert Assessment.objects.filter(eligible=False).exists()
    person = Assessment.objects.filter(kind="reassessment").first().participant
    worker = person.organization.memberships.filter(role="outreach_worker").first().user
    html = logged_in(worker).get(reverse("participant_outcomes", args=[person.pk])).content
    assert b"Example, not a validated tool" in html and b"Next reassessment due" in html
    manager = person.organization.memberships.filter(role="manager").first().user
    report = logged_in(manager).get(reverse("funder_report"), {"quarter": ""})
    assert report.status_code == 200
