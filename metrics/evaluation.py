"""Interrupted time series (ITS) and difference-in-differences (DiD) on monthly counts: the
statistics only, pure functions over monthly series (no database, no HTTP), so the page, the
command, the Celery task and the tests all run exactly the same fit.

Why this design, for a reader who has run such analyses in R:
1. Monthly counts, a GLM with a log link: Poisson by default, negative binomial (NB2, its
   alpha by maximum likelihood as R's glm.nb estimates theta = 1/alpha) on request (`negbin`).
   Month-of-year effects (`C(month_of_year)`) take out the season; `post` is 1 from the
   intervention month on, so exp(coef of post) is the rate ratio after against before.
2. Over-dispersion is measured, never assumed away: the Pearson dispersion (Pearson chi-squared
   over residual degrees of freedom) is always reported, and above 1.5 the Poisson fit is
   refitted with quasi-Poisson standard errors (scale = Pearson chi-squared / df), as R's
   `quasipoisson` does. The coefficients do not change, the interval widens.
3. `trend` adds a linear time term `t` (months since the window's first month). `slope_change`
   adds `t_after` = months since the intervention month from then on (0 before), which is
   `t x post` with t measured from the intervention month, so the `post` coefficient stays the
   level change at the intervention month and `t_after` is the change in monthly trend. A slope
   change without a trend before it cannot be read, so `slope_change` brings `trend` with it.
4. With comparison areas: one row per area and month, `C(area)` for each area's own level, a
   shared season and `post` (what happened everywhere after the start), and `treated:post`,
   the program area's extra change: the difference-in-differences estimate.
5. A population offset (log population of the month's year) turns counts into rates.
6. Intervals are Wald intervals (estimate +/- 1.96 standard errors on the log scale), as R's
   `confint.default`; p-values from the same normal approximation.
7. Missing months are refused, never read as zero: a month nobody published is not a month with
   no homicides.
"""

from __future__ import annotations

import math
import warnings as python_warnings
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import statsmodels.api as sm
import statsmodels.formula.api as smf
from django.utils import translation
from django.utils.translation import gettext, ngettext
from scipy.optimize import minimize_scalar
from scipy.special import gammaln

from interventions.dates import months_between as months_between  # part of this module's API

DISPERSION_LIMIT = 1.5
MIN_MONTHS_BEFORE = 24
MIN_MONTHS_AFTER = 12
SPIKE_YEARS = (2020, 2021)
# "Too small to say anything": the interval holds both a halving and a 1.5-fold rise.
UNINFORMATIVE_LOW, UNINFORMATIVE_HIGH = 0.5, 1.5
Z_95 = 1.959963984540054
MAX_LOG_SE = 10.0


class EvaluationRefused(Exception):
    """The analysis cannot be run on these inputs; the message says why, in one line."""


CodedWarning = dict[str, Any]
"""A warning as the result keeps it: {"code": ..., "params": {...}}, plain JSON, so a result
fitted once (by a worker, with no language active) and cached reads in any language; the
sentence is made when it is shown (`warning_text`)."""


@dataclass(frozen=True)
class Options:
    trend: bool = False
    slope_change: bool = False
    negbin: bool = False
    population_offset: bool = False

    @property
    def with_trend(self) -> bool:
        return self.trend or self.slope_change


@dataclass(frozen=True)
class AreaSeries:
    """One area's monthly counts over the window (first days of months) and, for a population
    offset, its population by year."""

    key: str
    name: str
    counts: dict[date, int]
    populations: dict[int, int] = field(default_factory=dict)


def month_label(month: date) -> str:
    return f"{month:%Y-%m}"


def _months_apart(first: date, later: date) -> int:
    return (later.year - first.year) * 12 + later.month - first.month


def _list_months(months: list[date], limit: int = 12) -> str:
    labels = [month_label(month) for month in months]
    if len(labels) > limit:
        more = len(labels) - limit
        return ngettext("%(months)s and %(count)s more", "%(months)s and %(count)s more", more) % {
            "months": ", ".join(labels[:limit]),
            "count": more,
        }
    return ", ".join(labels)


