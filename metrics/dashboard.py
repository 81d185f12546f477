"""The dashboard's numbers, built once and used by the page, its chart and its CSV, so the
download is exactly what is shown.

Honesty rules kept here:
- an annual figure is shown as an annual figure, never spread over months;
- a year's count is "complete" only from an annual figure or twelve monthly ones, and only a
  complete year gets a rate or a place in a comparison;
- percent change is computed from the counts, which are shown beside it;
- counts of 1-10 people are shown as a range when the viewer is outside their organisation;
- response reach is shown per month of the incident, as counts (people connected to incidents,
  people reached) and shares of the connected computed from those counts, never averaged;
  where counts are suppressed, a share that would give away a count of 1-10 people (the
  month's connected or reached count, or the share's own numerator) is withheld too;
- counts of incidents recorded in GVR Case Manager are a second, labelled source beside the
  official figures: separate columns, chart series and CSV columns named after their source,
  never added to the official figures, the yearly totals, rates or comparisons (no double
  counting). They count events city-wide, not any organisation's people, so they are shown to
  everyone who may see the dashboard, unsuppressed, like the official figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.utils.text import format_lazy
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from interventions.dates import months_between as months_between  # the dashboard's months
from interventions.models import Area
from interventions.selectors.response import INCIDENT_MEASURES, INCIDENT_SOURCE_LABEL
from metrics import selectors, suppression
from metrics.models import CrimeOutcome, Measure
from metrics.selectors import DashboardScope

SUPPRESSED = "1\u201310"  # one, en dash, ten
# A share that would give away a suppressed count, or a count hidden so that no suppressed one
# can be derived by subtraction (metrics/suppression.py).
WITHHELD = gettext_lazy("withheld")
MEASURE_LABELS = dict(Measure.choices)
# The measures the recorded incidents also count, named after their source wherever shown.
INCIDENT_LABELS = {
    measure: format_lazy("{} \u2014 {}", MEASURE_LABELS[measure], INCIDENT_SOURCE_LABEL)
    for measure in INCIDENT_MEASURES
}
# Plain text (marked for translation, translated where it is shown): callers compare with it.
CAVEAT = gettext_noop(
    "A change in these figures beside the program's activity is an association, not proof "
    "that the program caused it: many other things changed in the same years. The baseline "
    "year chosen matters, since another baseline gives another percent change, and 2021 was "
    "a national peak in homicides, so a drop measured from 2021 partly reflects a national "
    "return from that peak. Compare with another area before drawing conclusions."
)


def suppress(count: int | None, *, suppress_small: bool) -> int | str | None:
    if suppress_small and count is not None and 1 <= count <= 10:
        return SUPPRESSED
    return count


def reach_cells(counts: dict[str, object], *, hidden: dict[str, str]) -> dict[str, object]:
    """One month's reach as shown. `hidden`: count name -> why it is hidden (suppression.PRIMARY,
    1-10 people; SECONDARY, so that no hidden count can be derived from other areas' counts).
    A share is withheld when it would give a hidden count away (with the connected count beside
    it, a share reveals its numerator), and when the month's connected or reached count is
    hidden. A month with nobody connected has no share."""
    connected = int(counts.get("connected") or 0)

    def shown(name: str) -> object:
        reason = hidden.get(name)
        if reason is None:
            return int(counts.get(name) or 0)
        return SUPPRESSED if reason == suppression.PRIMARY else WITHHELD

    month_hidden = "connected" in hidden or "reached" in hidden

    def share(numerator_key: str, share_key: str) -> object:
        if connected == 0:
            return None
        if month_hidden or numerator_key in hidden:
            return WITHHELD
        return counts[share_key]

    return {
        "connected": shown("connected"),
        "reached": shown("reached"),
        "share_24h": share("within_24h", "share_24h"),
        "share_72h": share("within_72h", "share_72h"),
    }


def percent_change(baseline: int, comparison: int) -> Decimal | None:
    if baseline == 0:
        return None
    return (Decimal(comparison - baseline) * 100 / Decimal(baseline)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP
    )


def format_percent(value: Decimal | None) -> str:
    if value is None:
        return gettext("n/a (baseline is 0)")
    return f"{value:+.1f}%"


@dataclass
class YearFigure:
    """An area's count for one measure and year, and how it was arrived at."""

    count: int | None
    basis: str
    complete: bool


@dataclass
class AreaOutcomes:
    area: Area
    monthly: dict[tuple[str, date], int] = field(default_factory=dict)
    annual: dict[tuple[str, int], int] = field(default_factory=dict)
    sources: set[str] = field(default_factory=set)

    def year(self, measure: str, year: int) -> YearFigure:
        annual = self.annual.get((measure, year))
        months = [
            count
            for (m, month), count in self.monthly.items()
            if m == measure and month.year == year
        ]
        if annual is not None:
            return YearFigure(annual, gettext("annual figure"), True)
        if len(months) == 12:
            return YearFigure(sum(months), gettext("sum of 12 monthly figures"), True)
        if months:
            return YearFigure(
                sum(months),
                gettext("only %(count)s of 12 months") % {"count": len(months)},
                False,
            )
        return YearFigure(None, gettext("no figure"), False)


