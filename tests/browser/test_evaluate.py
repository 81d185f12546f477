"""The Evaluate page in a real browser, at 360 px (a phone) and 1280 px (a desktop): the chart
draws the observed, fitted and counterfactual series with a legend that fits, under the strict
Content-Security-Policy (no inline script), and the page does not scroll sideways."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from django.urls import reverse

from metrics.evaluation import months_between
from metrics.models import CrimeOutcome
from tests.browser.conftest import log_in
from tests.factories import TEST_PASSWORD, AreaFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [360, 1280])
def test_evaluate_page_draws_observed_fitted_and_counterfactual_with_a_legend(
    chromium, live_server, org_a, width: int
) -> None:
    city = AreaFactory(name="Testville", slug="testville")
    org_a.organization.areas_served.add(city)
    rng = np.random.default_rng(5)
    months = months_between(date(2014, 1, 1), date(2019, 12, 1))
    CrimeOutcome.objects.bulk_create(
        CrimeOutcome(
            area=city,
            period_start=month,
            granularity="month",
            measure="homicide",
            count=int(rng.poisson(12 * (0.6 if month >= date(2017, 1, 1) else 1))),
            source="Testville police, monthly",
        )
        for month in months
    )
    context = chromium.new_context(
        viewport={"width": width, "height": 900}, base_url=live_server.url, is_mobile=width < 576
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    blocked: list[str] = []
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security" in message.text else None
        ),
    )
    try:
        log_in(page, org_a.manager.username, TEST_PASSWORD)
        page.goto(reverse("metrics:evaluate") + "?area=testville&measure=homicide&start=2017-01")
        assert "Homicides in Testville were" in page.locator("#evaluation-sentence").inner_text()
        page.wait_for_function("window.Chart && Chart.getChart('evaluation-chart')")
        chart = page.evaluate(
            """(function () {
                   var chart = Chart.getChart('evaluation-chart');
                   return {
                       width: chart.width,
                       labels: chart.data.labels.length,
                       datasets: chart.data.datasets.map(function (d) {
                           return {label: d.label, points: d.data.length,
                                   dashed: !!(d.borderDash && d.borderDash.length)};
                       }),
                       legend: chart.legend.legendItems.map(function (i) { return i.text; }),
                       legendShown: chart.options.plugins.legend.display !== false,
                       right: Math.max.apply(null, chart.legend.legendHitBoxes.map(
                           function (b) { return b.left + b.width; }))
                   };
               })()"""
        )
        labels = [dataset["label"] for dataset in chart["datasets"]]
        assert labels[:2] == ["Observed", "Fitted (model)"]
        assert labels[2] in ("Counterfactual (without the program)", "Without the program")
        assert all(
            dataset["points"] == len(months) == chart["labels"] for dataset in chart["datasets"]
        )
        assert chart["datasets"][2]["dashed"] and not chart["datasets"][1]["dashed"]
        assert chart["legendShown"] and chart["legend"] == labels
        assert chart["right"] <= chart["width"], chart
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert not blocked, blocked
    finally:
        context.close()
