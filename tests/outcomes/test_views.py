"""The participant's outcomes page and its forms: the owning organisation reads and writes;
another organisation under consent reads the events without their notes, and the demographics
only when the consent says so; everyone else gets 404."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import IncidentParticipant
from interventions.models.outcomes import Assessment, Demographics, OutcomeEvent, RiskTierChange
from tests.conftest import logged_in
from tests.factories import ConsentFactory, IncidentFactory, ParticipantFactory
from tests.outcomes.factories import DemographicsFactory, OutcomeEventFactory, make_version

pytestmark = pytest.mark.django_db

EVENT_NOTE = "told the coach about the judge's words"
TIER_REASON = "Shot at twice this month near his home"


@pytest.fixture
def person(org_a):  # type: ignore[no-untyped-def]
    participant = ParticipantFactory(organization=org_a.organization)
    DemographicsFactory(
        participant=participant, gender="transgender_woman", race_ethnicity=["asian"]
    )
    OutcomeEventFactory(participant=participant, notes=EVENT_NOTE, recorded_by=org_a.worker)
    return participant


def page(client, person) -> str:  # type: ignore[no-untyped-def]
    response = client.get(reverse("participant_outcomes", args=[person.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_owner_sees_everything(worker_client, person):
    html = page(worker_client, person)
    assert "Transgender woman / girl" in html and "Asian" in html
    assert "Arrest" in html and EVENT_NOTE.replace("'", "&#x27;") in html
    assert reverse("demographics_edit", args=[person.pk]) in html


def test_under_consent_events_without_notes_and_no_demographics(org_a, org_b, person):
    ConsentFactory(participant=person, organization=org_b.organization, recorded_by=org_a.manager)
    html = page(logged_in(org_b.worker), person)
    assert "Arrest" in html
    assert "judge" not in html
    assert "Transgender" not in html and "Asian" not in html
    assert "the consent does not share them" in html
    assert reverse("demographics_edit", args=[person.pk]) not in html


def test_a_consent_that_includes_demographics_shows_them(org_a, org_b, person):
    ConsentFactory(
        participant=person,
        organization=org_b.organization,
        recorded_by=org_a.manager,
        shares_demographics=True,
    )
    html = page(logged_in(org_b.worker), person)
    assert "Transgender woman / girl" in html
    assert "judge" not in html


def test_the_consent_form_records_the_demographics_flag(org_a, org_b, person):
    response = logged_in(org_a.manager).post(
        reverse("consent_create", args=[person.pk]),
        {
            "share_with": str(org_b.organization.pk),
            "granted_on": timezone.localdate().isoformat(),
            "shares_demographics": "on",
        },
    )
    assert response.status_code == 302
    assert person.consents.get().shares_demographics


@pytest.mark.parametrize(
    "url_name",
    ["demographics_edit", "outcome_event_create", "risk_tier_set", "assessment_create"],
)
def test_an_organisation_under_consent_cannot_write(org_a, org_b, person, url_name):
    ConsentFactory(participant=person, organization=org_b.organization, recorded_by=org_a.manager)
    client = logged_in(org_b.worker)
    url = reverse(url_name, args=[person.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"gender": "man"}).status_code == 404
    assert Demographics.objects.get(participant=person).gender == "transgender_woman"


def test_demographics_are_edited_and_a_bad_mix_is_refused(worker_client, person):
    url = reverse("demographics_edit", args=[person.pk])
    bad = worker_client.post(url, {"race_ethnicity": ["declined", "white"]})
    assert bad.status_code == 400 and "cannot be ticked" in bad.content.decode()
    good = worker_client.post(
        url,
        {"gender": "man", "race_ethnicity": ["white", "hispanic"], "preferred_language": "spanish"},
    )
    assert good.status_code == 302
    saved = Demographics.objects.get(participant=person)
    assert (saved.gender, saved.race_ethnicity) == ("man", ["hispanic", "white"])


def test_an_outcome_is_recorded_from_the_page(worker_client, person):
    response = worker_client.post(
        reverse("outcome_event_create", args=[person.pk]),
        {
            "kind": "employment_started",
            "occurred_on": timezone.localdate().isoformat(),
            "source": "employer",
        },
    )
    assert response.status_code == 302
    assert OutcomeEvent.objects.filter(participant=person, kind="employment_started").exists()
    refused = worker_client.post(
        reverse("outcome_event_create", args=[person.pk]),
        {"kind": "arrest", "detail": "ged", "occurred_on": "2026-01-01", "source": "probation"},
    )
    assert refused.status_code == 400 and "does not fit" in refused.content.decode()


def test_a_victim_role_offers_the_victimisation_event(org_a, worker_client, person):
    incident = IncidentFactory(
        organization=org_a.organization,
        entered_by=org_a.manager,
        occurred_at=timezone.now() - timedelta(days=2),
    )
    IncidentParticipant.objects.create(incident=incident, participant=person, role="victim")
    url = reverse("victimization_from_incident", args=[person.pk, incident.pk])
    assert url in page(worker_client, person)
    assert worker_client.post(url, {"source": "hospital"}).status_code == 302
    assert worker_client.post(url, {"source": "hospital"}).status_code == 302
    assert OutcomeEvent.objects.filter(incident=incident).count() == 1
    assert url not in page(worker_client, person)


def test_a_tier_by_hand_shows_its_reason_to_the_owner_only(org_a, org_b, worker_client, person):
    response = worker_client.post(
        reverse("risk_tier_set", args=[person.pk]), {"tier": "1", "reason": TIER_REASON}
    )
    assert response.status_code == 302
    assert RiskTierChange.objects.get().reason == TIER_REASON
    assert TIER_REASON in page(worker_client, person)
    ConsentFactory(participant=person, organization=org_b.organization, recorded_by=org_a.manager)
    assert TIER_REASON not in page(logged_in(org_b.worker), person)


def test_an_assessment_is_taken_and_change_is_shown_per_scale(worker_client, person):
    version = make_version(scales=2, cutoff=2, eligible_min_scales=1)
    version.instrument.is_example = True
    version.instrument.save()
    url = reverse("assessment_create", args=[person.pk])
    chooser = worker_client.get(url).content.decode()
    assert f"?instrument={version.instrument.slug}" in chooser
    form_page = worker_client.get(url, {"instrument": version.instrument.slug}).content.decode()
    assert "not a validated tool" in form_page
    items = list(version.items.order_by("position"))
    today = timezone.localdate().isoformat()
    first = {f"item_{item.pk}": "1" if item.scale.code == "s1" else "0" for item in items}
    second = {f"item_{item.pk}": "1" for item in items}
    for answers in (first, second):
        response = worker_client.post(
            f"{url}?instrument={version.instrument.slug}", {"assessed_on": today, **answers}
        )
        assert response.status_code == 302
    assert list(Assessment.objects.order_by("pk").values_list("kind", flat=True)) == [
        "intake",
        "reassessment",
    ]
    html = page(worker_client, person)
    assert "Example, not a validated tool" in html
    assert "(+2)" in html  # scale 2 went from 0 to 2
    assert "Next reassessment due" in html


def test_an_unknown_instrument_is_not_found(worker_client, person):
    url = reverse("assessment_create", args=[person.pk])
    assert worker_client.get(url, {"instrument": "nope"}).status_code == 404


def test_the_participant_page_links_to_outcomes(worker_client, person):
    html = worker_client.get(reverse("participant_detail", args=[person.pk])).content.decode()
    assert reverse("participant_outcomes", args=[person.pk]) in html


def test_assessments_due_lists_intakes_and_old_assessments(
    org_a, worker_client, django_assert_max_num_queries
):
    from interventions.services import outcomes as outcome_services
    from tests.factories import EnrollmentFactory
    from tests.outcomes.factories import answers_for

    version = make_version()
    today = timezone.localdate()
    people = {}
    for name, days_ago in (("Never", None), ("Longago", 200), ("Recent", 30)):
        person = ParticipantFactory(
            organization=org_a.organization, last_name=name, identified_on=today - timedelta(400)
        )
        EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)
        if days_ago is not None:
            outcome_services.record_assessment(
                participant=person,
                version=version,
                by=org_a.worker,
                answers=answers_for(version, 1),
                assessed_on=today - timedelta(days=days_ago),
            )
        people[name] = person
    with django_assert_max_num_queries(8):
        html = worker_client.get(reverse("assessments_due")).content.decode()
    assert "Never" in html and "Longago" in html and "Recent" not in html
    assert html.index("Never") < html.index("Longago")
    assert "intake due" in html