def _collect(outcomes: list[CrimeOutcome], areas: list[Area]) -> dict[int, AreaOutcomes]:
    by_area = {area.pk: AreaOutcomes(area=area) for area in areas}
    for outcome in outcomes:
        target = by_area[outcome.area_id]
        target.sources.add(outcome.source)
        if outcome.granularity == CrimeOutcome.Granularity.YEAR:
            target.annual[(outcome.measure, outcome.period_start.year)] = outcome.count
        else:
            target.monthly[(outcome.measure, outcome.period_start)] = outcome.count
    return by_area


def _comparison(
    outcomes: AreaOutcomes, measures: list[str], baseline_year: int, comparison_year: int
) -> dict[str, object]:
    rows = []
    for measure in measures:
        before = outcomes.year(measure, baseline_year)
        after = outcomes.year(measure, comparison_year)
        row: dict[str, object] = {
            "measure": measure,
            "measure_label": MEASURE_LABELS[measure],
            "baseline": before.count,
            "baseline_basis": before.basis,
            "comparison": after.count,
            "comparison_basis": after.basis,
            "change": None,
            "percent": None,
            "percent_text": gettext("not comparable"),
        }
        if before.complete and after.complete:
            assert before.count is not None and after.count is not None
            pct = percent_change(before.count, after.count)
            row.update(
                change=after.count - before.count, percent=pct, percent_text=format_percent(pct)
            )
        rows.append(row)
    return {
        "area": outcomes.area,
        "baseline_year": baseline_year,
        "comparison_year": comparison_year,
        "rows": rows,
        "sentence": (
            gettext("%(area)s, %(baseline)s (baseline) against %(comparison)s.")
            % {"area": outcomes.area.name, "baseline": baseline_year, "comparison": comparison_year}
            + " "
            + gettext(CAVEAT)
        ),
    }


