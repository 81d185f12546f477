"""Reads for the metrics dashboard. Activity comes only from the rollup table and response reach
only as counts per month, both scoped to the organisations the viewer may see; outcome figures
(imported, and the counts of incidents recorded here) are public."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db import connection
from django.db.models import Count, Max, QuerySet, Sum
from django.db.models.functions import ExtractYear
from django.utils.translation import gettext

from interventions.access import (
    ANALYST,
    CITY_ADMIN,
    MANAGER,
    VIEW_AGGREGATES_PERMISSION,
    AnyUser,
    organizations_of,
    user_roles,
)
from interventions.dates import last_day_of_month
from interventions.models import Area, PartnerOrganization
from interventions.selectors import response as response_selectors
from interventions.selectors.response import area_and_descendant_ids as area_and_descendant_ids
from metrics.models import ActivityRollup, AreaPopulation, CrimeOutcome, RollupFillState


@dataclass(frozen=True)
class DashboardScope:
    """Whose activity a viewer sees. `organizations` None means every organisation.

    `suppress_small_counts` is True when the view reaches beyond the viewer's own
    organisation(s): counts of 1-10 people are then shown as a range ("1 to 10")."""

    organizations: QuerySet[PartnerOrganization] | None
    suppress_small_counts: bool
    label: str


def dashboard_scope(user: AnyUser) -> DashboardScope | None:
    """None: the user may not see the dashboard."""
    roles = user_roles(user)
    if CITY_ADMIN in roles:
        return DashboardScope(
            organizations=None,
            suppress_small_counts=True,
            label=gettext("All partner organisations"),
        )
    if MANAGER in roles:
        return DashboardScope(
            organizations=organizations_of(user, role=MANAGER),
            suppress_small_counts=False,
            label=gettext("Your organisation"),
        )
    if ANALYST in roles and user.has_perm(VIEW_AGGREGATES_PERMISSION):
        # Figures across every organisation, as the city sees them: small counts suppressed.
        return DashboardScope(
            organizations=None,
            suppress_small_counts=True,
            label=gettext("All partner organisations"),
        )
    return None


def monthly_activity(
    scope: DashboardScope, *, start: date, end: date, area_ids: list[int] | None
) -> list[dict[str, object]]:
    """Activity summed per month from start to end (first days of months, both included).
    area_ids None: every area, including participants with none recorded."""
    rollups = ActivityRollup.objects.filter(month__gte=start, month__lte=end)
    if scope.organizations is not None:
        rollups = rollups.filter(organization__in=scope.organizations)
    if area_ids is not None:
        rollups = rollups.filter(area_id__in=area_ids)
    return list(
        rollups.values("month")
        .annotate(
            sessions=Sum("sessions"),
            contact_minutes=Sum("contact_minutes"),
            participants_served=Sum("participants_served"),
            new_enrollments=Sum("new_enrollments"),
            exits=Sum("exits"),
            referrals_made=Sum("referrals_made"),
            referrals_completed=Sum("referrals_completed"),
        )
        .order_by("month")
    )


def monthly_reach(
    scope: DashboardScope, *, start: date, end: date, area_ids: list[int] | None
) -> list[dict[str, object]]:
    """Response reach per month of the incident, from the month of start to the month of end
    (first days of months, both included), over the tasks of the organisations in the scope.
    area_ids None: incidents anywhere. Counts as they are: suppression is the caller's."""
    return response_selectors.monthly_reach_for_organizations(
        scope.organizations, start, last_day_of_month(end), area_ids=area_ids
    )


def monthly_reach_by_incident_area(
    scope: DashboardScope, *, start: date, end: date
) -> list[dict[str, object]]:
    """The counts of `monthly_reach` for every organisation of the scope, per month and per
    area of the incident (None: no area recorded), for suppression across the area tree. One
    query."""
    return response_selectors.monthly_reach_by_incident_area(
        scope.organizations, start, last_day_of_month(end)
    )


def incident_counts(
    area: Area, *, start: date, end: date, area_ids: list[int]
) -> list[dict[str, object]]:
    """Counts of the incidents recorded here in the area (area_ids: it and the areas within it)
    per month, start..end as first days of months. Public, like the official figures."""
    return response_selectors.incident_counts_by_month(
        area, start, last_day_of_month(end), area_ids=area_ids
    )


def rollup_refreshed_at(*, start: date, end: date) -> dict[str, object]:
    """When the months shown were last refreshed, and whether all of them have been."""
    return RollupFillState.objects.filter(month__gte=start, month__lte=end).aggregate(
        latest=Max("refreshed_at")
    )


def outcomes_for(areas: list[Area], measures: list[str]) -> QuerySet[CrimeOutcome]:
    """Every figure for these areas and measures. Small (a few hundred rows per area), so it is
    read whole whatever the date range."""
    return CrimeOutcome.objects.filter(area__in=areas, measure__in=measures).order_by(
        "area_id", "measure", "period_start", "granularity"
    )


