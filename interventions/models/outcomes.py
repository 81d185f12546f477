"""Who is served and what changed in their lives: demographics, dated outcome events, and the
assessment engine (instruments, versions, scales, items, answered assessments, risk-tier changes).

Rules the database keeps:
- demographics: every answer is optional; "declined to answer" and "unknown" are answers of their
  own, never mixed with a race or ethnicity in the same row;
- an outcome event is dated, has a source, and a detail only where its kind has details (how a
  person was hurt, which credential); a recorded incident makes at most one victimisation event
  per person;
- an instrument version that has been answered is never changed (services refuse, the admin shows
  it read-only), so an assessment keeps the questions it was answered on;
- a risk tier set by hand has a reason; one set from an assessment names it.

Free text here (outcome-event notes, tier-change reasons) is case-note-grade (SECURITY.md): the
selectors keep it for the organisation that wrote it."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from interventions.models.case import Participant, PartnerOrganization

__all__ = [
    "Answer",
    "Assessment",
    "Demographics",
    "Instrument",
    "InstrumentVersion",
    "Item",
    "ItemChoice",
    "OutcomeEvent",
    "RiskTierChange",
    "Scale",
    "ScaleScore",
]

# Demographics ----------------------------------------------------------------------------------

DECLINED = "declined"
UNKNOWN = "unknown"


class Gender(models.TextChoices):
    # The categories of California DOJ's stop and justice-data reports (cisgender and transgender
    # man or woman, nonbinary); federal grant reports ask male / female and add "another".
    MAN = "man", _("Man / boy")
    WOMAN = "woman", _("Woman / girl")
    TRANSGENDER_MAN = "transgender_man", _("Transgender man / boy")
    TRANSGENDER_WOMAN = "transgender_woman", _("Transgender woman / girl")
    NONBINARY = "nonbinary", _("Nonbinary")
    ANOTHER = "another", _("Another gender")
    DECLINED = DECLINED, _("Declined to answer")
    UNKNOWN = UNKNOWN, _("Unknown")


class RaceEthnicity(models.TextChoices):
    # The federal minimum categories (OMB SPD 15, 2024: one combined question, several may be
    # chosen), which California DOJ's reports also count; Hispanic or Latino is a category here,
    # not a separate question, as both now ask.
    AMERICAN_INDIAN = "american_indian", _("American Indian or Alaska Native")
    ASIAN = "asian", _("Asian")
    BLACK = "black", _("Black or African American")
    HISPANIC = "hispanic", _("Hispanic or Latino")
    MIDDLE_EASTERN = "middle_eastern", _("Middle Eastern or North African")
    PACIFIC_ISLANDER = "pacific_islander", _("Native Hawaiian or Pacific Islander")
    WHITE = "white", _("White")
    DECLINED = DECLINED, _("Declined to answer")
    UNKNOWN = UNKNOWN, _("Unknown")


class Language(models.TextChoices):
    ENGLISH = "english", _("English")
    SPANISH = "spanish", _("Spanish")
    PUNJABI = "punjabi", _("Punjabi")
    TAGALOG = "tagalog", _("Tagalog")
    VIETNAMESE = "vietnamese", _("Vietnamese")
    HMONG = "hmong", _("Hmong")
    ARABIC = "arabic", _("Arabic")
    OTHER = "other", _("Another language")
    DECLINED = DECLINED, _("Declined to answer")
    UNKNOWN = UNKNOWN, _("Unknown")


class Demographics(models.Model):
    """Who the person is, in their own words, for the funders' "who is served". One row per
    participant, every answer optional (blank: not asked yet). Shown to the owning organisation
    only, to another organisation only under a consent that says so, and in aggregate only with
    small counts suppressed."""

    participant = models.OneToOneField(
        Participant,
        on_delete=models.PROTECT,
        related_name="demographics",
        verbose_name=_("participant"),
    )
    gender = models.CharField(
        max_length=20, choices=Gender.choices, blank=True, verbose_name=_("gender")
    )
    race_ethnicity = ArrayField(
        models.CharField(max_length=20, choices=RaceEthnicity.choices),
        default=list,
        blank=True,
        help_text=_("Several may be chosen."),
        verbose_name=_("race ethnicity"),
    )
    preferred_language = models.CharField(
        max_length=20, choices=Language.choices, blank=True, verbose_name=_("preferred language")
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("demographics")
        verbose_name_plural = _("demographics")
        indexes = [models.Index(fields=["gender"], name="demographics_gender_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(race_ethnicity__contained_by=RaceEthnicity.values),
                name="demographics_race_ethnicity_known_values",
                violation_error_message=_("Choose race and ethnicity from the list."),
            ),
            models.CheckConstraint(
                condition=~(
                    Q(race_ethnicity__overlap=[DECLINED, UNKNOWN]) & Q(race_ethnicity__len__gt=1)
                ),
                name="demographics_declined_or_unknown_alone",
                violation_error_message=_(
                    "“Declined to answer” and “Unknown” cannot be chosen with another answer."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Demographics of participant {self.participant_id}"

    @property
    def race_ethnicity_labels(self) -> list[str]:
        labels = dict(RaceEthnicity.choices)
        return [labels.get(value, value) for value in self.race_ethnicity]


# Outcome events --------------------------------------------------------------------------------


class OutcomeEvent(models.Model):
    """Something that happened in the person's life, dated, with where the program learnt it."""

    class Kind(models.TextChoices):
        ARREST = "arrest", _("Arrest")
        CHARGE = "charge", _("Charge")
        CONVICTION = "conviction", _("Conviction")
        INCARCERATION = "incarceration", _("Incarceration")
        RELEASE = "release", _("Release")
        VIOLENT_VICTIMIZATION = "violent_victimization", _("Violent victimisation")
        REINJURY = "reinjury", _("Re-injury")
        EMPLOYMENT_STARTED = "employment_started", _("Employment started")
        EMPLOYMENT_ENDED = "employment_ended", _("Employment ended")
        SCHOOL_ENROLLED = "school_enrolled", _("School enrolled")
        CREDENTIAL_EARNED = "credential_earned", _("Credential earned")
        HOUSING_SECURED = "housing_secured", _("Housing secured")
        PROBATION_COMPLETED = "probation_completed", _("Probation completed")

    class Source(models.TextChoices):
        SELF_REPORT = "self_report", _("Self-report")
        PROBATION = "probation", _("Probation")
        COURT_RECORD = "court_record", _("Court record")
        HOSPITAL = "hospital", _("Hospital")
        SCHOOL = "school", _("School")
        EMPLOYER = "employer", _("Employer")
        WORKER_OBSERVED = "worker_observed", _("Worker observed")

    class Detail(models.TextChoices):
        SHOT = "shot", _("Shot")
        STABBED = "stabbed", _("Stabbed")
        ASSAULTED = "assaulted", _("Assaulted")
        GED = "ged", _("GED / high-school equivalency")
        DIPLOMA = "diploma", _("High-school diploma")
        CERTIFICATE = "certificate", _("Certificate")
        LICENCE = "licence", _("Licence")

    # Which details each kind takes; every other kind takes none.
    INJURY_DETAILS = (Detail.SHOT, Detail.STABBED, Detail.ASSAULTED)
    CREDENTIAL_DETAILS = (Detail.GED, Detail.DIPLOMA, Detail.CERTIFICATE, Detail.LICENCE)
    DETAILS_OF_KIND = {
        Kind.VIOLENT_VICTIMIZATION: INJURY_DETAILS,
        Kind.REINJURY: INJURY_DETAILS,
        Kind.CREDENTIAL_EARNED: CREDENTIAL_DETAILS,
    }

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="outcome_events",
        verbose_name=_("participant"),
    )
    # The organisation that recorded it (the record's owner); its notes stay with it.
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="outcome_events",
        verbose_name=_("organization"),
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, verbose_name=_("kind"))
    detail = models.CharField(
        max_length=20, choices=Detail.choices, blank=True, verbose_name=_("detail")
    )
    occurred_on = models.DateField(verbose_name=_("occurred on"))
    source = models.CharField(max_length=20, choices=Source.choices, verbose_name=_("source"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    incident = models.ForeignKey(
        "interventions.Incident",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="outcome_events",
        help_text=_("The recorded incident this victimisation comes from."),
        verbose_name=_("incident"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="outcome_events_recorded",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("outcome event")
        verbose_name_plural = _("outcome events")
        ordering = ["-occurred_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "kind", "occurred_on"], name="outcome_person_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(occurred_on__lte=Now()),
                name="outcome_event_not_in_future",
                violation_error_message=_("An outcome cannot be dated in the future."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["violent_victimization", "reinjury"])
                    & Q(detail__in=["", "shot", "stabbed", "assaulted"])
                )
                | (
                    Q(kind="credential_earned")
                    & Q(detail__in=["", "ged", "diploma", "certificate", "licence"])
                )
                | (
                    ~Q(kind__in=["violent_victimization", "reinjury", "credential_earned"])
                    & Q(detail="")
                ),
                name="outcome_event_detail_fits_kind",
                violation_error_message=_("That detail does not fit this kind of outcome."),
            ),
            models.CheckConstraint(
                condition=Q(incident__isnull=True)
                | Q(kind__in=["violent_victimization", "reinjury"]),
                name="outcome_event_incident_only_for_injuries",
                violation_error_message=_(
                    "Only a violent injury can come from a recorded incident."
                ),
            ),
            models.UniqueConstraint(
                fields=["incident", "participant"],
                condition=Q(incident__isnull=False),
                name="outcome_event_once_per_incident",
                violation_error_message=_("This incident is already recorded as an outcome."),
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} on {self.occurred_on} (participant {self.participant_id})"
        )


# Assessments -----------------------------------------------------------------------------------


class Instrument(models.Model):
    """An assessment tool (defined by a city admin in the Django admin). Its questions live in
    versions: a version that has been answered is frozen, and a change makes a new version."""

    name = models.CharField(max_length=200, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    description = models.TextField(blank=True, verbose_name=_("description"))
    is_example = models.BooleanField(
        default=False,
        help_text=_("An example to show how the engine works, not a validated tool. Pages say so."),
        verbose_name=_("is example"),
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("instrument")
        verbose_name_plural = _("instruments")
        ordering = ["name"]

    def __str__(self) -> str:
        if self.is_example:
            return gettext("%(name)s (example, not a validated tool)") % {"name": self.name}
        return self.name


class InstrumentVersion(models.Model):
    """One version of an instrument's items, scales and rules. The rule: a scale is "at cut-off"
    when its score (the sum of its items) is at or above the scale's cut-off; the person is
    eligible when at least `eligible_min_scales` scales are at cut-off (4 of 9 for YSET's shape);
    the suggested tier follows the same count (tier 1 from `tier_1_min_scales`, tier 2 from
    `tier_2_min_scales`, tier 3 below)."""

    instrument = models.ForeignKey(
        Instrument, on_delete=models.PROTECT, related_name="versions", verbose_name=_("instrument")
    )
    number = models.PositiveSmallIntegerField(verbose_name=_("number"))
    is_published = models.BooleanField(
        default=False,
        help_text=_("Workers answer the newest published version."),
        verbose_name=_("is published"),
    )
    eligible_min_scales = models.PositiveSmallIntegerField(
        help_text=_("Eligible when at least this many scales are at or above their cut-off."),
        verbose_name=_("eligible min scales"),
    )
    tier_1_min_scales = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("tier 1 min scales")
    )
    tier_2_min_scales = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("tier 2 min scales")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("instrument version")
        verbose_name_plural = _("instrument versions")
        ordering = ["instrument__name", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["instrument", "number"],
                name="instrumentversion_number_once",
                violation_error_message=_(
                    "This instrument already has a version with that number."
                ),
            ),
            models.CheckConstraint(
                condition=Q(number__gte=1), name="instrumentversion_number_from_1"
            ),
            models.CheckConstraint(
                condition=Q(tier_1_min_scales__isnull=True)
                | Q(tier_2_min_scales__isnull=True)
                | Q(tier_1_min_scales__gt=F("tier_2_min_scales")),
                name="instrumentversion_tier_1_needs_more_scales",
                violation_error_message=_("Tier 1 must need more scales at cut-off than tier 2."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.instrument} v{self.number}"


class Scale(models.Model):
    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="scales")
    code = models.SlugField(max_length=40, verbose_name=_("code"))
    name = models.CharField(max_length=200, verbose_name=_("name"))
    cutoff = models.PositiveSmallIntegerField(
        help_text=_("At cut-off when the sum of the scale's items is at or above this."),
        verbose_name=_("cutoff"),
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("scale")
        verbose_name_plural = _("scales")
        ordering = ["version", "position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"],
                name="scale_code_once_per_version",
                violation_error_message=_("This version already has a scale with that code."),
            ),
        ]

    def __str__(self) -> str:
        return gettext("%(name)s (cut-off %(cutoff)s)") % {"name": self.name, "cutoff": self.cutoff}


class Item(models.Model):
    class Kind(models.TextChoices):
        YES_NO = "yes_no", _("Yes / no (1 / 0)")
        SCALE = "scale", _("Scale from 0 to its maximum")
        CHOICE = "choice", _("One of its choices (each worth its points)")

    version = models.ForeignKey(InstrumentVersion, on_delete=models.PROTECT, related_name="items")
    scale = models.ForeignKey(
        Scale, on_delete=models.PROTECT, related_name="items", verbose_name=_("scale")
    )
    text = models.CharField(max_length=500, verbose_name=_("text"))
    kind = models.CharField(max_length=10, choices=Kind.choices, verbose_name=_("kind"))
    max_value = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text=_("For a 0-n scale item: n."), verbose_name=_("max value")
    )
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        ordering = ["version", "position", "id"]
        constraints = [
            models.CheckConstraint(
                # `max_value IS NOT NULL` spelled out: a CHECK lets a NULL result through, so
                # `kind = 'scale' AND max_value >= 1` alone would pass a scale with no maximum.
                condition=(Q(kind="scale") & Q(max_value__isnull=False) & Q(max_value__gte=1))
                | (~Q(kind="scale") & Q(max_value__isnull=True)),
                name="item_scale_has_a_maximum",
                violation_error_message=_("A 0-n scale item needs its n (1 or more); others none."),
            ),
        ]

    def __str__(self) -> str:
        return self.text


class ItemChoice(models.Model):
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="choices", verbose_name=_("item")
    )
    label = models.CharField(max_length=200, verbose_name=_("label"))
    points = models.PositiveSmallIntegerField(verbose_name=_("points"))
    position = models.PositiveSmallIntegerField(default=0, verbose_name=_("position"))

    class Meta:
        verbose_name = _("item choice")
        verbose_name_plural = _("item choices")
        ordering = ["item", "position", "id"]

    def __str__(self) -> str:
        return f"{self.label} ({self.points})"


