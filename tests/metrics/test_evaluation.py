"""The evaluation's statistics (metrics/evaluation.py), without the database: the numbers equal
statsmodels fitted directly on the same data for every option, a planted effect is recovered,
a real published series gives the published answer, and every refusal and warning fires.

The real series: "Seatbelts" (road casualties in Great Britain, monthly, January 1969 to
December 1984; compulsory wearing of front seat belts from 31 January 1983, so February 1983 is
the first month under the law). Harvey, A. C. and Durbin, J. (1986), "The effects of seat belt
legislation on British road casualties: a case study in structural time series modelling",
Journal of the Royal Statistical Society A 149, 187-227; data as shipped with R's `datasets`
package (R Core Team, GPL-2 | GPL-3), taken as CSV from the Rdatasets collection
(https://github.com/vincentarelbundock/Rdatasets, csv/datasets/Seatbelts.csv) and committed as
tests/metrics/fixtures/seatbelts.csv. Nothing is downloaded when the tests run."""

from __future__ import annotations

import csv
import math
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from django.utils import translation
from scipy.stats import norm

from metrics.evaluation import (
    AreaSeries,
    EvaluationRefused,
    Options,
    evaluate_series,
    months_between,
    sentence,
    warning,
    warning_texts,
)

SEATBELTS = Path(__file__).parent / "fixtures" / "seatbelts.csv"
LAW = date(1983, 2, 1)
FIRST, LAST = date(2010, 1, 1), date(2019, 12, 1)
START = date(2015, 1, 1)
SEASON = [0.8, 0.75, 0.9, 1.0, 1.1, 1.25, 1.35, 1.3, 1.1, 1.0, 0.9, 0.85]


def simulate(
    *, seed: int, level: float, effect: float, start: date = START, overdispersion: float = 0.0
) -> dict[date, int]:
    """Monthly Poisson counts (gamma-Poisson when overdispersed) with a season and a planted
    rate ratio from `start` on."""
    rng = np.random.default_rng(seed)
    counts = {}
    for month in months_between(FIRST, LAST):
        mean = level * SEASON[month.month - 1] * (effect if month >= start else 1.0)
        if overdispersion:
            mean = rng.gamma(1 / overdispersion, mean * overdispersion)
        counts[month] = int(rng.poisson(mean))
    return counts


def direct_frame(series: list[tuple[str, dict[date, int], bool]], start: date) -> pd.DataFrame:
    """The data as an analyst would lay it out by hand, independently of metrics.evaluation."""
    rows = []
    for key, counts, treated in series:
        ordered = sorted(counts)
        for index, month in enumerate(ordered):
            post = 1 if month >= start else 0
            since = (month.year - start.year) * 12 + month.month - start.month
            rows.append(
                {
                    "area": key,
                    "count": counts[month],
                    "moy": month.month,
                    "t": index,
                    "post": post,
                    "treated_post": post * int(treated),
                    "t_after": since * post,
                    "treated_t_after": since * post * int(treated),
                    "year": month.year,
                }
            )
    return pd.DataFrame(rows)


def assert_same_effect(output: dict, result: object, term: str, *, rel: float = 1e-6) -> None:
    coef, se = result.params[term], result.bse[term]
    assert output["rate_ratio"] == pytest.approx(math.exp(coef), rel=rel)
    assert output["ci_low"] == pytest.approx(math.exp(coef - 1.959964 * se), rel=max(rel, 1e-5))
    assert output["ci_high"] == pytest.approx(math.exp(coef + 1.959964 * se), rel=max(rel, 1e-5))
    assert output["percent_change"] == pytest.approx((math.exp(coef) - 1) * 100, rel=rel)


def run(treated: dict[date, int], options: Options | None = None, **kwargs: object) -> dict:
    arguments = {
        "treated": AreaSeries("city", "Testville", treated),
        "comparisons": [],
        "start": START,
        "first": FIRST,
        "last": LAST,
        "options": options or Options(),
        **kwargs,
    }
    return evaluate_series(**arguments)


