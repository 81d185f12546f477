"""The evaluation from the database: `manage.py evaluate` (its JSON, its exit statuses and
one-line refusals), the Evaluate page (who may see it, what it shows, its downloads), the
refusals and warnings that need the area table, and the cache per (inputs, data version)."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from unittest import mock

import numpy as np
import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from interventions.access import ANALYST_GROUP
from interventions.audit.models import AuditEvent
from interventions.models import Area, ReminderPreference
from metrics import evaluation, services
from metrics.evaluation import months_between
from metrics.models import AreaPopulation, CrimeOutcome
from tests.factories import AreaFactory, UserFactory

EVALUATE = reverse("metrics:evaluate")
SEASON = [0.8, 0.75, 0.9, 1.0, 1.1, 1.25, 1.35, 1.3, 1.1, 1.0, 0.9, 0.85]
FIRST, LAST, START = date(2012, 1, 1), date(2019, 12, 1), date(2016, 1, 1)


def monthly(area: Area, counts: dict[date, int], measure: str = "homicide") -> None:
    CrimeOutcome.objects.bulk_create(
        CrimeOutcome(
            area=area,
            period_start=month,
            granularity="month",
            measure=measure,
            count=count,
            source="Test police, monthly",
        )
        for month, count in counts.items()
    )


def simulated(seed: int, level: float, effect: float) -> dict[date, int]:
    rng = np.random.default_rng(seed)
    return {
        month: int(rng.poisson(level * SEASON[month.month - 1] * (effect if month >= START else 1)))
        for month in months_between(FIRST, LAST)
    }


@pytest.fixture
def city(db: None) -> Area:
    area = AreaFactory(name="Testville", slug="testville")
    monthly(area, simulated(1, 20, 0.6))
    return area


@pytest.fixture
def others(city: Area) -> list[Area]:
    areas = [AreaFactory(name=f"Other {i}", slug=f"other-{i}") for i in range(2)]
    for i, area in enumerate(areas):
        monthly(area, simulated(10 + i, 15, 1.0))
    return areas


def run_json(*args: str) -> dict:
    out = io.StringIO()
    call_command("evaluate", *args, "--format", "json", stdout=out)
    return json.loads(out.getvalue())


FIELDS = {
    "rate_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "percent_change",
    "n_months",
    "n_pre",
    "n_post",
    "dispersion",
    "model",
    "warnings",
    "series",
}


# --- The command ---------------------------------------------------------------------------


def test_command_prints_the_result_as_one_json_object_with_every_field(city: Area) -> None:
    result = run_json("--area", "testville", "--measure", "homicide", "--start", "2016-01")
    assert set(result) >= FIELDS
    assert (result["n_months"], result["n_pre"], result["n_post"]) == (96, 48, 48)
    assert result["ci_low"] < 0.6 < result["ci_high"]
    assert result["window_from"] == "2012-01" and result["window_to"] == "2019-12"
    assert set(result["series"][0]) == {"month", "observed", "fitted", "counterfactual"}
    assert isinstance(result["warnings"], list)


def test_command_options_reach_the_model(city: Area, others: list[Area]) -> None:
    result = run_json(
        "--area", "testville", "--measure", "homicide", "--start", "2016-01",
        "--from", "2013-01", "--to", "2019-06",
        "--comparison", "other-0", "other-1", "--trend", "--slope-change", "--negbin",
    )  # fmt: skip
    assert result["model"].startswith(
        "count ~ C(area, Treatment(reference='testville')) + C(month_of_year) + post + "
        "treated:post + t + t_after + treated:t_after; family negative binomial"
    )
    assert result["n_months"] == 78
    assert [c["area"] for c in result["comparisons"]] == ["other-0", "other-1"]
    assert result["trend_change"] is not None
    repeated = run_json(
        "--area", "testville", "--measure", "homicide", "--start", "2016-01",
        "--comparison", "other-1", "--comparison", "other-0",
    )  # fmt: skip
    assert [c["area"] for c in repeated["comparisons"]] == ["other-1", "other-0"]


def test_command_text_output_is_the_sentence_and_the_numbers(city: Area) -> None:
    out = io.StringIO()
    call_command(
        "evaluate", "--area", "testville", "--measure", "homicide", "--start", "2016-01", stdout=out
    )
    text = out.getvalue()
    assert text.startswith("Homicides in Testville were ")
    assert "rate ratio " in text and "months 96 (48 before, 48 after)" in text


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--area", "nowhere"], "Unknown area: nowhere."),
        (["--area", "testville", "--comparison", "elsewhere"], "Unknown area: elsewhere."),
        (["--area", "testville", "--measure", "robbery"], "Unknown measure “robbery”"),
        (["--area", "testville", "--from", "2011-01"], "no monthly figure for 2011-01, 2011-02"),
        (["--area", "testville", "--start", "2012-01"], "months before and after"),
        (["--area", "testville", "--population-offset"], "no population for 2012, 2013"),
        (["--area", "testville", "--comparison", "testville"], "cannot also be a comparison"),
        (["--area", "testville", "--start", "2016-13"], "“2016-13” is not a month like"),
        (
            ["--area", "testville", "--from", "2018-01", "--to", "2017-01"],
            "The window's last month is before its first.",
        ),
    ],
)
def test_command_refusals_exit_2_with_one_line(city: Area, arguments: list, message: str) -> None:
    defaults = {"--measure": "homicide", "--start": "2016-01"}
    for flag, value in defaults.items():
        if flag not in arguments:
            arguments = [*arguments, flag, value]
    with pytest.raises(CommandError) as refused:
        call_command("evaluate", *arguments)
    assert refused.value.returncode == 2
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_window_that_needs_an_annual_figure_is_refused_naming_the_years(city: Area) -> None:
    CrimeOutcome.objects.bulk_create(
        CrimeOutcome(
            area=city,
            period_start=date(year, 1, 1),
            granularity="year",
            measure="homicide",
            count=200,
            source="Annual report",
        )
        for year in (2010, 2011)
    )
    with pytest.raises(CommandError) as refused:
        call_command(
            "evaluate", "--area", "testville", "--measure", "homicide", "--start", "2016-01",
            "--from", "2010-01",
        )  # fmt: skip
    assert refused.value.returncode == 2
    assert "Testville has only annual homicide figures for 2010, 2011" in str(refused.value)
    # The default window (the monthly figures) does not need them.
    assert run_json("--area", "testville", "--measure", "homicide", "--start", "2016-01")


def test_an_area_with_only_annual_figures_is_refused(db: None) -> None:
    county = AreaFactory(name="Annual County", slug="annual-county")
    CrimeOutcome.objects.create(
        area=county,
        period_start=date(2021, 1, 1),
        granularity="year",
        measure="homicide",
        count=60,
        source="Annual",
    )
    with pytest.raises(CommandError, match=r"only annual ones: 2021") as refused:
        call_command(
            "evaluate", "--area", "annual-county", "--measure", "homicide", "--start", "2022-01"
        )
    assert refused.value.returncode == 2


def test_population_offset_uses_the_area_populations(city: Area) -> None:
    AreaPopulation.objects.bulk_create(
        AreaPopulation(area=city, year=year, population=400_000 + 5_000 * (year - 2012))
        for year in range(2012, 2020)
    )
    result = run_json(
        "--area", "testville", "--measure", "homicide", "--start", "2016-01", "--population-offset"
    )
    assert "offset log(population)" in result["model"]


# --- Warnings that need the area table -------------------------------------------------------


def test_a_comparison_inside_the_program_area_or_containing_it_is_warned(city: Area) -> None:
    county = AreaFactory(name="Test County", slug="test-county", kind=Area.Kind.COUNTY)
    city.parent = county
    city.save(update_fields=["parent"])
    eastside = AreaFactory(
        name="Eastside", slug="eastside", kind=Area.Kind.NEIGHBORHOOD, parent=city
    )
    outside = AreaFactory(name="Elsewhere", slug="elsewhere")
    for i, area in enumerate([county, eastside, outside]):
        monthly(area, simulated(20 + i, 10, 1.0))
    result = run_json(
        "--area", "testville", "--measure", "homicide", "--start", "2016-01",
        "--comparison", "eastside", "test-county", "elsewhere",
    )  # fmt: skip
    assert "Eastside is part of Testville" in " ".join(result["warnings"])
    assert "Test County contains Testville" in " ".join(result["warnings"])
    assert "Elsewhere" not in " ".join(result["warnings"])


# --- The cache per (inputs, data version) ----------------------------------------------------


def test_a_second_evaluation_is_served_from_the_cache_until_a_figure_changes(city: Area) -> None:
    inputs = services.EvaluationInputs(area="testville", measure="homicide", start="2016-01")
    with mock.patch.object(evaluation, "evaluate_series", wraps=evaluation.evaluate_series) as fits:
        first = services.evaluate_outcome(inputs)
        again = services.evaluate_outcome(inputs)
        assert fits.call_count == 1 and again == first
        services.evaluate_outcome(services.EvaluationInputs(**{**inputs.as_dict(), "trend": True}))
        assert fits.call_count == 2  # other inputs, another fit
        CrimeOutcome.objects.filter(area=city, period_start=date(2018, 5, 1)).update(count=99)
        changed = services.evaluate_outcome(inputs)
        assert fits.call_count == 3 and changed["rate_ratio"] != first["rate_ratio"]


# --- The page --------------------------------------------------------------------------------


@pytest.fixture
def analyst(db: None):  # type: ignore[no-untyped-def]
    user = UserFactory(username="analyst")
    user.groups.add(Group.objects.get(name=ANALYST_GROUP))
    return user


def query(**extra: str) -> dict[str, object]:
    return {"area": "testville", "measure": "homicide", "start": "2016-01", **extra}


def test_city_admin_sees_the_sentence_table_warnings_chart_data_and_baseline(
    client, city_admin, city: Area, others: list[Area]
) -> None:
    client.force_login(city_admin)
    response = client.get(EVALUATE, {**query(), "comparisons": ["other-0", "other-1"]})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Homicides in Testville were " in html and "compared with Other 0 and Other 1" in html
    assert 'id="evaluation-table"' in html and "Pearson dispersion" in html
    assert "treated:post" in html
    p_value = response.context["result"]["p_value"]
    assert response.context["p_value_text"] == ("< 0.0001" if p_value < 1e-4 else f"{p_value:.4f}")
    assert "0.0000" not in html
    data = response.context["chart"]
    assert len(data["labels"]) == len(data["observed"]) == len(data["counterfactual"]) == 96
    assert 'id="evaluation-data"' in html and "<script>" not in html  # no inline script
    baseline = response.context["baseline"]
    assert (baseline["baseline_year"], baseline["comparison_year"]) == (2015, 2019)
    assert "Beside it: the simple change against a baseline year" in html


def test_analyst_may_evaluate_and_an_outreach_worker_may_not(
    client, analyst, worker, city: Area
) -> None:
    client.force_login(analyst)
    assert client.get(EVALUATE, query()).status_code == 200
    client.force_login(worker)
    assert client.get(EVALUATE, query()).status_code == 403


def test_a_manager_evaluates_only_the_areas_their_organisation_serves(
    client, org_a, city: Area, others: list[Area]
) -> None:
    org_a.organization.areas_served.add(city)
    client.force_login(org_a.manager)
    served = client.get(EVALUATE, {**query(), "comparisons": ["other-0"]})
    assert served.status_code == 200 and "compared with Other 0" in served.content.decode()
    elsewhere = client.get(EVALUATE, query(area="other-1"))
    assert elsewhere.status_code == 400
    assert "area" in elsewhere.context["form"].errors


def test_a_refusal_is_shown_as_a_message(client, city_admin, city: Area) -> None:
    client.force_login(city_admin)
    response = client.get(EVALUATE, query(window_from="2011-06"))
    assert response.status_code == 400
    assert "Testville has no monthly figure for 2011-06" in response.content.decode()


def test_the_page_without_a_question_shows_the_form(client, city_admin, city: Area) -> None:
    client.force_login(city_admin)
    response = client.get(EVALUATE)
    assert response.status_code == 200 and "result" not in response.context


def test_csv_of_the_series_and_json_of_the_result_are_audited(
    client, city_admin, city: Area
) -> None:
    client.force_login(city_admin)
    series = client.get(reverse("metrics:evaluate_csv"), query())
    rows = list(csv.reader(io.StringIO(series.content.decode("utf-8-sig"))))
    assert rows[0] == ["month", "observed", "fitted", "counterfactual"] and len(rows) == 97
    result = client.get(reverse("metrics:evaluate_json"), query()).json()
    assert set(result) >= FIELDS
    assert [row[1] for row in rows[1:]] == [str(row["observed"]) for row in result["series"]]
    events = AuditEvent.objects.filter(object_type="evaluation_export").order_by("pk")
    assert [event.detail["format"] for event in events] == ["csv", "json"]
    assert events[0].detail["area"] == "testville"


def test_a_spanish_reader_sees_the_warnings_in_spanish_and_the_json_stays_english(
    city_admin, city: Area
) -> None:
    ReminderPreference.objects.create(user=city_admin, language="es")
    spanish = Client(HTTP_ACCEPT_LANGUAGE="en")  # the saved preference decides
    spanish.force_login(city_admin)
    asked = query(window_from="2015-01")  # 12 months before the start: a warning
    try:
        # The Spanish page fits and caches the result; the download reads it from the cache.
        page = spanish.get(EVALUATE, asked).content.decode()
        result = spanish.get(reverse("metrics:evaluate_json"), asked).json()
        ReminderPreference.objects.filter(user=city_admin).update(language="en")
        reader = Client(HTTP_ACCEPT_LANGUAGE="es")
        reader.force_login(city_admin)
        english = reader.get(EVALUATE, asked).content.decode()
    finally:
        translation.deactivate()
    assert "Solo hay 12 meses antes de la intervención (se necesitan 24 o más" in page
    assert "Only 12 months before" not in page
    assert "Only 12 months before the intervention (24 or more" in result["warnings"][0]
    assert not any("Solo hay" in warning for warning in result["warnings"])
    assert result["warning_codes"][0] == {
        "code": "few_months_before",
        "params": {"months": 12, "needed": 24},
    }
    assert "Only 12 months before the intervention" in english and "Solo hay" not in english


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_long_fit_goes_to_a_worker_and_the_page_says_so(
    client, city_admin, city: Area, others: list[Area], django_capture_on_commit_callbacks
) -> None:
    client.force_login(city_admin)
    with (
        mock.patch.object(services, "LONG_FIT_ROWS", 100),
        mock.patch("metrics.tasks.run_evaluation.delay") as delay,
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.get(EVALUATE, {**query(), "comparisons": ["other-0"]})
        assert response.status_code == 202
        assert "Fitting the model" in response.content.decode()
        assert 'http-equiv="refresh"' in response.content.decode()
        assert delay.call_count == 1
        # A second look while it runs queues nothing more.
        with django_capture_on_commit_callbacks(execute=True):
            client.get(EVALUATE, {**query(), "comparisons": ["other-0"]})
        assert delay.call_count == 1
        # The worker's run stores the result; the page then shows it.
        inputs = delay.call_args.args[0]
        from metrics.tasks import run_evaluation

        assert run_evaluation.run(inputs) is True
        shown = client.get(EVALUATE, {**query(), "comparisons": ["other-0"]})
    assert shown.status_code == 200 and "compared with Other 0" in shown.content.decode()


def test_the_page_s_queries_do_not_grow_with_the_window_or_the_areas(
    client, city_admin, city: Area, others: list[Area], django_assert_max_num_queries
) -> None:
    client.force_login(city_admin)
    short = {**query(), "window_from": "2015-01", "window_to": "2016-12"}
    long = {**query(), "comparisons": ["other-0", "other-1"]}
    for asked in (short, long):
        client.get(EVALUATE, asked)  # fitted and cached
        with django_assert_max_num_queries(9):
            assert client.get(EVALUATE, asked).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_command_s_exit_status_and_output_as_a_script_sees_them() -> None:
    """Run as a process, the way an analyst's script calls it: JSON on stdout and status 0, or
    status 2 and one line on stderr."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.metrics.test_celery_worker import _test_database_url

    area = AreaFactory(name="Scriptville", slug="scriptville")
    monthly(area, simulated(3, 20, 0.7))
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "CELERY_BROKER_URL": ""}
    command = [sys.executable, "manage.py", "evaluate", "--measure", "homicide", "--start"]
    base = Path(__file__).resolve().parents[2]
    fitted = subprocess.run(  # noqa: S603 - our own interpreter and manage.py
        [*command, "2016-01", "--area", "scriptville", "--format", "json"],
        cwd=base, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert fitted.returncode == 0, fitted.stderr
    assert set(json.loads(fitted.stdout)) >= FIELDS
    refused = subprocess.run(  # noqa: S603
        [*command, "2016-01", "--area", "nowhere", "--format", "json"],
        cwd=base, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert refused.returncode == 2
    assert refused.stdout == ""
    assert refused.stderr.strip().splitlines() == ["CommandError: Unknown area: nowhere."]