class Assessment(models.Model):
    class Kind(models.TextChoices):
        INTAKE = "intake", _("Intake")
        REASSESSMENT = "reassessment", _("Reassessment")

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("participant"),
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="assessments",
        verbose_name=_("organization"),
    )
    version = models.ForeignKey(
        InstrumentVersion, on_delete=models.PROTECT, related_name="assessments"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    assessed_on = models.DateField(verbose_name=_("assessed on"))
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="assessments_made",
        verbose_name=_("assessed by"),
    )
    scales_at_cutoff = models.PositiveSmallIntegerField(verbose_name=_("scales at cutoff"))
    eligible = models.BooleanField(verbose_name=_("eligible"))
    suggested_tier = models.PositiveSmallIntegerField(
        choices=Participant.RiskTier.choices,
        null=True,
        blank=True,
        verbose_name=_("suggested tier"),
    )
    recorded_at = models.DateTimeField(auto_now_add=True, verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["-assessed_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "-assessed_on"], name="assessment_person_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(assessed_on__lte=Now()),
                name="assessment_not_in_future",
                violation_error_message=_("An assessment cannot be dated in the future."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.assessed_on} ({self.version})"


class Answer(models.Model):
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="answers", verbose_name=_("assessment")
    )
    item = models.ForeignKey(
        Item, on_delete=models.PROTECT, related_name="answers", verbose_name=_("item")
    )
    points = models.PositiveSmallIntegerField(verbose_name=_("points"))

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "item"],
                name="answer_once_per_item",
                violation_error_message=_("An item is answered once per assessment."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.points}"


