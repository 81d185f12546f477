"""The other claims a city makes about violence, each checkable from the figures the app holds,
with the counts shown beside every share, rate and change:

1. "The group or gang portion of gun violence has become very small": per month and year, the
   share of the incidents recorded here (shootings and homicides) with a street group attached,
   and the imported gang_homicide / homicide share where both figures exist. A share over fewer
   than 10 incidents is shown as counts only: one incident more or less would swing it by ten
   points or more.
2. "Lower than many other large cities in the state": rates per 100,000 for the area and every
   other area with the same measure and a population, ranked, for each complete year.
3. "The lowest rate in more than a decade": for the latest complete year, the last earlier year
   with a rate as low or lower ("lowest since 2012"), or "no lower year in the data (from 2014)".
4. "Safer than before the pandemic": the latest complete year against 2019, beside the
   evaluation's model-based estimate (the Evaluate page), which a single pair of years is not.

Only complete years count (an annual figure, or twelve monthly ones), as on the dashboard.
Incident counts are events, not an organisation's people: public, like the official figures.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Exists, OuterRef, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext

from interventions.models import Area, Incident, IncidentGroup
from metrics import selectors
from metrics.dashboard import MEASURE_LABELS, AreaOutcomes, format_percent, percent_change
from metrics.models import CrimeOutcome

MIN_INCIDENTS_FOR_SHARE = 10
PRE_PANDEMIC_YEAR = 2019


def _share(part: int, whole: int) -> Decimal | None:
    if whole < MIN_INCIDENTS_FOR_SHARE:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _rate(count: int, population: int) -> Decimal:
    return (Decimal(count) * 100_000 / Decimal(population)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def group_share(area: Area) -> dict[str, list[dict[str, object]]]:
    """Incidents recorded here in the area (and the areas within it) with and without a street
    group attached, per month and per year (one query), and the imported gang-homicide share."""
    area_ids = selectors.area_and_descendant_ids(area)
    rows = (
        Incident.objects.filter(area_id__in=area_ids)
        .annotate(
            month=TruncMonth("occurred_at"),
            with_group=Exists(IncidentGroup.objects.filter(incident=OuterRef("pk"))),
        )
        .values("month")
        .annotate(total=Count("pk"), grouped=Count("pk", filter=Q(with_group=True)))
        .order_by("month")
    )
    monthly, yearly = [], {}
    for row in rows:
        month = timezone.localtime(row["month"]).date() if row["month"] else None
        if month is None:
            continue
        monthly.append(
            {
                "period": f"{month:%Y-%m}",
                "total": row["total"],
                "grouped": row["grouped"],
                "share": _share(row["grouped"], row["total"]),
            }
        )
        year = yearly.setdefault(month.year, {"total": 0, "grouped": 0})
        year["total"] += row["total"]
        year["grouped"] += row["grouped"]
    yearly_rows = [
        {
            "period": str(year),
            "total": counts["total"],
            "grouped": counts["grouped"],
            "share": _share(counts["grouped"], counts["total"]),
        }
        for year, counts in sorted(yearly.items())
    ]
    outcomes = AreaOutcomes(area=area)
    for outcome in CrimeOutcome.objects.filter(
        area=area, measure__in=["homicide", "gang_homicide"]
    ).order_by("period_start"):
        if outcome.granularity == CrimeOutcome.Granularity.YEAR:
            outcomes.annual[(outcome.measure, outcome.period_start.year)] = outcome.count
        else:
            outcomes.monthly[(outcome.measure, outcome.period_start)] = outcome.count
    official = []
    years = sorted(
        {year for (_m, year) in outcomes.annual} | {m.year for (_x, m) in outcomes.monthly}
    )
    for year in years:
        gang, homicide = outcomes.year("gang_homicide", year), outcomes.year("homicide", year)
        if gang.complete and homicide.complete and homicide.count:
            official.append(
                {
                    "period": str(year),
                    "gang_homicide": gang.count,
                    "homicide": homicide.count,
                    # Official figures are yearly totals of a city's homicides; the same rule for
                    # small totals keeps a share from resting on a handful of deaths.
                    "share": _share(int(gang.count or 0), int(homicide.count)),
                }
            )
    return {"monthly": monthly, "yearly": yearly_rows, "official": official}


@dataclass(frozen=True)
class YearRate:
    area: Area
    year: int
    count: int
    population: int
    rate: Decimal


def _complete_rates(measure: str) -> dict[int, dict[int, YearRate]]:
    """Every area's rate per 100,000 for each complete year with a population: by area id, then
    year. Two queries, whatever the number of areas."""
    outcomes = list(
        CrimeOutcome.objects.filter(measure=measure).select_related("area").order_by("period_start")
    )
    by_area: dict[int, AreaOutcomes] = {}
    for outcome in outcomes:
        target = by_area.setdefault(outcome.area_id, AreaOutcomes(area=outcome.area))
        if outcome.granularity == CrimeOutcome.Granularity.YEAR:
            target.annual[(measure, outcome.period_start.year)] = outcome.count
        else:
            target.monthly[(measure, outcome.period_start)] = outcome.count
    populations = selectors.populations_for([a.area for a in by_area.values()])
    rates: dict[int, dict[int, YearRate]] = {}
    for area_id, figures in by_area.items():
        years = {year for (_m, year) in figures.annual} | {m.year for (_x, m) in figures.monthly}
        for year in sorted(years):
            figure = figures.year(measure, year)
            population = populations.get((area_id, year))
            if figure.complete and figure.count is not None and population:
                rates.setdefault(area_id, {})[year] = YearRate(
                    figures.area, year, figure.count, population, _rate(figure.count, population)
                )
    return rates


def model_estimate(area: Area, measure: str, program_start: date | None) -> dict[str, object]:
    """The evaluation's default model (cached like the Evaluate page's) for the program's start,
    to stand beside the single-year comparison; its refusal when it cannot be fitted."""
    if program_start is None:
        return {}
    from metrics import services
    from metrics.evaluation import sentence, warning_texts

    inputs = services.EvaluationInputs(
        area=area.slug, measure=measure, start=f"{program_start:%Y-%m}"
    )
    try:
        result = services.evaluate_outcome(inputs)
    except services.ServiceError as refusal:
        return {"refusal": str(refusal)}
    return {
        "sentence": sentence(result, MEASURE_LABELS[measure]),
        "warnings": warning_texts(result),
    }


def build_claims(area: Area, measure: str, program_start: date | None = None) -> dict[str, object]:
    rates = _complete_rates(measure)
    own = rates.get(area.pk, {})
    ranking = []
    for year in sorted(own, reverse=True):
        ranked = sorted(
            (by_year[year] for by_year in rates.values() if year in by_year),
            key=lambda item: (item.rate, item.area.name),
        )
        ranking.append(
            {
                "year": year,
                "rows": [
                    {
                        "place": place,
                        "area": item.area,
                        "count": item.count,
                        "population": item.population,
                        "rate": item.rate,
                        "is_area": item.area.pk == area.pk,
                    }
                    for place, item in enumerate(ranked, start=1)
                ],
                "place": next(
                    p for p, item in enumerate(ranked, start=1) if item.area.pk == area.pk
                ),
                "of": len(ranked),
            }
        )

    lowest = None
    if own:
        latest = max(own)
        earlier = [year for year in own if year < latest and own[year].rate <= own[latest].rate]
        first = min(own)
        since = max(earlier) if earlier else None
        # One set of values for either sentence (Python's % ignores the ones a sentence omits).
        values = {
            "year": latest,
            "rate": own[latest].rate,
            "count": own[latest].count,
            "first": first,
            "since": since,
            "since_rate": own[since].rate if since is not None else None,
            "since_count": own[since].count if since is not None else None,
        }
        sentence = (
            gettext(
                "%(year)s: %(rate)s per 100,000 (%(count)s), the lowest since %(since)s "
                "(%(since_rate)s per 100,000, %(since_count)s)."
            )
            if earlier
            else gettext(
                "%(year)s: %(rate)s per 100,000 (%(count)s); no lower year in the data "
                "(from %(first)s)."
            )
        )
        lowest = {
            "year": latest,
            "rate": own[latest].rate,
            "count": own[latest].count,
            "since": since,
            "first_year": first,
            "text": sentence % values,
        }

    before_pandemic = None
    outcomes = AreaOutcomes(area=area)
    for outcome in CrimeOutcome.objects.filter(area=area, measure=measure):
        if outcome.granularity == CrimeOutcome.Granularity.YEAR:
            outcomes.annual[(measure, outcome.period_start.year)] = outcome.count
        else:
            outcomes.monthly[(measure, outcome.period_start)] = outcome.count
    years = {year for (_m, year) in outcomes.annual} | {m.year for (_x, m) in outcomes.monthly}
    complete = [year for year in sorted(years) if outcomes.year(measure, year).complete]
    baseline = outcomes.year(measure, PRE_PANDEMIC_YEAR)
    if baseline.complete and complete and complete[-1] > PRE_PANDEMIC_YEAR:
        latest = complete[-1]
        latest_count = int(outcomes.year(measure, latest).count or 0)
        change = percent_change(int(baseline.count or 0), latest_count)
        before_pandemic = {
            "year": latest,
            "count": latest_count,
            "baseline": baseline.count,
            "percent": change,
            "percent_text": format_percent(change),
            "rate": own[latest].rate if latest in own else None,
            "baseline_rate": own[PRE_PANDEMIC_YEAR].rate if PRE_PANDEMIC_YEAR in own else None,
        }
    return {
        "area": area,
        "measure": measure,
        "measure_label": MEASURE_LABELS[measure],
        "group_share": group_share(area),
        "ranking": ranking,
        "lowest": lowest,
        "before_pandemic": before_pandemic,
        "pre_pandemic_year": PRE_PANDEMIC_YEAR,
        "min_incidents": MIN_INCIDENTS_FOR_SHARE,
        "evaluate_start": f"{program_start or date(PRE_PANDEMIC_YEAR + 1, 1, 1):%Y-%m}",
        "model": model_estimate(area, measure, program_start),
    }