# --- The same numbers as statsmodels fitted directly ---------------------------------------


def test_default_poisson_equals_statsmodels_fitted_directly() -> None:
    counts = simulate(seed=11, level=20, effect=0.7)
    output = run(counts)
    direct = smf.glm(
        "count ~ post + C(moy)",
        direct_frame([("city", counts, True)], START),
        family=sm.families.Poisson(),
    ).fit()
    dispersion = direct.pearson_chi2 / direct.df_resid
    assert dispersion <= 1.5  # a plain Poisson series: no quasi-Poisson scaling
    assert_same_effect(output, direct, "post")
    assert output["p_value"] == pytest.approx(direct.pvalues["post"], rel=1e-5)
    assert output["dispersion"] == pytest.approx(dispersion, rel=1e-9)
    assert (output["n_months"], output["n_pre"], output["n_post"]) == (120, 60, 60)
    assert output["model"].startswith("count ~ post + C(month_of_year); family Poisson")
    fitted = [row["fitted"] for row in output["series"]]
    assert fitted == pytest.approx(list(direct.fittedvalues), abs=1e-3)
    # The counterfactual is the fit without the program's term: before the start it is the fit,
    # after it the fit divided by the rate ratio.
    for row in output["series"]:
        expected = row["fitted"] / (output["rate_ratio"] if row["month"] >= "2015-01" else 1)
        assert row["counterfactual"] == pytest.approx(expected, abs=2e-3)
    assert [row["observed"] for row in output["series"]] == [counts[m] for m in sorted(counts)]


def test_overdispersed_counts_get_quasi_poisson_errors_and_say_so() -> None:
    counts = simulate(seed=12, level=30, effect=0.7, overdispersion=0.3)
    output = run(counts)
    data = direct_frame([("city", counts, True)], START)
    plain = smf.glm("count ~ post + C(moy)", data, family=sm.families.Poisson()).fit()
    quasi = smf.glm("count ~ post + C(moy)", data, family=sm.families.Poisson()).fit(scale="X2")
    dispersion = plain.pearson_chi2 / plain.df_resid
    assert dispersion > 1.5
    assert output["dispersion"] == pytest.approx(dispersion, rel=1e-9)
    assert_same_effect(output, quasi, "post")
    assert output["p_value"] == pytest.approx(quasi.pvalues["post"], rel=1e-5)
    assert output["quasi_poisson"] and "quasi-Poisson" in output["model"]
    assert any("quasi-Poisson standard errors" in warning for warning in output["warnings"])
    # The scaled interval is wider than the plain Poisson one by sqrt(dispersion).
    assert quasi.bse["post"] == pytest.approx(plain.bse["post"] * math.sqrt(dispersion), rel=1e-6)


def test_trend_equals_statsmodels_fitted_directly() -> None:
    counts = simulate(seed=13, level=25, effect=0.8)
    output = run(counts, Options(trend=True))
    direct = smf.glm(
        "count ~ post + C(moy) + t",
        direct_frame([("city", counts, True)], START),
        family=sm.families.Poisson(),
    ).fit()
    assert_same_effect(output, direct, "post")
    assert "+ t" in output["model"]


def test_slope_change_reports_level_and_trend_change_like_statsmodels() -> None:
    counts = simulate(seed=14, level=25, effect=0.8)
    output = run(counts, Options(slope_change=True))
    direct = smf.glm(
        "count ~ post + C(moy) + t + t_after",
        direct_frame([("city", counts, True)], START),
        family=sm.families.Poisson(),
    ).fit()
    assert_same_effect(output, direct, "post")
    change = output["trend_change"]
    assert change["monthly_rate_ratio"] == pytest.approx(math.exp(direct.params["t_after"]))
    assert change["p_value"] == pytest.approx(direct.pvalues["t_after"], rel=1e-5)
    assert "slope_change brings a linear trend" in output["model"]


