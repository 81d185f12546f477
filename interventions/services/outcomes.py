"""Writes about who is served and what changed in their lives.

The rules:
1. Only members of the organisation that owns the record write its demographics, outcome events,
   assessments and risk tier: another organisation under consent reads (what the consent allows)
   and never writes.
2. Demographics are all optional; "declined to answer" and "unknown" stand alone.
3. An outcome event is dated today or earlier, not before the person was born, has a source, and
   a detail only where its kind has details.
4. A victim of a recorded incident can be given the victimisation event in one step; a second
   time finds the first (one event per person and incident). It is a re-injury when the person
   already had a violent injury recorded before the incident.
5. An assessment answers every item of a published version, each within what the item allows;
   the first one on an instrument is the intake, later ones reassessments. Its scale scores, the
   count at cut-off, eligibility and the suggested tier are computed here once and kept.
6. The risk tier changes from an assessment's suggested tier, or by hand with a reason; every
   change is kept with who and when.
7. A version that has been answered is never changed: a new version is made from it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from interventions.errors import ServiceError
from interventions.models import Incident, IncidentParticipant, Participant
from interventions.models.outcomes import (
    DECLINED,
    UNKNOWN,
    Answer,
    Assessment,
    Demographics,
    Gender,
    InstrumentVersion,
    Item,
    ItemChoice,
    Language,
    OutcomeEvent,
    RaceEthnicity,
    RiskTierChange,
    Scale,
    ScaleScore,
)
from interventions.services.case import _not_after_today
from interventions.services.sharing import _require_owner_member

# A reason has to say something: "x" is not a reason.
TIER_REASON_MIN_LENGTH = 10
INJURY_KINDS = (OutcomeEvent.Kind.VIOLENT_VICTIMIZATION, OutcomeEvent.Kind.REINJURY)


# Demographics ----------------------------------------------------------------------------------


@transaction.atomic
def save_demographics(
    *,
    participant: Participant,
    by: AbstractBaseUser,
    gender: str = "",
    race_ethnicity: Iterable[str] = (),
    preferred_language: str = "",
) -> Demographics:
    """Record (or correct) the person's gender, race and ethnicity and preferred language."""
    _require_owner_member(
        by,
        participant,
        gettext("Only members of %(organization)s can record demographics for this participant."),
    )
    races = sorted(set(race_ethnicity))
    if gender and gender not in Gender.values:
        raise ServiceError(gettext("Choose a gender from the list."))
    if preferred_language and preferred_language not in Language.values:
        raise ServiceError(gettext("Choose a language from the list."))
    if any(value not in RaceEthnicity.values for value in races):
        raise ServiceError(gettext("Choose race and ethnicity from the list."))
    if len(races) > 1 and {DECLINED, UNKNOWN} & set(races):
        raise ServiceError(
            gettext("“Declined to answer” and “Unknown” cannot be chosen with another answer.")
        )
    demographics, _ = Demographics.objects.select_for_update().get_or_create(
        participant=participant, defaults={"updated_by": by}
    )
    demographics.gender = gender
    demographics.race_ethnicity = races
    demographics.preferred_language = preferred_language
    demographics.updated_by = by
    demographics.save(
        update_fields=["gender", "race_ethnicity", "preferred_language", "updated_by", "updated_at"]
    )
    return demographics


# Outcome events --------------------------------------------------------------------------------


def _check_event(participant: Participant, kind: str, detail: str, source: str, day: date) -> None:
    if kind not in OutcomeEvent.Kind.values:
        raise ServiceError(gettext("Choose what happened."))
    if source not in OutcomeEvent.Source.values:
        raise ServiceError(gettext("Say where this was learnt (the source)."))
    if detail and detail not in OutcomeEvent.DETAILS_OF_KIND.get(kind, ()):
        raise ServiceError(
            gettext("“%(detail)s” does not fit “%(kind)s”.")
            % {
                "detail": OutcomeEvent.Detail(detail).label,
                "kind": OutcomeEvent.Kind(kind).label,
            }
            if detail in OutcomeEvent.Detail.values
            else gettext("Choose a detail from the list.")
        )
    _not_after_today(day, gettext("The outcome date cannot be in the future."))
    if participant.date_of_birth and day < participant.date_of_birth:
        raise ServiceError(gettext("The outcome cannot be dated before the person was born."))


@transaction.atomic
def record_outcome_event(
    *,
    participant: Participant,
    by: AbstractBaseUser,
    kind: str,
    occurred_on: date,
    source: str,
    detail: str = "",
    notes: str = "",
) -> OutcomeEvent:
    """Record something that happened in the person's life."""
    _require_owner_member(
        by,
        participant,
        gettext("Only members of %(organization)s can record outcomes for this participant."),
    )
    _check_event(participant, kind, detail, source, occurred_on)
    return OutcomeEvent.objects.create(
        participant=participant,
        organization=participant.organization,
        kind=kind,
        detail=detail,
        occurred_on=occurred_on,
        source=source,
        notes=notes.strip(),
        recorded_by=by,
    )


