"""Demo data for who is served and what changed: an example assessment instrument (marked as an
example, not a validated tool), demographics for the demo participants, outcome events after
their enrolments, and intake assessments with reassessments every six months.

Idempotent: the instrument is looked up by slug, and the rest is written only while no demo
participant has demographics yet. Deterministic (`random.Random(2026)`), dated back from today.
Every person and every answer is invented."""

from __future__ import annotations

import random
from datetime import date, timedelta

from django.utils import timezone

from interventions.models import Enrollment, Membership, Participant, PartnerOrganization
from interventions.models.outcomes import (
    Demographics,
    Instrument,
    InstrumentVersion,
    Item,
    ItemChoice,
    OutcomeEvent,
    Scale,
)
from interventions.selectors.outcomes import add_months
from interventions.services import outcomes as outcome_services

EXAMPLE_SLUG = "example-risk-screen"
EXAMPLE_NAME = "Example risk screen (demo, not a validated tool)"
# Nine invented scales of three items each, in the shape of LA's YSET (eligible when 4 or more
# of 9 scales are at or above their cut-off). The questions are made up for the demo.
EXAMPLE_SCALES = [
    (
        "conflict",
        "Conflict around them",
        ["Has been in a fight this year", "Has been threatened", "Friends were hurt"],
    ),
    (
        "peers",
        "Peers in trouble",
        ["Close friends were arrested", "Friends carry weapons", "Hangs out where fights happen"],
    ),
    (
        "supervision",
        "Little adult support",
        [
            "No adult checks where they are",
            "No adult to call in trouble",
            "Home is not safe to stay",
        ],
    ),
    (
        "events",
        "Hard life events",
        [
            "Lost someone close to violence",
            "Moved home twice or more",
            "Family member incarcerated",
        ],
    ),
    (
        "risk",
        "Risk taking",
        ["Acts without thinking", "Seeks danger for fun", "Rides with people who carry"],
    ),
    (
        "blame",
        "Excusing harm",
        [
            "Says fights are sometimes fair",
            "Says victims had it coming",
            "Says snitching is worse than harm",
        ],
    ),
    (
        "group",
        "Group ties",
        ["Spends time with a street group", "Family in a street group", "Wears a group's colours"],
    ),
    (
        "school",
        "School and work",
        ["Out of school and work", "Suspended this year", "No plan for next year"],
    ),
    (
        "delinquency",
        "Own behaviour",
        ["Damaged property this year", "Taken something this year", "Been arrested this year"],
    ),
]
# A "sometimes" answer is worth 1, "often" 2; a scale is at cut-off from 3 of its 6 points.
OFTEN_CHOICES = [("Never", 0), ("Sometimes", 1), ("Often", 2)]
EXAMPLE_CUTOFF = 3


def seed_example_instrument() -> InstrumentVersion:
    instrument, _ = Instrument.objects.get_or_create(
        slug=EXAMPLE_SLUG,
        defaults={
            "name": EXAMPLE_NAME,
            "is_example": True,
            "description": (
                "Invented for the demo to show how the assessment engine works: nine scales of "
                "three questions, eligible when four or more are at their cut-off. It is not a "
                "validated tool and must not be used to decide anything about a person."
            ),
        },
    )
    version = instrument.versions.filter(number=1).first()
    if version is not None:
        return version
    version = InstrumentVersion.objects.create(
        instrument=instrument,
        number=1,
        is_published=True,
        eligible_min_scales=4,
        tier_1_min_scales=6,
        tier_2_min_scales=4,
    )
    for position, (code, name, questions) in enumerate(EXAMPLE_SCALES, start=1):
        scale = Scale.objects.create(
            version=version, code=code, name=name, cutoff=EXAMPLE_CUTOFF, position=position
        )
        for number, text in enumerate(questions):
            item = Item.objects.create(
                version=version,
                scale=scale,
                text=text,
                kind=Item.Kind.CHOICE,
                position=position * 10 + number,
            )
            ItemChoice.objects.bulk_create(
                ItemChoice(item=item, label=label, points=points, position=points)
                for label, points in OFTEN_CHOICES
            )
    return version


