"""The writes of demographics, outcome events, assessments and the risk tier, their refusals,
and the database rules that hold when a write goes around the services."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from interventions.errors import ServiceError
from interventions.models import IncidentParticipant, Participant
from interventions.models.outcomes import (
    Assessment,
    Demographics,
    OutcomeEvent,
    RiskTierChange,
    ScaleScore,
)
from interventions.services import outcomes as services
from tests.factories import ConsentFactory, IncidentFactory, ParticipantFactory
from tests.outcomes.factories import OutcomeEventFactory, answers_for, make_version

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


@pytest.fixture
def person(org_a):  # type: ignore[no-untyped-def]
    return ParticipantFactory(organization=org_a.organization, risk_tier=Participant.RiskTier.HIGH)


# Demographics ----------------------------------------------------------------------------------


def test_demographics_are_saved_and_corrected(org_a, person):
    services.save_demographics(
        participant=person, by=org_a.worker, gender="woman", race_ethnicity=["black", "hispanic"]
    )
    saved = services.save_demographics(
        participant=person,
        by=org_a.worker,
        gender="declined",
        race_ethnicity=["unknown"],
        preferred_language="spanish",
    )
    assert Demographics.objects.count() == 1
    saved.refresh_from_db()
    assert (saved.gender, saved.race_ethnicity, saved.preferred_language) == (
        "declined",
        ["unknown"],
        "spanish",
    )


def test_declined_or_unknown_cannot_go_with_another_answer(org_a, person):
    with pytest.raises(ServiceError, match="cannot be chosen with another"):
        services.save_demographics(
            participant=person, by=org_a.worker, race_ethnicity=["declined", "white"]
        )


def test_a_value_not_in_the_list_is_refused(org_a, person):
    with pytest.raises(ServiceError, match="from the list"):
        services.save_demographics(participant=person, by=org_a.worker, gender="martian")
    with pytest.raises(ServiceError, match="from the list"):
        services.save_demographics(participant=person, by=org_a.worker, race_ethnicity=["x"])


def test_another_organisation_cannot_write_demographics_even_under_consent(org_a, org_b, person):
    ConsentFactory(
        participant=person,
        organization=org_b.organization,
        recorded_by=org_a.manager,
        shares_demographics=True,
    )
    with pytest.raises(ServiceError, match="Only members of"):
        services.save_demographics(participant=person, by=org_b.manager, gender="man")
    assert not Demographics.objects.exists()


@pytest.mark.parametrize(
    "races", [["declined", "white"], ["unknown", "asian"], ["purple"]], ids=str
)
def test_the_database_refuses_bad_race_lists_written_around_the_service(person, races):
    with pytest.raises(IntegrityError), transaction.atomic():
        Demographics.objects.create(participant=person, race_ethnicity=races)


# Outcome events --------------------------------------------------------------------------------


def test_an_outcome_is_recorded_with_its_source(org_a, person):
    event = services.record_outcome_event(
        participant=person,
        by=org_a.worker,
        kind="credential_earned",
        detail="ged",
        occurred_on=TODAY() - timedelta(days=3),
        source="school",
        notes="  passed all four tests ",
    )
    assert (event.organization, event.notes) == (org_a.organization, "passed all four tests")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"occurred_on": "tomorrow"}, "cannot be in the future"),
        ({"kind": "arrest", "detail": "ged"}, "does not fit"),
        ({"kind": "reinjury", "detail": "diploma"}, "does not fit"),
        ({"source": "rumour"}, "source"),
        ({"kind": "lottery"}, "what happened"),
        ({"occurred_on": "before birth"}, "before the person was born"),
    ],
    ids=lambda value: str(value)[:30],
)
def test_bad_outcomes_are_refused(org_a, person, changes, message):
    kwargs = {
        "kind": "credential_earned",
        "detail": "",
        "occurred_on": TODAY(),
        "source": "school",
        **changes,
    }
    if kwargs["occurred_on"] == "tomorrow":
        kwargs["occurred_on"] = TODAY() + timedelta(days=1)
    elif kwargs["occurred_on"] == "before birth":
        kwargs["occurred_on"] = person.date_of_birth - timedelta(days=1)
    with pytest.raises(ServiceError, match=message):
        services.record_outcome_event(participant=person, by=org_a.worker, **kwargs)
    assert not OutcomeEvent.objects.exists()


def test_only_the_owning_organisation_records_outcomes(org_a, org_b, person):
    ConsentFactory(participant=person, organization=org_b.organization, recorded_by=org_a.manager)
    with pytest.raises(ServiceError, match="Only members of"):
        services.record_outcome_event(
            participant=person,
            by=org_b.worker,
            kind="arrest",
            occurred_on=TODAY(),
            source="probation",
        )


@pytest.mark.parametrize(
    "fields",
    [
        {"kind": "arrest", "detail": "shot"},
        {"kind": "employment_started", "detail": "ged"},
        {"kind": "arrest", "occurred_on_days": -5},
    ],
    ids=["detail-on-arrest", "credential-on-job", "future"],
)
def test_the_database_refuses_bad_events_written_around_the_service(org_a, person, fields):
    days = fields.pop("occurred_on_days", 1)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeEvent.objects.create(
            participant=person,
            organization=org_a.organization,
            source="probation",
            occurred_on=TODAY() - timedelta(days=days),
            recorded_by=org_a.worker,
            **fields,
        )


# Victims of recorded incidents ------------------------------------------------------------------


def _victim_of(person, org, *, days_ago=3, kind="nonfatal_shooting"):  # type: ignore[no-untyped-def]
    incident = IncidentFactory(
        organization=org.organization,
        entered_by=org.manager,
        kind=kind,
        occurred_at=timezone.now() - timedelta(days=days_ago),
    )
    IncidentParticipant.objects.create(incident=incident, participant=person, role="victim")
    return incident


def test_a_victim_of_an_incident_gets_the_victimisation_once(org_a, person):
    incident = _victim_of(person, org_a)
    assert services.victim_incidents_without_event(person) == [incident]
    first = services.record_victimization_from_incident(
        participant=person, incident=incident, by=org_a.worker, source="hospital"
    )
    again = services.record_victimization_from_incident(
        participant=person, incident=incident, by=org_a.worker, source="hospital"
    )
    assert first.pk == again.pk
    assert (first.kind, first.detail, first.occurred_on) == (
        "violent_victimization",
        "shot",
        timezone.localdate(incident.occurred_at),
    )
    assert services.victim_incidents_without_event(person) == []


def test_a_second_injury_is_a_reinjury(org_a, person):
    OutcomeEventFactory(
        participant=person, kind="violent_victimization", occurred_on=TODAY() - timedelta(days=90)
    )
    incident = _victim_of(person, org_a)
    event = services.record_victimization_from_incident(
        participant=person, incident=incident, by=org_a.worker, source="hospital"
    )
    assert event.kind == "reinjury"


def test_a_suspect_is_not_given_a_victimisation(org_a, person):
    incident = _victim_of(person, org_a)
    IncidentParticipant.objects.filter(incident=incident).update(role="suspect")
    with pytest.raises(ServiceError, match="not recorded as a victim"):
        services.record_victimization_from_incident(
            participant=person, incident=incident, by=org_a.worker, source="hospital"
        )


def test_the_database_keeps_one_event_per_person_and_incident(org_a, person):
    incident = _victim_of(person, org_a)
    OutcomeEventFactory(participant=person, kind="violent_victimization", incident=incident)
    with pytest.raises(IntegrityError), transaction.atomic():
        OutcomeEventFactory(participant=person, kind="reinjury", incident=incident)


# Risk tier -------------------------------------------------------------------------------------


def test_a_tier_set_by_hand_keeps_its_reason(org_a, person):
    change = services.set_risk_tier_by_hand(
        participant=person, by=org_a.manager, tier=1, reason="Shot at last week, named in a feud"
    )
    person.refresh_from_db()
    assert person.risk_tier == 1
    assert (change.from_tier, change.to_tier, change.basis) == (2, 1, "by_hand")


def test_a_tier_by_hand_needs_a_reason_and_a_change(org_a, person):
    with pytest.raises(ServiceError, match="Say why"):
        services.set_risk_tier_by_hand(participant=person, by=org_a.manager, tier=1, reason="x")
    with pytest.raises(ServiceError, match="already in that tier"):
        services.set_risk_tier_by_hand(
            participant=person, by=org_a.manager, tier=2, reason="No change at all, really"
        )
    assert not RiskTierChange.objects.exists()


def test_the_database_refuses_a_tier_by_hand_without_reason(org_a, person):
    with pytest.raises(IntegrityError), transaction.atomic():
        RiskTierChange.objects.create(
            participant=person,
            organization=org_a.organization,
            from_tier=2,
            to_tier=1,
            basis="by_hand",
            changed_by=org_a.manager,
        )


# Assessments -----------------------------------------------------------------------------------


def test_an_assessment_is_scored_by_its_version_rule(org_a, person):
    version = make_version(scales=3, cutoff=2, eligible_min_scales=2)
    intake = services.record_assessment(
        participant=person, version=version, by=org_a.worker, answers=answers_for(version, 2)
    )
    assert (intake.kind, intake.scales_at_cutoff, intake.eligible, intake.suggested_tier) == (
        "intake",
        2,
        True,
        2,
    )
    scores = dict(ScaleScore.objects.filter(assessment=intake).values_list("scale__code", "score"))
    assert scores == {"s1": 2, "s2": 2, "s3": 0}
    again = services.record_assessment(
        participant=person,
        version=version,
        by=org_a.worker,
        answers=answers_for(version, 3),
        apply_tier=True,
    )
    person.refresh_from_db()
    assert (again.kind, again.suggested_tier, person.risk_tier) == ("reassessment", 1, 1)
    change = RiskTierChange.objects.get()
    assert (change.basis, change.assessment) == ("assessment", again)


def test_not_eligible_below_the_rule(org_a, person):
    version = make_version(scales=3, eligible_min_scales=2)
    result = services.record_assessment(
        participant=person, version=version, by=org_a.worker, answers=answers_for(version, 1)
    )
    assert (result.scales_at_cutoff, result.eligible, result.suggested_tier) == (1, False, 3)


def test_every_item_must_be_answered_within_what_it_allows(org_a, person):
    version = make_version()
    answers = answers_for(version, 1)
    missing = dict(list(answers.items())[1:])
    with pytest.raises(ServiceError, match="Answer every item"):
        services.record_assessment(
            participant=person, version=version, by=org_a.worker, answers=missing
        )
    too_much = {**answers, next(iter(answers)): 5}
    with pytest.raises(ServiceError, match="not one the item allows"):
        services.record_assessment(
            participant=person, version=version, by=org_a.worker, answers=too_much
        )
    assert not Assessment.objects.exists()


def test_an_unpublished_version_or_an_outsider_is_refused(org_a, org_b, person):
    draft = make_version(published=False)
    with pytest.raises(ServiceError, match="not published"):
        services.record_assessment(
            participant=person, version=draft, by=org_a.worker, answers=answers_for(draft, 1)
        )
    version = make_version()
    with pytest.raises(ServiceError, match="Only members of"):
        services.record_assessment(
            participant=person, version=version, by=org_b.worker, answers=answers_for(version, 1)
        )


def test_an_answered_version_is_frozen_and_copied_into_a_new_one(org_a, person):
    version = make_version()
    services.require_unanswered(version)  # nobody answered it yet
    services.record_assessment(
        participant=person, version=version, by=org_a.worker, answers=answers_for(version, 1)
    )
    with pytest.raises(ServiceError, match="make a new version"):
        services.require_unanswered(version)
    copy = services.copy_version(version=version)
    assert (copy.number, copy.is_published) == (2, False)
    assert copy.items.count() == version.items.count() == 6
    assert set(copy.scales.values_list("code", flat=True)) == {"s1", "s2", "s3"}
    assert not copy.items.filter(scale__version=version).exists()


def test_the_database_refuses_to_change_an_answered_version_written_around_the_service(
    org_a, person
):
    from interventions.models.outcomes import ItemChoice, Scale

    version = make_version()
    item = version.items.first()
    ItemChoice.objects.create(item=item, label="Maybe", points=1)
    Scale.objects.filter(version=version).update(name="Renamed before anyone answered")
    services.record_assessment(
        participant=person, version=version, by=org_a.worker, answers=answers_for(version, 1)
    )
    for write in (
        lambda: type(item).objects.filter(pk=item.pk).update(text="Changed after the fact"),
        lambda: Scale.objects.filter(version=version).update(cutoff=1),
        lambda: ItemChoice.objects.filter(item=item).update(points=2),
        lambda: ItemChoice.objects.filter(item=item).delete(),
        lambda: type(version).objects.filter(pk=version.pk).update(eligible_min_scales=1),
    ):
        with pytest.raises(IntegrityError, match="has been answered"), transaction.atomic():
            write()
    # Withdrawing it from use is allowed.
    type(version).objects.filter(pk=version.pk).update(is_published=False)