def frame(
    *,
    treated: AreaSeries,
    comparisons: list[AreaSeries],
    start: date,
    first: date,
    last: date,
    options: Options,
) -> pd.DataFrame:
    """The model's data: one row per area and month. Refuses a window with a missing month or,
    for a population offset, a year without a population."""
    months = months_between(first, last)
    if not first < start <= last:
        raise EvaluationRefused(
            gettext(
                "The intervention month %(start)s must fall after the window's first month "
                "(%(first)s) and no later than its last (%(last)s), so that there are months "
                "before and after it."
            )
            % {"start": month_label(start), "first": month_label(first), "last": month_label(last)}
        )
    rows: list[dict[str, Any]] = []
    start_t = _months_apart(first, start)
    for series in [treated, *comparisons]:
        missing = [month for month in months if month not in series.counts]
        if missing:
            raise EvaluationRefused(
                gettext(
                    "%(area)s has no monthly figure for %(months)s: add them or choose a window "
                    "without them (a missing month is not read as zero)."
                )
                % {"area": series.name, "months": _list_months(missing)}
            )
        if options.population_offset:
            years = sorted({month.year for month in months if month.year not in series.populations})
            if years:
                raise EvaluationRefused(
                    gettext(
                        "%(area)s has no population for %(years)s: a population offset needs "
                        "one for every year of the window."
                    )
                    % {"area": series.name, "years": ", ".join(map(str, years))}
                )
        for month in months:
            t = _months_apart(first, month)
            post = int(month >= start)
            row: dict[str, Any] = {
                "area": series.key,
                "month": month,
                "count": series.counts[month],
                "treated": int(series is treated),
                "month_of_year": month.month,
                "t": t,
                "post": post,
                "t_after": (t - start_t) * post,
            }
            if options.population_offset:
                row["log_population"] = math.log(series.populations[month.year])
            rows.append(row)
    return pd.DataFrame(rows)


def formula(*, with_comparisons: bool, options: Options, treated_key: str = "") -> str:
    if with_comparisons:
        # The program's area is the reference level, so C(area) holds each comparison's own level.
        terms = [
            f"C(area, Treatment(reference={treated_key!r}))",
            "C(month_of_year)",
            "post",
            "treated:post",
        ]
        if options.with_trend:
            terms.append("t")
        if options.slope_change:
            terms += ["t_after", "treated:t_after"]
    else:
        terms = ["post", "C(month_of_year)"]
        if options.with_trend:
            terms.append("t")
        if options.slope_change:
            terms.append("t_after")
    return "count ~ " + " + ".join(terms)


def effect_terms(*, with_comparisons: bool) -> tuple[str, str]:
    """The program's level term and its trend-change term."""
    if with_comparisons:
        return "treated:post", "treated:t_after"
    return "post", "t_after"


@dataclass
class Fit:
    result: Any
    family: str
    scale_note: str
    dispersion: float
    alpha: float | None


def fit_glm(data: pd.DataFrame, model_formula: str, options: Options) -> Fit:
    """The GLM as described in the module docstring. Exposed so the tests can check it against
    statsmodels fitted directly."""
    offset = data["log_population"].to_numpy() if options.population_offset else None
    with python_warnings.catch_warnings():
        # statsmodels warns about convergence on tiny or degenerate series; the result's own
        # numbers (and the warnings this module raises) say what matters to a reader.
        python_warnings.simplefilter("ignore")
        if options.negbin:
            result, alpha = _negative_binomial(data, model_formula, offset)
            dispersion = float(result.pearson_chi2 / result.df_resid)
            name = f"negative binomial (NB2, alpha = {alpha:.4g})"
            return Fit(result, name, "", dispersion, alpha)
        result = smf.glm(model_formula, data, family=sm.families.Poisson(), offset=offset).fit()
        dispersion = float(result.pearson_chi2 / result.df_resid)
        if dispersion > DISPERSION_LIMIT:
            result = smf.glm(model_formula, data, family=sm.families.Poisson(), offset=offset).fit(
                scale="X2"
            )
            return Fit(
                result,
                "quasi-Poisson",
                "standard errors scaled by the Pearson dispersion (scale = Pearson chi2/df)",
                dispersion,
                None,
            )
        return Fit(result, "Poisson", "", dispersion, None)