class ScaleScore(models.Model):
    """A scale's result in one assessment, kept so change between assessments is one query."""

    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.PROTECT,
        related_name="scale_scores",
        verbose_name=_("assessment"),
    )
    scale = models.ForeignKey(
        Scale, on_delete=models.PROTECT, related_name="scores", verbose_name=_("scale")
    )
    score = models.PositiveSmallIntegerField(verbose_name=_("score"))
    at_cutoff = models.BooleanField(verbose_name=_("at cutoff"))

    class Meta:
        verbose_name = _("scale score")
        verbose_name_plural = _("scale scores")
        ordering = ["scale__position", "scale_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "scale"], name="scalescore_once_per_scale"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.scale_id}: {self.score}"


class RiskTierChange(models.Model):
    """Every change of a participant's risk tier: from an assessment's rule, or by hand with a
    reason (a tier set by hand is not an assessment, and the page says which it was)."""

    class Basis(models.TextChoices):
        ASSESSMENT = "assessment", _("From an assessment")
        BY_HAND = "by_hand", _("Set by hand")

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="risk_tier_changes",
        verbose_name=_("participant"),
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="risk_tier_changes",
        verbose_name=_("organization"),
    )
    from_tier = models.PositiveSmallIntegerField(
        choices=Participant.RiskTier.choices, verbose_name=_("from tier")
    )
    to_tier = models.PositiveSmallIntegerField(
        choices=Participant.RiskTier.choices, verbose_name=_("to tier")
    )
    basis = models.CharField(max_length=20, choices=Basis.choices, verbose_name=_("basis"))
    assessment = models.ForeignKey(
        Assessment,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="tier_changes",
        verbose_name=_("assessment"),
    )
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("risk tier change")
        verbose_name_plural = _("risk tier changes")
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(basis="assessment") & Q(assessment__isnull=False))
                | (Q(basis="by_hand") & Q(assessment__isnull=True) & ~Q(reason="")),
                name="risktierchange_assessment_or_reason",
                violation_error_message=_(
                    "A tier comes from an assessment, or is set by hand with a reason."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"Tier {self.from_tier} → {self.to_tier} for participant {self.participant_id}"