def victim_incidents_without_event(participant: Participant) -> list[Incident]:
    """The recorded incidents in which the person was a victim and that are not yet an outcome
    event: what the participant's outcomes page offers to record."""
    return list(
        Incident.objects.filter(
            involvements__participant=participant,
            involvements__role=IncidentParticipant.Role.VICTIM,
        )
        .exclude(outcome_events__participant=participant)
        .order_by("-occurred_at")
    )


@transaction.atomic
def record_victimization_from_incident(
    *,
    participant: Participant,
    incident: Incident,
    by: AbstractBaseUser,
    source: str,
) -> OutcomeEvent:
    """The victimisation event of a victim of a recorded incident, dated on the incident's day.
    Idempotent: the event already made from this incident for this person is returned."""
    _require_owner_member(
        by,
        participant,
        gettext("Only members of %(organization)s can record outcomes for this participant."),
    )
    if not IncidentParticipant.objects.filter(
        incident=incident, participant=participant, role=IncidentParticipant.Role.VICTIM
    ).exists():
        raise ServiceError(gettext("This person is not recorded as a victim of that incident."))
    existing = OutcomeEvent.objects.filter(incident=incident, participant=participant).first()
    if existing is not None:
        return existing
    day = timezone.localdate(incident.occurred_at)
    hurt_before = OutcomeEvent.objects.filter(
        participant=participant, kind__in=INJURY_KINDS, occurred_on__lt=day
    ).exists()
    kind = OutcomeEvent.Kind.REINJURY if hurt_before else OutcomeEvent.Kind.VIOLENT_VICTIMIZATION
    # Every incident recorded here is a shooting, but "shots fired" hurt nobody by a bullet.
    shot = incident.kind != Incident.Kind.SHOTS_FIRED
    detail = OutcomeEvent.Detail.SHOT if shot else ""
    _check_event(participant, kind, detail, source, day)
    try:
        with transaction.atomic():
            return OutcomeEvent.objects.create(
                participant=participant,
                organization=participant.organization,
                kind=kind,
                detail=detail,
                occurred_on=day,
                source=source,
                incident=incident,
                recorded_by=by,
            )
    except IntegrityError:
        # A second request made it in the meantime: that one is the event.
        return OutcomeEvent.objects.get(incident=incident, participant=participant)


# Risk tier -------------------------------------------------------------------------------------


def _change_tier(
    participant: Participant,
    *,
    by: AbstractBaseUser,
    to_tier: int,
    basis: str,
    assessment: Assessment | None = None,
    reason: str = "",
) -> RiskTierChange | None:
    locked = Participant.objects.select_for_update().get(pk=participant.pk)
    if locked.risk_tier == to_tier:
        return None
    change = RiskTierChange.objects.create(
        participant=locked,
        organization=locked.organization,
        from_tier=locked.risk_tier,
        to_tier=to_tier,
        basis=basis,
        assessment=assessment,
        reason=reason,
        changed_by=by,
    )
    locked.risk_tier = to_tier
    locked.save(update_fields=["risk_tier", "updated_at"])
    participant.risk_tier = to_tier
    return change


@transaction.atomic
def set_risk_tier_by_hand(
    *, participant: Participant, by: AbstractBaseUser, tier: int, reason: str
) -> RiskTierChange:
    """Set the tier without an assessment. The reason is kept with the change."""
    _require_owner_member(
        by,
        participant,
        gettext("Only members of %(organization)s can set the risk tier for this participant."),
    )
    if tier not in Participant.RiskTier.values:
        raise ServiceError(gettext("Choose a tier from the list."))
    reason = reason.strip()
    if len(reason) < TIER_REASON_MIN_LENGTH:
        raise ServiceError(
            gettext(
                "Say why the tier changes (at least %(min_length)s characters): a tier set by "
                "hand is not an assessment."
            )
            % {"min_length": TIER_REASON_MIN_LENGTH}
        )
    change = _change_tier(
        participant, by=by, to_tier=tier, basis=RiskTierChange.Basis.BY_HAND, reason=reason
    )
    if change is None:
        raise ServiceError(gettext("The participant is already in that tier."))
    return change


# Assessments -----------------------------------------------------------------------------------


def _points_allowed(item: Item, choices: list[ItemChoice]) -> set[int]:
    if item.kind == Item.Kind.YES_NO:
        return {0, 1}
    if item.kind == Item.Kind.SCALE:
        return set(range((item.max_value or 0) + 1))
    return {choice.points for choice in choices}


def suggested_tier(version: InstrumentVersion, scales_at_cutoff: int) -> int | None:
    """The tier the version's rule gives for a count of scales at cut-off; None: no rule."""
    if version.tier_1_min_scales is None and version.tier_2_min_scales is None:
        return None
    if version.tier_1_min_scales is not None and scales_at_cutoff >= version.tier_1_min_scales:
        return Participant.RiskTier.HIGHEST
    if version.tier_2_min_scales is not None and scales_at_cutoff >= version.tier_2_min_scales:
        return Participant.RiskTier.HIGH
    return Participant.RiskTier.ELEVATED