def _nb_log_likelihood(log_alpha: float, counts: np.ndarray, mu: np.ndarray) -> float:
    """The NB2 log-likelihood of the counts given their means, as a function of alpha."""
    size = 1 / math.exp(log_alpha)
    return float(
        np.sum(
            gammaln(counts + size)
            - gammaln(size)
            - gammaln(counts + 1)
            + size * np.log(size / (size + mu))
            + counts * np.log(mu / (size + mu))
        )
    )


def _negative_log_likelihood(log_alpha: float, *, counts: np.ndarray, mu: np.ndarray) -> float:
    return -_nb_log_likelihood(log_alpha, counts, mu)


def _negative_binomial(
    data: pd.DataFrame, model_formula: str, offset: np.ndarray | None
) -> tuple[Any, float]:
    """NB2 by maximum likelihood, the way R's glm.nb does it: alternate the GLM fit for the
    coefficients at a given alpha with the maximum-likelihood alpha at the fitted means, until
    alpha settles. Each step is a fast IRLS fit and a one-dimensional search, so a
    difference-in-differences over 10 areas and 180 months stays well under a second. alpha
    is searched between 1e-8 (Poisson, in effect) and 20."""
    poisson = smf.glm(model_formula, data, family=sm.families.Poisson(), offset=offset).fit()
    # The design matrix is built once from the formula; each step refits on it directly.
    exog = pd.DataFrame(poisson.model.exog, columns=poisson.model.exog_names)
    counts = poisson.model.endog

    def fit_at(alpha: float) -> Any:
        family = sm.families.NegativeBinomial(alpha=alpha)
        return sm.GLM(counts, exog, family=family, offset=offset).fit()

    result, alpha = poisson, 1.0
    for _ in range(50):
        means = np.clip(result.fittedvalues.to_numpy(), 1e-10, None)
        search = minimize_scalar(
            partial(_negative_log_likelihood, counts=counts, mu=means),
            bounds=(math.log(1e-8), math.log(20.0)),
            method="bounded",
            options={"xatol": 1e-8},
        )
        new_alpha = math.exp(float(search.x))
        result = fit_at(new_alpha)
        settled = abs(new_alpha - alpha) <= 1e-7 + 1e-6 * alpha
        alpha = new_alpha
        if settled:
            break
    return result, alpha


def _ratio(result: Any, term: str) -> dict[str, float]:
    coef = float(result.params[term])
    se = float(result.bse[term])
    return {
        "rate_ratio": math.exp(coef),
        "ci_low": math.exp(coef - Z_95 * se),
        "ci_high": math.exp(coef + Z_95 * se),
        "p_value": float(result.pvalues[term]),
        "coefficient": coef,
        "standard_error": se,
    }


def _pre_post(series: AreaSeries, months: list[date], start: date) -> dict[str, Any]:
    """An area's own before/after: counts and months, and the ratio of monthly means."""
    before = [series.counts[m] for m in months if m < start]
    after = [series.counts[m] for m in months if m >= start]
    mean_before = sum(before) / len(before)
    mean_after = sum(after) / len(after)
    return {
        "area": series.key,
        "name": series.name,
        "count_before": sum(before),
        "months_before": len(before),
        "count_after": sum(after),
        "months_after": len(after),
        "ratio": (mean_after / mean_before) if mean_before else None,
    }


def _pct(ratio: float) -> str:
    return f"{abs(ratio - 1) * 100:.0f} %"


