"""The metrics dashboard in a real browser at 360 px: the page fits the phone, the chart draws
the incidents recorded here as their own dashed series, named after their source, beside the
official figures, and the reach table is there."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import Incident
from metrics.models import CrimeOutcome
from tests.browser.conftest import PHONE, log_in
from tests.factories import (
    TEST_PASSWORD,
    AreaFactory,
    IncidentFactory,
    ParticipantFactory,
    ResponseTaskFactory,
    SessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dashboard_on_a_phone_draws_incidents_apart_from_the_official_figures(
    phone, live_server, org_a
):
    city = AreaFactory(name="Testville", slug="testville")
    CrimeOutcome.objects.create(
        area=city,
        period_start=date(2024, 3, 1),
        granularity="month",
        measure="homicide",
        count=7,
        source="Testville police, monthly",
    )
    when = timezone.make_aware(datetime(2024, 3, 12, 12))
    incident = IncidentFactory(
        area=city, kind=Incident.Kind.HOMICIDE, victim_count=2, occurred_at=when
    )
    person = ParticipantFactory(organization=org_a.organization)
    ResponseTaskFactory(incident=incident, participant=person)
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=when + timedelta(hours=5),
        participants=[person],
    )

    log_in(phone, org_a.manager.username, TEST_PASSWORD)
    phone.goto(
        reverse("metrics:dashboard")
        + "?area=testville&start=2024-01&end=2024-06&baseline_year=2023&comparison_year=2024"
        + "&activity=area&measures=homicide&measures=nonfatal_shooting"
    )
    phone.wait_for_function("window.Chart && Chart.getChart('metrics-chart')")
    datasets = phone.evaluate(
        """Chart.getChart('metrics-chart').data.datasets.map(function (d) {
               var dashed = !!(d.borderDash && d.borderDash.length);
               return {label: d.label, data: d.data, dashed: dashed, axis: d.yAxisID};
           })"""
    )
    by_label = {d["label"]: d for d in datasets}
    official = by_label["Homicides (month)"]
    recorded = by_label["Homicides \u2014 incidents recorded in GVR Case Manager"]
    assert official["data"] == [None, None, 7, None, None, None] and not official["dashed"]
    assert recorded["data"] == [0, 0, 2, 0, 0, 0] and recorded["dashed"]
    assert recorded["axis"] == "outcomes"
    # The legend cannot wrap: on the phone every entry fits the chart, and names the source.
    legend = phone.evaluate(
        """(function () {
               var chart = Chart.getChart('metrics-chart');
               return {width: chart.width,
                       texts: chart.legend.legendItems.map(function (i) { return i.text; }),
                       right: Math.max.apply(null, chart.legend.legendHitBoxes.map(
                           function (b) { return b.left + b.width; }))};
           })()"""
    )
    assert legend["right"] <= legend["width"], legend
    assert "Non-fatal shooting victims \u2014 GVR Case Manager" in legend["texts"]
    reach = phone.locator("#reach-table tbody tr", has_text="2024-03").inner_text().split()
    assert reach == ["2024-03", "1", "1", "100.0", "100.0"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