def build_dashboard(
    *,
    scope: DashboardScope,
    area: Area,
    measures: list[str],
    start: date,
    end: date,
    baseline_year: int,
    comparison_year: int,
    compare_area: Area | None,
    activity_in_area: bool,
) -> dict[str, object]:
    """Everything the dashboard shows. A fixed number of queries whatever the range."""
    areas = [area, *([compare_area] if compare_area else [])]
    by_area = _collect(list(selectors.outcomes_for(areas, measures)), areas)
    main = by_area[area.pk]
    populations = selectors.populations_for([area])
    area_ids = selectors.area_and_descendant_ids(area)
    activity_area_ids = area_ids if activity_in_area else None
    activity = {
        row["month"]: row
        for row in selectors.monthly_activity(
            scope, start=start, end=end, area_ids=activity_area_ids
        )
    }
    reach = {
        row["month"]: row
        for row in selectors.monthly_reach(scope, start=start, end=end, area_ids=activity_area_ids)
    }
    incident_measures = [measure for measure in measures if measure in INCIDENT_MEASURES]
    incidents: dict[tuple[object, object], object] = {}
    if incident_measures:
        incidents = {
            (row["measure"], row["month"]): row["count"]
            for row in selectors.incident_counts(area, start=start, end=end, area_ids=area_ids)
        }
    refreshed = selectors.rollup_refreshed_at(start=start, end=end)["latest"]

    # Every count of people, with the cells hidden across the area tree so none of 1-10 people
    # is shown or can be derived from other areas' counts (metrics/suppression.py).
    hidden = suppression.hidden_people_counts(scope, start=start, end=end)
    hidden_reach = suppression.hidden_reach_counts(scope, start=start, end=end)
    shown_cell = ("area", area.pk) if activity_in_area else suppression.EVERYONE

    def reach_hidden(month: date) -> dict[str, str]:
        reasons = {
            name: hidden_reach.get((month, name), {}).get(shown_cell)
            for name in suppression.REACH_COUNTS
        }
        return {name: reason for name, reason in reasons.items() if reason is not None}

    def shown_people(month: date, name: str, act: dict[str, object]) -> object:
        reason = hidden.get((month, name), {}).get(shown_cell)
        if reason is None:
            return act.get(name) or 0
        return SUPPRESSED if reason == suppression.PRIMARY else WITHHELD

    months = months_between(start, end)
    monthly_rows = []
    reach_rows = []
    for month in months:
        act = activity.get(month, {})
        minutes = act.get("contact_minutes") or 0
        reach_rows.append(
            {
                "month": f"{month:%Y-%m}",
                **reach_cells(reach.get(month, {}), hidden=reach_hidden(month)),
            }
        )
        monthly_rows.append(
            {
                "month": f"{month:%Y-%m}",
                "outcomes": [main.monthly.get((measure, month)) for measure in measures],
                # A month with no incident recorded here counts 0 recorded; never official.
                "incidents": [incidents.get((measure, month), 0) for measure in incident_measures],
                "sessions": act.get("sessions") or 0,
                "contact_hours": round(minutes / 60, 1),
                **{name: shown_people(month, name, act) for name in suppression.PEOPLE_COUNTS},
            }
        )

    years = list(range(start.year, end.year + 1))
    yearly_rows = []
    annual_points = []
    for measure in measures:
        for year in years:
            figure = main.year(measure, year)
            population = populations.get((area.pk, year))
            rate = None
            if figure.complete and population and figure.count is not None:
                rate = (Decimal(figure.count) * 100_000 / Decimal(population)).quantize(
                    Decimal("0.1"), rounding=ROUND_HALF_UP
                )
            yearly_rows.append(
                {
                    "measure": measure,
                    "measure_label": MEASURE_LABELS[measure],
                    "year": year,
                    "count": figure.count,
                    "basis": figure.basis,
                    "population": population,
                    "rate": rate,
                }
            )
            if (measure, year) in main.annual:
                annual_points.append(
                    {"measure": measure, "year": year, "count": main.annual[(measure, year)]}
                )

    comparisons = [_comparison(main, measures, baseline_year, comparison_year)]
    if compare_area is not None:
        comparisons.append(
            _comparison(by_area[compare_area.pk], measures, baseline_year, comparison_year)
        )

    chart = {
        "labels": [row["month"] for row in monthly_rows],
        "measures": [
            {
                "code": measure,
                "label": MEASURE_LABELS[measure],
                "monthly": [row["outcomes"][i] for row in monthly_rows],
                # Annual totals are drawn as marked points at mid-year, never spread over months.
                "annual": [
                    {"month": f"{point['year']}-07", "count": point["count"]}
                    for point in annual_points
                    if point["measure"] == measure and start.year <= point["year"] <= end.year
                ],
            }
            for i, measure in enumerate(measures)
        ],
        # Drawn apart from the official figures (a dashed line), labelled with their source.
        "incidents": [
            {
                "code": measure,
                "label": INCIDENT_LABELS[measure],
                # For a phone's legend, which cannot wrap: still names the source.
                "short_label": f"{MEASURE_LABELS[measure]} \u2014 GVR Case Manager",
                "source": INCIDENT_SOURCE_LABEL,
                "monthly": [row["incidents"][i] for row in monthly_rows],
            }
            for i, measure in enumerate(incident_measures)
        ],
        "activity": {
            "sessions": [row["sessions"] for row in monthly_rows],
            "contact_hours": [float(row["contact_hours"]) for row in monthly_rows],
            "participants_served": [
                row["participants_served"] if isinstance(row["participants_served"], int) else None
                for row in monthly_rows
            ],
        },
    }
    return {
        "scope": scope,
        "area": area,
        "compare_area": compare_area,
        "measures": [(measure, MEASURE_LABELS[measure]) for measure in measures],
        "incident_measures": [(measure, INCIDENT_LABELS[measure]) for measure in incident_measures],
        "monthly_rows": monthly_rows,
        "reach_rows": reach_rows,
        "reach_in_area": activity_in_area,
        "yearly_rows": yearly_rows,
        "annual_only_measures": [
            MEASURE_LABELS[measure]
            for measure in measures
            if not any(m == measure for (m, _month) in main.monthly)
            and any(m == measure for (m, _year) in main.annual)
        ],
        "comparisons": comparisons,
        "official_sources": sorted(main.sources),
        "incident_source": INCIDENT_SOURCE_LABEL if incident_measures else None,
        "sources": [*sorted(main.sources), *([INCIDENT_SOURCE_LABEL] if incident_measures else [])],
        "refreshed_at": refreshed,
        "chart": chart,
        "suppressed_label": SUPPRESSED,
        "withheld_label": WITHHELD,
    }