def evaluate_series(
    *,
    treated: AreaSeries,
    comparisons: list[AreaSeries],
    start: date,
    first: date,
    last: date,
    options: Options,
    extra_warnings: list[CodedWarning] | None = None,
) -> dict[str, Any]:
    """Fit the model and return the result in the one shape the page, the JSON, the command and
    the cache share. Raises EvaluationRefused with a one-line reason."""
    data = frame(
        treated=treated,
        comparisons=comparisons,
        start=start,
        first=first,
        last=last,
        options=options,
    )
    # With no event on one side of the start the rate ratio is 0 or infinite and its interval
    # undefined: say so instead of printing a number.
    for series_ in [treated, *comparisons]:
        before = sum(count for month, count in series_.counts.items() if month < start)
        after = sum(count for month, count in series_.counts.items() if month >= start)
        if before == 0:
            raise EvaluationRefused(
                gettext(
                    "%(area)s has no event in the months before the intervention month: a rate "
                    "ratio cannot be estimated from zero counts."
                )
                % {"area": series_.name}
            )
        if after == 0:
            raise EvaluationRefused(
                gettext(
                    "%(area)s has no event in the months after the intervention month: a rate "
                    "ratio cannot be estimated from zero counts."
                )
                % {"area": series_.name}
            )
    with_comparisons = bool(comparisons)
    model_formula = formula(
        with_comparisons=with_comparisons, options=options, treated_key=treated.key
    )
    fit = fit_glm(data, model_formula, options)
    result = fit.result
    level_term, trend_term = effect_terms(with_comparisons=with_comparisons)
    # A standard error this large (a factor of e^20 either way) means the model did not
    # identify the effect, whatever the optimiser reported.
    if not np.isfinite(result.bse[level_term]) or result.bse[level_term] > MAX_LOG_SE:
        raise EvaluationRefused(gettext("The model could not be estimated on these counts."))
    effect = _ratio(result, level_term)

    months = months_between(first, last)
    n_pre = sum(1 for month in months if month < start)
    n_post = len(months) - n_pre

    # Fitted and counterfactual for the program's area: the counterfactual is the same fit with
    # the program's terms (its level change, and its trend change) set to zero.
    exog = pd.DataFrame(result.model.exog, columns=result.model.exog_names)
    program_terms = [level_term, *([trend_term] if options.slope_change else [])]
    counterfactual_exog = exog.copy()
    for term in program_terms:
        counterfactual_exog[term] = 0.0
    offset = data["log_population"].to_numpy() if options.population_offset else 0.0
    params = result.params.to_numpy()
    fitted = np.exp(exog.to_numpy() @ params + offset)
    counterfactual = np.exp(counterfactual_exog.to_numpy() @ params + offset)
    treated_rows = (data["treated"] == 1).to_numpy()
    series = [
        {
            "month": month_label(month),
            "observed": int(observed),
            "fitted": round(float(fit_value), 3),
            "counterfactual": round(float(cf_value), 3),
        }
        for month, observed, fit_value, cf_value in zip(
            data.loc[treated_rows, "month"],
            data.loc[treated_rows, "count"],
            fitted[treated_rows],
            counterfactual[treated_rows],
            strict=True,
        )
    ]

    family = fit.family + (f"; {fit.scale_note}" if fit.scale_note else "")
    offset_text = "; offset log(population)" if options.population_offset else ""
    trend_note = (
        "; slope_change brings a linear trend (t) with it"
        if options.slope_change and not options.trend
        else ""
    )
    output: dict[str, Any] = {
        "rate_ratio": effect["rate_ratio"],
        "ci_low": effect["ci_low"],
        "ci_high": effect["ci_high"],
        "p_value": effect["p_value"],
        "percent_change": (effect["rate_ratio"] - 1) * 100,
        "n_months": len(months),
        "n_pre": n_pre,
        "n_post": n_post,
        "dispersion": fit.dispersion,
        "model": f"{model_formula}; family {family}; log link{offset_text}{trend_note}; "
        "Wald 95 % intervals",
        "warnings": [],
        "series": series,
        # Beyond the fields every evaluation has: what the reader needs to read it.
        "effect_term": level_term,
        "formula": model_formula,
        "family": fit.family,
        "quasi_poisson": fit.family == "quasi-Poisson",
        "negbin_alpha": fit.alpha,
        "area": treated.key,
        "area_name": treated.name,
        "start": month_label(start),
        "window_from": month_label(first),
        "window_to": month_label(last),
        "options": {
            "trend": options.trend,
            "slope_change": options.slope_change,
            "negbin": options.negbin,
            "population_offset": options.population_offset,
        },
        "program_area": _pre_post(treated, months, start),
        "comparisons": [_pre_post(series_, months, start) for series_ in comparisons],
        "trend_change": None,
    }
    if options.slope_change:
        change = _ratio(result, trend_term)
        output["trend_change"] = {
            "term": trend_term,
            "monthly_rate_ratio": change["rate_ratio"],
            "ci_low": change["ci_low"],
            "ci_high": change["ci_high"],
            "p_value": change["p_value"],
            "percent_per_month": (change["rate_ratio"] - 1) * 100,
        }
    # The warnings twice: as sentences in English (the JSON download and the command print
    # them, whatever the reader's language) and as codes, for a page in the reader's language.
    codes = _warnings(output, first=first, last=last) + list(extra_warnings or [])
    output["warnings"] = english_warnings(codes)
    output["warning_codes"] = codes
    return output