GENDERS = [("man", 80), ("woman", 12), ("nonbinary", 1), ("declined", 2), ("unknown", 2), ("", 3)]
RACES = [
    (["hispanic"], 52),
    (["black"], 28),
    (["white"], 7),
    (["black", "hispanic"], 4),
    (["asian"], 2),
    (["american_indian", "hispanic"], 1),
    (["declined"], 3),
    (["unknown"], 3),
]
LANGUAGES = [("english", 70), ("spanish", 22), ("punjabi", 2), ("declined", 2), ("", 4)]
# Per enrolled person: how likely each outcome is after enrolment, and what is learnt from.
OUTCOMES = [
    (OutcomeEvent.Kind.ARREST, "", OutcomeEvent.Source.PROBATION, 0.22),
    (OutcomeEvent.Kind.VIOLENT_VICTIMIZATION, "shot", OutcomeEvent.Source.HOSPITAL, 0.06),
    (OutcomeEvent.Kind.EMPLOYMENT_STARTED, "", OutcomeEvent.Source.EMPLOYER, 0.35),
    (OutcomeEvent.Kind.SCHOOL_ENROLLED, "", OutcomeEvent.Source.SCHOOL, 0.2),
    (OutcomeEvent.Kind.CREDENTIAL_EARNED, "ged", OutcomeEvent.Source.SCHOOL, 0.12),
    (OutcomeEvent.Kind.CREDENTIAL_EARNED, "licence", OutcomeEvent.Source.SELF_REPORT, 0.1),
    (OutcomeEvent.Kind.HOUSING_SECURED, "", OutcomeEvent.Source.WORKER_OBSERVED, 0.08),
    (OutcomeEvent.Kind.PROBATION_COMPLETED, "", OutcomeEvent.Source.PROBATION, 0.1),
]


def _pick(rng: random.Random, weighted: list) -> object:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights=weights)[0]


def seed_outcomes(organizations: list[PartnerOrganization]) -> bool:
    """Write the demo's demographics, outcomes and assessments unless they are there. Returns
    True when it wrote them. Call inside the seeder's transaction and audit actor."""
    version = seed_example_instrument()
    people = list(
        Participant.objects.filter(organization__in=organizations).order_by("participant_code")
    )
    if Demographics.objects.filter(participant__in=people).exists():
        return False
    rng = random.Random(2026)  # noqa: S311 - demo data, not security
    today = timezone.localdate()
    Demographics.objects.bulk_create(
        Demographics(
            participant=person,
            gender=_pick(rng, GENDERS),
            race_ethnicity=sorted(_pick(rng, RACES)),  # type: ignore[arg-type]
            preferred_language=_pick(rng, LANGUAGES),
        )
        for person in people
    )
    recorders = {
        membership.organization_id: membership.user
        for membership in Membership.objects.filter(
            organization__in=organizations, is_active=True, role=Membership.Role.OUTREACH_WORKER
        ).select_related("user")
    }
    first_enrolled: dict[int, date] = {}
    for enrollment in Enrollment.objects.filter(
        participant__in=people, enrolled_on__isnull=False
    ).order_by("enrolled_on"):
        first_enrolled.setdefault(enrollment.participant_id, enrollment.enrolled_on)
    events = []
    for person in people:
        start = first_enrolled.get(person.pk)
        recorder = recorders.get(person.organization_id)
        if start is None or recorder is None or start >= today:
            continue
        for kind, detail, source, chance in OUTCOMES:
            if rng.random() < chance:
                day = start + timedelta(days=rng.randint(1, max(1, (today - start).days)))
                events.append(
                    OutcomeEvent(
                        participant=person,
                        organization=person.organization,
                        kind=kind,
                        detail=detail,
                        occurred_on=min(day, today),
                        source=source,
                        recorded_by=recorder,
                    )
                )
        _assess(rng, version, person, recorder, start, today)
    OutcomeEvent.objects.bulk_create(events)
    return True


def _assess(
    rng: random.Random,
    version: InstrumentVersion,
    person: Participant,
    by: object,
    start: date,
    today: date,
) -> None:
    """An intake at enrolment and a reassessment every six months since, answers easing a
    little each time (as a program would hope)."""
    items = list(version.items.order_by("position"))
    day, round_number = start, 0
    while day <= today:
        leaning = max(0.15, 0.7 - 0.2 * round_number)
        answers = {
            item.pk: min(2, int(rng.random() < leaning) + int(rng.random() < leaning / 2))
            for item in items
        }
        outcome_services.record_assessment(
            participant=person,
            version=version,
            by=by,  # type: ignore[arg-type]
            answers=answers,
            assessed_on=day,
        )
        round_number += 1
        day = add_months(start, 6 * round_number)