def csv_rows(data: dict[str, object]) -> list[list[object]]:
    """The CSV download: the page's tables, in the page's order, with the same cells."""
    measures = data["measures"]
    rows: list[list[object]] = [
        ["Program activity and outcomes by month", data["area"].name, data["scope"].label],
        [
            "Month",
            *[f"{label} (monthly figure)" for _code, label in measures],
            *[label for _code, label in data["incident_measures"]],
            "Sessions",
            "Contact hours",
            "Participants served",
            "New enrolments",
            "Exits",
            "Referrals made",
            "Referrals completed",
        ],
    ]
    for row in data["monthly_rows"]:
        rows.append(
            [
                row["month"],
                *["" if value is None else value for value in row["outcomes"]],
                *row["incidents"],
                row["sessions"],
                row["contact_hours"],
                row["participants_served"],
                row["new_enrollments"],
                row["exits"],
                row["referrals_made"],
                row["referrals_completed"],
            ]
        )
    rows += [
        [],
        [
            "Response reach by month of the incident",
            data["area"].name if data["reach_in_area"] else "Every area",
            data["scope"].label,
        ],
        [
            "Month of the incident",
            "People connected",
            "Reached",
            "Reached within 24 h (% of connected)",
            "Reached within 72 h (% of connected)",
        ],
    ]
    for row in data["reach_rows"]:
        rows.append(
            [
                row["month"],
                row["connected"],
                row["reached"],
                "" if row["share_24h"] is None else row["share_24h"],
                "" if row["share_72h"] is None else row["share_72h"],
            ]
        )
    rows += [[], ["Outcomes by year", data["area"].name]]
    rows.append(["Measure", "Year", "Count", "Basis", "Population", "Rate per 100,000"])
    for row in data["yearly_rows"]:
        rows.append(
            [
                row["measure_label"],
                row["year"],
                "" if row["count"] is None else row["count"],
                row["basis"],
                "" if row["population"] is None else row["population"],
                "" if row["rate"] is None else row["rate"],
            ]
        )
    for comparison in data["comparisons"]:
        rows += [
            [],
            [
                "Change against baseline",
                comparison["area"].name,
                f"{comparison['baseline_year']} to {comparison['comparison_year']}",
            ],
            [
                "Measure",
                f"{comparison['baseline_year']} (baseline)",
                str(comparison["comparison_year"]),
                "Change",
                "Percent change",
            ],
        ]
        for row in comparison["rows"]:
            rows.append(
                [
                    row["measure_label"],
                    "" if row["baseline"] is None else row["baseline"],
                    "" if row["comparison"] is None else row["comparison"],
                    "" if row["change"] is None else row["change"],
                    row["percent_text"],
                ]
            )
        rows.append([comparison["sentence"]])
    rows += [[], ["Sources", *data["sources"]]]
    return rows


def baseline_change(result: dict[str, object]) -> dict[str, object] | None:
    """The simple change the dashboard shows, beside an evaluation: the last complete calendar
    year before the program's start against the last complete calendar year of the window,
    from the same monthly counts. None when the window has no such pair of years."""
    by_year: dict[int, list[int]] = {}
    for row in result["series"]:  # type: ignore[attr-defined]
        by_year.setdefault(int(row["month"][:4]), []).append(int(row["observed"]))
    complete = sorted(year for year, counts in by_year.items() if len(counts) == 12)
    start_year = int(str(result["start"])[:4])
    before = [year for year in complete if year < start_year]
    # The first calendar year wholly under the program.
    first_full_year = start_year if str(result["start"]).endswith("-01") else start_year + 1
    after = [year for year in complete if year >= first_full_year]
    if not before or not after:
        return None
    baseline_year, comparison_year = before[-1], after[-1]
    baseline, comparison = sum(by_year[baseline_year]), sum(by_year[comparison_year])
    pct = percent_change(baseline, comparison)
    return {
        "baseline_year": baseline_year,
        "comparison_year": comparison_year,
        "baseline": baseline,
        "comparison": comparison,
        "percent": pct,
        "percent_text": format_percent(pct),
    }


def evaluation_context(result: dict[str, object], measure: str) -> dict[str, object]:
    """What the Evaluate page shows of a result: the sentence, the numbers, the chart's data
    (read by static/js/evaluate.js from a JSON script element) and the baseline change."""
    # statsmodels loads only for evaluation pages
    from metrics.evaluation import sentence, warning_texts

    label = MEASURE_LABELS[measure]
    series = result["series"]
    p_value = float(result["p_value"])  # type: ignore[arg-type]
    return {
        "result": result,
        "measure_label": label,
        "sentence": sentence(result, label),
        "warnings": warning_texts(result),
        # Four decimals would print a tiny p-value as 0.0000, which reads as "impossible".
        "p_value_text": "< 0.0001" if p_value < 0.0001 else f"{p_value:.4f}",
        "baseline": baseline_change(result),
        "result_areas": [result["program_area"], *result["comparisons"]],  # type: ignore[list-item]
        "chart": {
            "labels": [row["month"] for row in series],  # type: ignore[attr-defined]
            "start": result["start"],
            "observed": [row["observed"] for row in series],  # type: ignore[attr-defined]
            "fitted": [row["fitted"] for row in series],  # type: ignore[attr-defined]
            "counterfactual": [row["counterfactual"] for row in series],  # type: ignore[attr-defined]
            "measure": label,
        },
    }