def test_negative_binomial_equals_statsmodels_fitted_directly() -> None:
    counts = simulate(seed=15, level=30, effect=0.7, overdispersion=0.2)
    output = run(counts, Options(negbin=True))
    direct = smf.negativebinomial(
        "count ~ post + C(moy)", direct_frame([("city", counts, True)], START)
    ).fit(disp=0, maxiter=500)
    # The same maximum-likelihood coefficient and alpha; the GLM's errors hold alpha fixed, so
    # they agree with the joint fit's to within a percent.
    assert output["rate_ratio"] == pytest.approx(math.exp(direct.params["post"]), rel=1e-4)
    assert output["negbin_alpha"] == pytest.approx(direct.params["alpha"], rel=1e-3)
    # (p-values this small differ in relative terms; their z statistics agree.)
    assert norm.isf(output["p_value"] / 2) == pytest.approx(abs(direct.tvalues["post"]), rel=0.01)
    width = math.log(output["ci_high"] / output["ci_low"]) / (2 * 1.959964)
    assert width == pytest.approx(direct.bse["post"], rel=0.01)
    assert "negative binomial" in output["model"] and not output["quasi_poisson"]


def test_population_offset_models_rates_like_statsmodels() -> None:
    counts = simulate(seed=16, level=20, effect=0.7)
    populations = {year: 300_000 + 9_000 * (year - 2010) for year in range(2010, 2020)}
    output = evaluate_series(
        treated=AreaSeries("city", "Testville", counts, populations),
        comparisons=[],
        start=START,
        first=FIRST,
        last=LAST,
        options=Options(population_offset=True),
    )
    data = direct_frame([("city", counts, True)], START)
    direct = smf.glm(
        "count ~ post + C(moy)",
        data,
        family=sm.families.Poisson(),
        offset=np.log(data["year"].map(populations)),
    ).fit()
    assert_same_effect(output, direct, "post")
    assert "offset log(population)" in output["model"]
    without = run(counts)
    assert output["rate_ratio"] < without["rate_ratio"]  # a growing city: the rate fell more


def test_difference_in_differences_equals_statsmodels_fitted_directly() -> None:
    treated = simulate(seed=17, level=20, effect=0.6 * 0.85)
    others = {f"other-{i}": simulate(seed=30 + i, level=15 + 5 * i, effect=0.85) for i in range(3)}
    output = run(
        treated,
        comparisons=[AreaSeries(key, key.title(), counts) for key, counts in others.items()],
    )
    data = direct_frame(
        [("city", treated, True), *[(key, counts, False) for key, counts in others.items()]], START
    )
    direct = smf.glm(
        "count ~ C(area) + C(moy) + post + treated_post", data, family=sm.families.Poisson()
    ).fit()
    dispersion = direct.pearson_chi2 / direct.df_resid
    if dispersion > 1.5:
        direct = smf.glm(
            "count ~ C(area) + C(moy) + post + treated_post", data, family=sm.families.Poisson()
        ).fit(scale="X2")
    assert output["dispersion"] == pytest.approx(dispersion, rel=1e-9)
    assert_same_effect(output, direct, "treated_post")
    assert output["effect_term"] == "treated:post"
    assert output["ci_low"] < 0.6 < output["ci_high"]
    # Each comparison's own before/after, from its counts, beside the estimate.
    first = output["comparisons"][0]
    before = sum(c for m, c in others["other-0"].items() if m < START)
    assert (first["count_before"], first["months_before"]) == (before, 60)
    assert first["ratio"] == pytest.approx(
        (sum(others["other-0"].values()) - before) / 60 / (before / 60)
    )
    # The series is the program area's, 120 months, observed as given.
    assert [row["observed"] for row in output["series"]] == [treated[m] for m in sorted(treated)]