def warning(code: str, **params: Any) -> CodedWarning:
    return {"code": code, "params": params}


def _warnings(output: dict[str, Any], *, first: date, last: date) -> list[CodedWarning]:
    found: list[CodedWarning] = []
    if output["n_pre"] < MIN_MONTHS_BEFORE:
        found.append(warning("few_months_before", months=output["n_pre"], needed=MIN_MONTHS_BEFORE))
    if output["n_post"] < MIN_MONTHS_AFTER:
        found.append(warning("few_months_after", months=output["n_post"], needed=MIN_MONTHS_AFTER))
    starts, ends = first.year in SPIKE_YEARS, last.year in SPIKE_YEARS
    if starts or ends:
        found.append(warning("national_spike", starts=starts, ends=ends))
    if output["quasi_poisson"]:
        found.append(
            warning("overdispersed", dispersion=output["dispersion"], limit=DISPERSION_LIMIT)
        )
    if output["ci_low"] < UNINFORMATIVE_LOW and output["ci_high"] > UNINFORMATIVE_HIGH:
        found.append(warning("uninformative", ci_low=output["ci_low"], ci_high=output["ci_high"]))
    return found


def warning_text(item: CodedWarning | str) -> str:
    """One warning as a sentence in the active language. A plain string (a result cached before
    warnings had codes) is shown as it is."""
    if isinstance(item, str):
        return item
    code, params = item["code"], item["params"]
    if code == "few_months_before":
        return (
            ngettext(
                "Only %(months)s month before the intervention (%(needed)s or more are needed to "
                "know the level and the season before it).",
                "Only %(months)s months before the intervention (%(needed)s or more are needed to "
                "know the level and the season before it).",
                params["months"],
            )
            % params
        )
    if code == "few_months_after":
        return (
            ngettext(
                "Only %(months)s month after the intervention (%(needed)s or more are needed "
                "before an effect can be told from a few unusual months).",
                "Only %(months)s months after the intervention (%(needed)s or more are needed "
                "before an effect can be told from a few unusual months).",
                params["months"],
            )
            % params
        )
    if code == "national_spike":
        # The years go in as a value: the en dash stays out of the msgid, which GNU xgettext
        # would read as the six characters of its escape.
        years = {"years": f"{SPIKE_YEARS[0]}\u2013{SPIKE_YEARS[-1]}"}
        if params["starts"] and params["ends"]:
            text = gettext(
                "The window starts and ends in %(years)s, the national homicide spike: a "
                "before/after comparison that starts or ends at a national peak or trough "
                "mostly measures the national swing."
            )
        elif params["starts"]:
            text = gettext(
                "The window starts in %(years)s, the national homicide spike: a before/after "
                "comparison that starts or ends at a national peak or trough mostly measures "
                "the national swing."
            )
        else:
            text = gettext(
                "The window ends in %(years)s, the national homicide spike: a before/after "
                "comparison that starts or ends at a national peak or trough mostly measures "
                "the national swing."
            )
        return text % years
    if code == "overdispersed":
        return gettext(
            "The counts vary more than a Poisson model allows (Pearson dispersion "
            "%(dispersion)s > %(limit)s): quasi-Poisson standard errors are used, which widens "
            "the interval."
        ) % {"dispersion": f"{params['dispersion']:.2f}", "limit": params["limit"]}
    if code == "uninformative":
        return gettext(
            "The counts are too small to say anything: the 95 %% interval runs from a "
            "%(drop)s drop to a %(rise)s rise."
        ) % {"drop": _pct(params["ci_low"]), "rise": _pct(params["ci_high"])}
    if code == "comparison_inside":
        return (
            gettext(
                "%(comparison)s is part of %(area)s: the program reaches it too, so it is no "
                "comparison; choose areas outside the program's area."
            )
            % params
        )
    if code == "comparison_contains":
        return (
            gettext(
                "%(comparison)s contains %(area)s: its counts include the program area's own, so "
                "it is no independent comparison."
            )
            % params
        )
    raise ValueError(f"Unknown evaluation warning code {code!r}")