@transaction.atomic
def record_assessment(
    *,
    participant: Participant,
    version: InstrumentVersion,
    by: AbstractBaseUser,
    answers: Mapping[int, int],
    assessed_on: date | None = None,
    apply_tier: bool = False,
) -> Assessment:
    """Score and keep an assessment: `answers` maps every item's id to its points. With
    apply_tier, the participant's tier follows the version's rule (kept as a tier change)."""
    _require_owner_member(
        by,
        participant,
        gettext("Only members of %(organization)s can record assessments for this participant."),
    )
    if not version.is_published:
        raise ServiceError(gettext("That version of the instrument is not published yet."))
    assessed_on = assessed_on or timezone.localdate()
    _not_after_today(assessed_on, gettext("The assessment date cannot be in the future."))
    items = list(version.items.select_related("scale").prefetch_related("choices"))
    if not items:
        raise ServiceError(gettext("That version has no items to answer."))
    missing = [item.text for item in items if item.pk not in answers]
    if missing:
        raise ServiceError(
            gettext("Answer every item; missing: %(missing)s.") % {"missing": "; ".join(missing)}
        )
    unknown = set(answers) - {item.pk for item in items}
    if unknown:
        raise ServiceError(gettext("Some answers are for items that are not in this version."))
    for item in items:
        if answers[item.pk] not in _points_allowed(item, list(item.choices.all())):
            raise ServiceError(
                gettext("“%(item)s”: that answer is not one the item allows.") % {"item": item.text}
            )
    scores: dict[int, int] = {}
    for item in items:
        scores[item.scale_id] = scores.get(item.scale_id, 0) + answers[item.pk]
    scales = list(Scale.objects.filter(version=version))
    at_cutoff = {scale.pk: scores.get(scale.pk, 0) >= scale.cutoff for scale in scales}
    count = sum(at_cutoff.values())
    earlier = Assessment.objects.filter(
        participant=participant, version__instrument_id=version.instrument_id
    ).exists()
    assessment = Assessment.objects.create(
        participant=participant,
        organization=participant.organization,
        version=version,
        kind=Assessment.Kind.REASSESSMENT if earlier else Assessment.Kind.INTAKE,
        assessed_on=assessed_on,
        assessed_by=by,
        scales_at_cutoff=count,
        eligible=count >= version.eligible_min_scales,
        suggested_tier=suggested_tier(version, count),
    )
    Answer.objects.bulk_create(
        Answer(assessment=assessment, item=item, points=answers[item.pk]) for item in items
    )
    ScaleScore.objects.bulk_create(
        ScaleScore(
            assessment=assessment,
            scale=scale,
            score=scores.get(scale.pk, 0),
            at_cutoff=at_cutoff[scale.pk],
        )
        for scale in scales
    )
    if apply_tier and assessment.suggested_tier is not None:
        _change_tier(
            participant,
            by=by,
            to_tier=assessment.suggested_tier,
            basis=RiskTierChange.Basis.ASSESSMENT,
            assessment=assessment,
        )
    return assessment


def version_is_answered(version: InstrumentVersion) -> bool:
    return version.pk is not None and Assessment.objects.filter(version=version).exists()


@transaction.atomic
def copy_version(*, version: InstrumentVersion) -> InstrumentVersion:
    """A new, unpublished version with the same scales, items, choices and rules, to change
    where the answered one may not be."""
    number = (
        InstrumentVersion.objects.filter(instrument=version.instrument)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    ) or 0
    copy = InstrumentVersion.objects.create(
        instrument=version.instrument,
        number=number + 1,
        is_published=False,
        eligible_min_scales=version.eligible_min_scales,
        tier_1_min_scales=version.tier_1_min_scales,
        tier_2_min_scales=version.tier_2_min_scales,
    )
    new_scales = {}
    for scale in version.scales.all():
        new_scales[scale.pk] = Scale.objects.create(
            version=copy,
            code=scale.code,
            name=scale.name,
            cutoff=scale.cutoff,
            position=scale.position,
        )
    for item in version.items.prefetch_related("choices"):
        new_item = Item.objects.create(
            version=copy,
            scale=new_scales[item.scale_id],
            text=item.text,
            kind=item.kind,
            max_value=item.max_value,
            position=item.position,
        )
        ItemChoice.objects.bulk_create(
            ItemChoice(item=new_item, label=c.label, points=c.points, position=c.position)
            for c in item.choices.all()
        )
    return copy


def require_unanswered(version: InstrumentVersion) -> None:
    """Refuse a change to a version people have been assessed on."""
    if version_is_answered(version):
        raise ServiceError(
            gettext(
                "%(version)s has been answered, so it cannot change: make a new version from it."
            )
            % {"version": version}
        )