def test_difference_in_differences_with_every_option_equals_statsmodels() -> None:
    treated = simulate(seed=18, level=25, effect=0.6)
    other = simulate(seed=19, level=30, effect=1.0)
    populations = {year: 200_000 + 1_000 * (year - 2010) for year in range(2010, 2020)}
    output = evaluate_series(
        treated=AreaSeries("city", "Testville", treated, populations),
        comparisons=[AreaSeries("other", "Otherton", other, populations)],
        start=START,
        first=FIRST,
        last=LAST,
        options=Options(trend=True, slope_change=True, population_offset=True),
    )
    data = direct_frame([("city", treated, True), ("other", other, False)], START)
    model = "count ~ C(area) + C(moy) + post + treated_post + t + t_after + treated_t_after"
    direct = smf.glm(
        model, data, family=sm.families.Poisson(), offset=np.log(data["year"].map(populations))
    ).fit()
    if direct.pearson_chi2 / direct.df_resid > 1.5:
        direct = smf.glm(
            model, data, family=sm.families.Poisson(), offset=np.log(data["year"].map(populations))
        ).fit(scale="X2")
    assert_same_effect(output, direct, "treated_post")
    assert output["trend_change"]["monthly_rate_ratio"] == pytest.approx(
        math.exp(direct.params["treated_t_after"])
    )


def test_difference_in_differences_negative_binomial_equals_statsmodels() -> None:
    treated = simulate(seed=20, level=25, effect=0.6, overdispersion=0.15)
    other = simulate(seed=21, level=30, effect=1.0, overdispersion=0.15)
    output = run(
        treated,
        Options(negbin=True),
        comparisons=[AreaSeries("other", "Otherton", other)],
    )
    data = direct_frame([("city", treated, True), ("other", other, False)], START)
    direct = smf.negativebinomial("count ~ C(area) + C(moy) + post + treated_post", data).fit(
        disp=0, maxiter=500
    )
    assert output["rate_ratio"] == pytest.approx(math.exp(direct.params["treated_post"]), rel=1e-4)


# --- A planted effect is recovered ------------------------------------------------------------


def test_a_planted_rate_ratio_of_0_6_with_seasonality_is_covered_by_the_interval() -> None:
    counts = simulate(seed=20261127, level=12, effect=0.6)
    output = run(counts)
    assert output["ci_low"] < 0.6 < output["ci_high"]
    assert output["ci_high"] < 1  # and the drop is told apart from no change
    assert output["percent_change"] == pytest.approx((output["rate_ratio"] - 1) * 100)
    # The season was modelled: July's fitted count is above February's in the same year.
    by_month = {row["month"]: row["fitted"] for row in output["series"]}
    assert by_month["2012-07"] > 1.5 * by_month["2012-02"]


def test_with_no_effect_planted_the_interval_covers_one() -> None:
    output = run(simulate(seed=20261128, level=12, effect=1.0))
    assert output["ci_low"] < 1 < output["ci_high"]


# --- A real published series: the 1983 seat-belt law ----------------------------------------


def seatbelts() -> tuple[dict[date, int], dict[date, int]]:
    with SEATBELTS.open() as handle:
        rows = list(csv.DictReader(handle))
    months = months_between(date(1969, 1, 1), date(1984, 12, 1))
    assert len(rows) == len(months) == 192
    front = {month: int(row["front"]) for month, row in zip(months, rows, strict=True)}
    rear = {month: int(row["rear"]) for month, row in zip(months, rows, strict=True)}
    # The file's own law indicator starts in February 1983.
    assert [row["law"] for row in rows].index("1") == months.index(LAW)
    return front, rear