def warning_texts(result: dict[str, Any]) -> list[str]:
    """The result's warnings as sentences in the active language (the page's)."""
    return [warning_text(item) for item in result.get("warning_codes", result["warnings"])]


def english_warnings(items: list[CodedWarning]) -> list[str]:
    """The sentences the result keeps for its JSON and the command: English whatever the
    language of the process that fitted it."""
    with translation.override("en"):
        return [warning_text(item) for item in items]


def sentence(output: dict[str, Any], measure_label: str) -> str:
    """The result in one plain sentence, with its interval, comparison and window."""
    # Whole sentences per case, so that a translation can order its words as it needs.
    ratio, low, high = output["rate_ratio"], output["ci_low"], output["ci_high"]
    if high < 1:  # both bounds a drop: the smaller drop first, as people say it
        interval = gettext("95 %% CI %(low)s to %(high)s lower") % {
            "low": _pct(high),
            "high": _pct(low),
        }
    elif low > 1:
        interval = gettext("95 %% CI %(low)s to %(high)s higher") % {
            "low": _pct(low),
            "high": _pct(high),
        }
    else:
        interval = gettext("95 %% CI from %(low)s lower to %(high)s higher") % {
            "low": _pct(low),
            "high": _pct(high),
        }
    names = [c["name"] for c in output["comparisons"]]
    compared = ""
    if names:
        joined = (
            names[0]
            if len(names) == 1
            else gettext("%(names)s and %(last)s")
            % {"names": ", ".join(names[:-1]), "last": names[-1]}
        )
        compared = gettext(", compared with %(names)s") % {"names": joined}
    at_start = output["options"]["slope_change"]
    if ratio < 1 and at_start:
        template = gettext(
            "%(measure)s in %(area)s were %(pct)s lower at the intervention month than the "
            "model expects without the program (%(interval)s)%(compared)s; monthly data "
            "%(first)s to %(last)s."
        )
    elif ratio < 1:
        template = gettext(
            "%(measure)s in %(area)s were %(pct)s lower than the model expects without the "
            "program (%(interval)s)%(compared)s; monthly data %(first)s to %(last)s."
        )
    elif at_start:
        template = gettext(
            "%(measure)s in %(area)s were %(pct)s higher at the intervention month than the "
            "model expects without the program (%(interval)s)%(compared)s; monthly data "
            "%(first)s to %(last)s."
        )
    else:
        template = gettext(
            "%(measure)s in %(area)s were %(pct)s higher than the model expects without the "
            "program (%(interval)s)%(compared)s; monthly data %(first)s to %(last)s."
        )
    return template % {
        "measure": measure_label,
        "area": output["area_name"],
        "pct": _pct(ratio),
        "interval": interval,
        "compared": compared,
        "first": output["window_from"],
        "last": output["window_to"],
    }
