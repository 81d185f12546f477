"""City outcome figures (imported) and program activity (rolled up from case data).

Outcome counts are public figures about an area; activity rollups are pre-aggregated counts per
month, organisation, program kind and area, rebuilt by `services.refresh_rollups`. The dashboard
reads only these tables, never the case records."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from interventions.models import Area, PartnerOrganization


class Measure(models.TextChoices):
    HOMICIDE = "homicide", _("Homicides")
    GUN_HOMICIDE = "gun_homicide", _("Gun homicides")
    NONFATAL_SHOOTING = "nonfatal_shooting", _("Non-fatal shooting victims")
    SHOOTING_INCIDENT = "shooting_incident", _("Shooting incidents")
    GANG_HOMICIDE = "gang_homicide", _("Gang-related homicides")
    GUN_ASSAULT = "gun_assault", _("Aggravated assaults with a firearm")


class AreaPopulation(models.Model):
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, related_name="populations", verbose_name=_("area")
    )
    year = models.PositiveSmallIntegerField(verbose_name=_("year"))
    population = models.PositiveIntegerField(verbose_name=_("population"))
    source = models.CharField(max_length=500, blank=True, verbose_name=_("source"))

    class Meta:
        verbose_name = _("area population")
        verbose_name_plural = _("area populations")
        ordering = ["area__name", "year"]
        constraints = [
            models.UniqueConstraint(fields=["area", "year"], name="area_population_once_per_year"),
            models.CheckConstraint(
                condition=Q(year__gte=1900) & Q(year__lte=2200),
                name="area_population_year_plausible",
            ),
            models.CheckConstraint(condition=Q(population__gt=0), name="area_population_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.area} {self.year}: {self.population:,}"


class CrimeOutcome(models.Model):
    """One published count: an area's homicides in March 2023, or in all of 2021 when only the
    annual figure exists. An annual figure is never split into months."""

    class Granularity(models.TextChoices):
        MONTH = "month", _("Month")
        YEAR = "year", _("Year")

    area = models.ForeignKey(
        Area, on_delete=models.PROTECT, related_name="crime_outcomes", verbose_name=_("area")
    )
    # The first day of the month, or 1 January for an annual figure.
    period_start = models.DateField(verbose_name=_("period start"))
    granularity = models.CharField(
        max_length=5, choices=Granularity.choices, verbose_name=_("granularity")
    )
    measure = models.CharField(max_length=30, choices=Measure.choices, verbose_name=_("measure"))
    count = models.PositiveIntegerField(verbose_name=_("count"))
    source = models.CharField(max_length=500, verbose_name=_("source"))
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("crime outcome")
        verbose_name_plural = _("crime outcomes")
        ordering = ["area__name", "measure", "period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["area", "period_start", "granularity", "measure"],
                name="crime_outcome_once_per_period",
            ),
            models.CheckConstraint(
                condition=Q(period_start__day=1)
                & (Q(granularity="month") | Q(period_start__month=1)),
                name="crime_outcome_period_starts_on_first",
            ),
        ]
        indexes = [models.Index(fields=["area", "measure", "period_start"])]

    def __str__(self) -> str:
        return f"{self.area} {self.period_label} {self.measure}: {self.count}"

    @property
    def period_label(self) -> str:
        if self.granularity == self.Granularity.YEAR:
            return f"{self.period_start:%Y}"
        return f"{self.period_start:%Y-%m}"


class ActivityRollup(models.Model):
    """Program activity in one month for one organisation, program kind and participants' area.

    Rebuilt whole, month by month, by `metrics.services.refresh_rollups`: never edit rows by hand.
    `area` is null for participants with no recorded area. A session with participants from
    several areas counts once, in the area of the first participant recorded on it; the
    participants served are counted in their own area."""

    UNSPECIFIED_KIND = "unspecified"

    month = models.DateField(verbose_name=_("month"))
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.CASCADE,
        related_name="activity_rollups",
        verbose_name=_("organization"),
    )
    program_kind = models.CharField(max_length=30, verbose_name=_("program kind"))
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activity_rollups",
        verbose_name=_("area"),
    )
    sessions = models.PositiveIntegerField(default=0, verbose_name=_("sessions"))
    contact_minutes = models.PositiveBigIntegerField(default=0, verbose_name=_("contact minutes"))
    participants_served = models.PositiveIntegerField(
        default=0, verbose_name=_("participants served")
    )
    new_enrollments = models.PositiveIntegerField(default=0, verbose_name=_("new enrollments"))
    exits = models.PositiveIntegerField(default=0, verbose_name=_("exits"))
    referrals_made = models.PositiveIntegerField(default=0, verbose_name=_("referrals made"))
    referrals_completed = models.PositiveIntegerField(
        default=0, verbose_name=_("referrals completed")
    )

    class Meta:
        verbose_name = _("activity rollup")
        verbose_name_plural = _("activity rollups")
        ordering = ["month", "organization_id", "program_kind", "area_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "organization", "program_kind", "area"],
                name="activity_rollup_one_row_per_group",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(month__day=1), name="activity_rollup_month_starts_on_first"
            ),
        ]
        indexes = [models.Index(fields=["month", "organization"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.organization_id} {self.program_kind} {self.area_id}"

    @property
    def contact_hours(self) -> float:
        return round(self.contact_minutes / 60, 1)


class RollupFillState(models.Model):
    """One row per month the rollup holds: written in the same transaction as that month's rows,
    so a month with a fill-state row is complete, and a crashed refresh leaves the previous
    complete state (or none) behind."""

    month = models.DateField(unique=True, verbose_name=_("month"))
    refreshed_at = models.DateTimeField(verbose_name=_("refreshed at"))

    class Meta:
        verbose_name = _("rollup fill state")
        verbose_name_plural = _("rollup fill states")
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} refreshed {self.refreshed_at:%Y-%m-%d %H:%M}"
