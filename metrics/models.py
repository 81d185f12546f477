"""City outcome figures (imported) and program activity (rolled up from case data).

Outcome counts are public figures about an area; activity rollups are pre-aggregated counts per
month, organisation, program kind and area, rebuilt by `services.refresh_rollups`. The dashboard
reads only these tables, never the case records."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from interventions.models import Area, PartnerOrganization


class Measure(models.TextChoices):
    HOMICIDE = "homicide", "Homicides"
    GUN_HOMICIDE = "gun_homicide", "Gun homicides"
    NONFATAL_SHOOTING = "nonfatal_shooting", "Non-fatal shooting victims"
    SHOOTING_INCIDENT = "shooting_incident", "Shooting incidents"
    GANG_HOMICIDE = "gang_homicide", "Gang-related homicides"
    GUN_ASSAULT = "gun_assault", "Aggravated assaults with a firearm"


class AreaPopulation(models.Model):
    area = models.ForeignKey(Area, on_delete=models.CASCADE, related_name="populations")
    year = models.PositiveSmallIntegerField()
    population = models.PositiveIntegerField()
    source = models.CharField(max_length=500, blank=True)

    class Meta:
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
        MONTH = "month", "Month"
        YEAR = "year", "Year"

    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="crime_outcomes")
    # The first day of the month, or 1 January for an annual figure.
    period_start = models.DateField()
    granularity = models.CharField(max_length=5, choices=Granularity.choices)
    measure = models.CharField(max_length=30, choices=Measure.choices)
    count = models.PositiveIntegerField()
    source = models.CharField(max_length=500)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
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

    month = models.DateField()
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="activity_rollups"
    )
    program_kind = models.CharField(max_length=30)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.CASCADE, related_name="activity_rollups"
    )
    sessions = models.PositiveIntegerField(default=0)
    contact_minutes = models.PositiveBigIntegerField(default=0)
    participants_served = models.PositiveIntegerField(default=0)
    new_enrollments = models.PositiveIntegerField(default=0)
    exits = models.PositiveIntegerField(default=0)
    referrals_made = models.PositiveIntegerField(default=0)
    referrals_completed = models.PositiveIntegerField(default=0)

    class Meta:
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

    month = models.DateField(unique=True)
    refreshed_at = models.DateTimeField()

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} refreshed {self.refreshed_at:%Y-%m-%d %H:%M}"