def test_seat_belt_law_front_seat_casualties_fell_as_published() -> None:
    front, _rear = seatbelts()
    output = evaluate_series(
        treated=AreaSeries("front", "Front-seat passengers", front),
        comparisons=[],
        start=LAW,
        first=date(1969, 1, 1),
        last=date(1984, 12, 1),
        options=Options(trend=True),
    )
    data = direct_frame([("front", front, True)], LAW)
    direct = smf.glm("count ~ post + C(moy) + t", data, family=sm.families.Poisson()).fit(
        scale="X2"
    )
    assert_same_effect(output, direct, "post")
    # Harvey and Durbin (1986) estimate a fall of about a quarter in front-seat casualties; this
    # simpler model (trend and season, no petrol price or distance driven) finds about a fifth,
    # clearly below no change.
    assert 0.70 < output["rate_ratio"] < 0.85
    assert output["ci_high"] < 0.9
    assert output["quasi_poisson"]  # monthly casualties vary far more than Poisson
    assert (output["n_pre"], output["n_post"]) == (169, 23)


def test_seat_belt_law_against_rear_seat_passengers_whom_it_did_not_cover() -> None:
    front, rear = seatbelts()
    output = evaluate_series(
        treated=AreaSeries("front", "Front-seat passengers", front),
        comparisons=[AreaSeries("rear", "Rear-seat passengers", rear)],
        start=LAW,
        first=date(1969, 1, 1),
        last=date(1984, 12, 1),
        options=Options(trend=True),
    )
    # Rear-seat passengers, not covered by the 1983 law, did not fall: their own ratio is
    # about 1, and the front seat's fall beside them is larger than its fall alone.
    assert output["comparisons"][0]["ratio"] > 0.95
    assert output["ci_high"] < 0.75
    assert not any("months after" in warning for warning in output["warnings"])


# --- Refusals ------------------------------------------------------------------------------


def test_a_missing_month_is_refused_naming_it_not_read_as_zero() -> None:
    counts = simulate(seed=1, level=10, effect=1.0)
    del counts[date(2016, 3, 1)], counts[date(2017, 8, 1)]
    with pytest.raises(
        EvaluationRefused, match=r"Testville has no monthly figure for 2016-03, 2017-08"
    ):
        run(counts)


def test_a_missing_month_in_a_comparison_area_is_refused() -> None:
    other = simulate(seed=2, level=10, effect=1.0)
    del other[date(2011, 1, 1)]
    with pytest.raises(EvaluationRefused, match=r"Otherton has no monthly figure for 2011-01"):
        run(
            simulate(seed=3, level=10, effect=1.0), comparisons=[AreaSeries("o", "Otherton", other)]
        )


def test_an_intervention_month_without_months_before_it_is_refused() -> None:
    with pytest.raises(EvaluationRefused, match="months before and after"):
        run(simulate(seed=4, level=10, effect=1.0), start=FIRST)


def test_a_population_offset_without_every_year_s_population_is_refused() -> None:
    populations = dict.fromkeys(range(2010, 2018), 100000)
    with pytest.raises(EvaluationRefused, match=r"no population for 2018, 2019"):
        evaluate_series(
            treated=AreaSeries(
                "city", "Testville", simulate(seed=5, level=10, effect=1.0), populations
            ),
            comparisons=[],
            start=START,
            first=FIRST,
            last=LAST,
            options=Options(population_offset=True),
        )


def test_no_event_on_one_side_of_the_start_is_refused() -> None:
    counts = {month: (3 if month < START else 0) for month in months_between(FIRST, LAST)}
    with pytest.raises(EvaluationRefused, match="no event in the months after the intervention"):
        run(counts)
    other = dict.fromkeys(months_between(FIRST, LAST), 0)
    with pytest.raises(EvaluationRefused, match="Otherton has no event in the months before"):
        run(
            simulate(seed=10, level=10, effect=1.0),
            comparisons=[AreaSeries("o", "Otherton", other)],
        )


# --- Warnings --------------------------------------------------------------------------------


