"""Evaluate an outcome with an interrupted time series, with or without comparison areas: the
same fit as the dashboard's Evaluate page. Exit status 0 on a fit, 2 with a one-line message on
a refusal (missing months, annual figures, unknown area or measure)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics import services
from metrics.evaluation import sentence
from metrics.models import Measure

REFUSED = 2


class Command(BaseCommand):
    help = "Interrupted time-series evaluation of a monthly outcome (Poisson or negative binomial)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="The program area's slug")
        parser.add_argument("--measure", required=True, help="homicide, nonfatal_shooting, …")
        parser.add_argument("--start", required=True, help="The intervention month, YYYY-MM")
        parser.add_argument("--from", dest="window_from", help="The window's first month")
        parser.add_argument("--to", dest="window_to", help="The window's last month")
        parser.add_argument(
            "--comparison",
            nargs="+",
            action="extend",
            default=[],
            metavar="SLUG",
            help="Comparison areas (several after one flag, or the flag repeated)",
        )
        parser.add_argument("--trend", action="store_true", help="Add a linear time trend")
        parser.add_argument(
            "--slope-change", action="store_true", help="Add a change in trend at the start"
        )
        parser.add_argument("--negbin", action="store_true", help="Negative binomial family")
        parser.add_argument(
            "--population-offset",
            action="store_true",
            help="Model rates: offset log(population) from the area populations",
        )
        parser.add_argument("--format", choices=["text", "json"], default="text")

    def handle(self, *args: Any, **options: Any) -> None:
        inputs = services.EvaluationInputs(
            area=options["area"],
            measure=options["measure"],
            start=options["start"],
            window_from=options["window_from"],
            window_to=options["window_to"],
            comparisons=tuple(options["comparison"]),
            trend=options["trend"],
            slope_change=options["slope_change"],
            negbin=options["negbin"],
            population_offset=options["population_offset"],
        )
        try:
            result = services.evaluate_outcome(inputs)
        except services.ServiceError as refusal:
            raise CommandError(str(refusal), returncode=REFUSED) from refusal
        if options["format"] == "json":
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(sentence(result, dict(Measure.choices)[inputs.measure]))
        self.stdout.write(
            f"rate ratio {result['rate_ratio']:.3f} (95 % CI {result['ci_low']:.3f} to "
            f"{result['ci_high']:.3f}), p = {result['p_value']:.3g}, percent change "
            f"{result['percent_change']:+.1f} %"
        )
        self.stdout.write(
            f"months {result['n_months']} ({result['n_pre']} before, {result['n_post']} after); "
            f"Pearson dispersion {result['dispersion']:.2f}"
        )
        if result["trend_change"]:
            change = result["trend_change"]
            self.stdout.write(
                f"change in monthly trend: x{change['monthly_rate_ratio']:.4f} per month "
                f"(95 % CI {change['ci_low']:.4f} to {change['ci_high']:.4f})"
            )
        for comparison in result["comparisons"]:
            ratio = comparison["ratio"]
            self.stdout.write(
                f"comparison {comparison['name']}: {comparison['count_before']} in "
                f"{comparison['months_before']} months before, {comparison['count_after']} in "
                f"{comparison['months_after']} after"
                + (f" (ratio of monthly means {ratio:.3f})" if ratio is not None else "")
            )
        self.stdout.write(f"model: {result['model']}")
        for warning in result["warnings"]:
            self.stdout.write(f"warning: {warning}")
