"""Factories for demographics, outcome events and assessment instruments."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from interventions.models.outcomes import (
    Demographics,
    Instrument,
    InstrumentVersion,
    Item,
    OutcomeEvent,
    Scale,
)
from tests.factories import ParticipantFactory, UserFactory


class DemographicsFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Demographics

    participant = factory.SubFactory(ParticipantFactory)
    gender = "man"
    race_ethnicity = factory.LazyFunction(lambda: ["hispanic"])
    preferred_language = "english"


class OutcomeEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OutcomeEvent

    participant = factory.SubFactory(ParticipantFactory)
    organization = factory.SelfAttribute("participant.organization")
    kind = OutcomeEvent.Kind.ARREST
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - timedelta(days=10))
    source = OutcomeEvent.Source.PROBATION
    recorded_by = factory.SubFactory(UserFactory)


class InstrumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Instrument

    name = factory.Sequence(lambda n: f"Instrument {n}")
    slug = factory.Sequence(lambda n: f"instrument-{n}")


def make_version(
    *,
    instrument: Instrument | None = None,
    scales: int = 3,
    items_per_scale: int = 2,
    cutoff: int = 2,
    eligible_min_scales: int = 2,
    tier_1_min_scales: int | None = 3,
    tier_2_min_scales: int | None = 2,
    published: bool = True,
    number: int = 1,
) -> InstrumentVersion:
    """A version with `scales` scales of yes/no items (cut-off `cutoff`), scale codes s1, s2…"""
    version = InstrumentVersion.objects.create(
        instrument=instrument or InstrumentFactory(),
        number=number,
        is_published=published,
        eligible_min_scales=eligible_min_scales,
        tier_1_min_scales=tier_1_min_scales,
        tier_2_min_scales=tier_2_min_scales,
    )
    for s in range(1, scales + 1):
        scale = Scale.objects.create(
            version=version, code=f"s{s}", name=f"Scale {s}", cutoff=cutoff, position=s
        )
        for i in range(items_per_scale):
            Item.objects.create(
                version=version,
                scale=scale,
                text=f"Scale {s} question {i + 1}",
                kind=Item.Kind.YES_NO,
                position=s * 10 + i,
            )
    return version


def answers_for(version: InstrumentVersion, yes_in_scales: int) -> dict[int, int]:
    """Every item of the first `yes_in_scales` scales answered yes, the rest no."""
    return {
        item.pk: int(item.scale.position <= yes_in_scales)
        for item in version.items.select_related("scale")
    }