def test_fewer_than_24_months_before_or_12_after_are_warned() -> None:
    counts = simulate(seed=6, level=20, effect=1.0)
    short = run(counts, first=date(2014, 1, 1), last=date(2015, 6, 1))
    assert any("Only 12 months before" in warning for warning in short["warnings"])
    assert any("Only 6 months after" in warning for warning in short["warnings"])
    enough = run(counts, first=date(2013, 1, 1), last=date(2015, 12, 1))
    assert not any(warning.startswith("Only") for warning in enough["warnings"])


def test_a_window_starting_or_ending_in_2020_or_2021_is_warned() -> None:
    counts = {
        month: 10 + month.month % 3 for month in months_between(date(2016, 1, 1), date(2021, 12, 1))
    }
    spike = run(counts, first=date(2016, 1, 1), last=date(2021, 12, 1), start=date(2019, 1, 1))
    assert any("ends in 2020\u20132021" in warning for warning in spike["warnings"])
    counts.update(dict.fromkeys(months_between(date(2022, 1, 1), date(2023, 12, 1)), 10))
    clear = run(counts, first=date(2016, 1, 1), last=date(2022, 12, 1), start=date(2019, 1, 1))
    assert not any("2020\u20132021" in warning for warning in clear["warnings"])
    starts = run(counts, first=date(2020, 1, 1), last=date(2023, 12, 1), start=date(2022, 1, 1))
    assert any("starts in 2020\u20132021" in warning for warning in starts["warnings"])


def test_counts_too_small_to_say_anything_are_warned() -> None:
    rare = simulate(seed=7, level=0.5, effect=1.0)
    output = run(rare, first=date(2014, 1, 1), last=date(2015, 12, 1))
    assert output["ci_low"] < 0.5 and output["ci_high"] > 1.5
    assert any("too small to say anything" in warning for warning in output["warnings"])
    plenty = run(simulate(seed=8, level=40, effect=1.0))
    assert not any("too small" in warning for warning in plenty["warnings"])


def test_warnings_from_the_caller_are_kept() -> None:
    inside = warning("comparison_inside", comparison="Eastside", area="Testville")
    output = run(simulate(seed=9, level=20, effect=1.0), extra_warnings=[inside])
    assert output["warnings"][-1].startswith("Eastside is part of Testville: ")
    assert output["warning_codes"][-1] == inside


def test_warnings_are_kept_in_english_and_as_codes_shown_in_the_readers_language() -> None:
    with translation.override("es"):  # a fit while Spanish is active still keeps English
        output = run(simulate(seed=10, level=20, effect=1.0), first=date(2014, 1, 1))
    assert output["warnings"][0].startswith("Only 12 months before the intervention (24 or more")
    assert output["warning_codes"][0]["code"] == "few_months_before"
    with translation.override("es"):
        assert warning_texts(output)[0].startswith("Solo hay 12 meses antes de la intervención")
    # A result cached before the codes existed shows its sentences as they are.
    assert warning_texts({"warnings": ["An older warning."]}) == ["An older warning."]


# --- The sentence ----------------------------------------------------------------------------


def test_the_sentence_names_the_drop_its_interval_the_comparisons_and_the_window() -> None:
    output = {
        "rate_ratio": 0.62,
        "ci_low": 0.44,
        "ci_high": 0.88,
        "area_name": "Bakersfield",
        "comparisons": [{"name": "Fresno"}, {"name": "Stockton"}],
        "options": {"slope_change": False},
        "window_from": "2014-01",
        "window_to": "2024-12",
    }
    assert sentence(output, "Homicides") == (
        "Homicides in Bakersfield were 38 % lower than the model expects without the program "
        "(95 % CI 12 % to 56 % lower), compared with Fresno and Stockton; monthly data "
        "2014-01 to 2024-12."
    )
    output.update(rate_ratio=1.1, ci_low=0.8, ci_high=1.5, comparisons=[])
    assert "(95 % CI from 20 % lower to 50 % higher)" in sentence(output, "Homicides")