def populations_for(areas: list[Area]) -> dict[tuple[int, int], int]:
    return {
        (area_id, year): population
        for area_id, year, population in AreaPopulation.objects.filter(area__in=areas).values_list(
            "area_id", "year", "population"
        )
    }


def latest_outcome_year(area: Area) -> int | None:
    return (
        CrimeOutcome.objects.filter(area=area)
        .annotate(year=ExtractYear("period_start"))
        .aggregate(latest=Max("year"))["latest"]
    )


def default_area() -> Area | None:
    """The area with the most outcome figures (the demo's Bakersfield), else the first."""
    return (
        Area.objects.annotate(figures=Count("crime_outcomes")).order_by("-figures", "name").first()
    )


@dataclass(frozen=True)
class EvaluationFigures:
    """One area's figures for one measure, as the evaluation reads them: monthly counts by the
    first day of the month, the years published only as an annual total, and populations."""

    area: Area
    monthly: dict[date, int]
    annual_only_years: frozenset[int]
    populations: dict[int, int]


def evaluation_figures(areas: list[Area], measure: str) -> dict[int, EvaluationFigures]:
    """The figures of each area (by id) for one measure, in two queries whatever the window."""
    monthly: dict[int, dict[date, int]] = {area.pk: {} for area in areas}
    annual: dict[int, set[int]] = {area.pk: set() for area in areas}
    for area_id, period_start, granularity, count in (
        CrimeOutcome.objects.filter(area__in=areas, measure=measure)
        .order_by("area_id", "period_start")
        .values_list("area_id", "period_start", "granularity", "count")
    ):
        if granularity == CrimeOutcome.Granularity.YEAR:
            annual[area_id].add(period_start.year)
        else:
            monthly[area_id][period_start] = count
    populations = populations_for(areas)
    return {
        area.pk: EvaluationFigures(
            area=area,
            monthly=monthly[area.pk],
            annual_only_years=frozenset(
                year
                for year in annual[area.pk]
                if not any(month.year == year for month in monthly[area.pk])
            ),
            populations={
                year: population
                for (area_id, year), population in populations.items()
                if area_id == area.pk
            },
        )
        for area in areas
    }


def area_ancestor_ids(area: Area) -> list[int]:
    """The areas that contain this one (its city, its county), nearest first."""
    parents = dict(Area.objects.order_by().values_list("id", "parent_id"))
    found: list[int] = []
    current = parents.get(area.pk)
    while current is not None and current not in found:
        found.append(current)
        current = parents.get(current)
    return found


def evaluable_areas(scope: DashboardScope) -> QuerySet[Area]:
    """The areas a viewer may evaluate: every area for the city and analysts, the areas their
    organisations serve (and the areas within them) for managers."""
    if scope.organizations is None:
        return Area.objects.all()
    served = Area.objects.filter(organizations__in=scope.organizations).distinct()
    ids: set[int] = set()
    for area in served:
        ids.update(area_and_descendant_ids(area))
    return Area.objects.filter(pk__in=ids)


def default_area_among(areas: QuerySet[Area]) -> Area | None:
    """Of these areas, the one with the most outcome figures."""
    return areas.annotate(figures=Count("crime_outcomes")).order_by("-figures", "name").first()


def evaluation_data_version(area_ids: list[int], measure: str) -> tuple[str, int]:
    """A digest of every figure an evaluation of these areas and measure reads (monthly and
    annual counts, populations) and of the area tree (its warnings depend on it), computed by
    PostgreSQL in one query, and the number of monthly figures. Any change to any of them
    changes the digest, bulk updates included (no reliance on updated_at)."""
    outcomes = CrimeOutcome._meta.db_table
    populations = AreaPopulation._meta.db_table
    areas = Area._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT
              md5(coalesce((SELECT string_agg(
                  concat_ws(':', area_id, period_start, granularity, count), ','
                  ORDER BY area_id, period_start, granularity)
                FROM {outcomes} WHERE area_id = ANY(%(areas)s) AND measure = %(measure)s), '')
              || '|' || coalesce((SELECT string_agg(concat_ws(':', area_id, year, population), ','
                  ORDER BY area_id, year)
                FROM {populations} WHERE area_id = ANY(%(areas)s)), '')
              || '|' || coalesce((SELECT string_agg(concat_ws(':', id, parent_id, name), ','
                  ORDER BY id) FROM {areas}), '')),
              (SELECT count(*) FROM {outcomes}
                WHERE area_id = ANY(%(areas)s) AND measure = %(measure)s AND granularity = 'month')
            """,  # noqa: S608  # nosec B608 - model table names; values are parameters
            {"areas": area_ids, "measure": measure},
        )
        digest, rows = cursor.fetchone()
    return digest, int(rows)
