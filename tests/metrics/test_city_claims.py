"""The city claims, checked from the counts: the group share of incidents recorded here (counts
only under 10 incidents) and the official gang-homicide share, the rank by rate per 100,000 among
areas for complete years, "lowest since", and the latest year against 2019."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from interventions.models import Area, Incident, IncidentGroup, ReminderPreference
from metrics.city_claims import build_claims
from metrics.models import AreaPopulation, CrimeOutcome
from tests.factories import AreaFactory, IncidentFactory, StreetGroupFactory

CLAIMS = reverse("metrics:claims")


def annual(area: Area, year: int, count: int, measure: str = "homicide") -> None:
    CrimeOutcome.objects.create(
        area=area,
        period_start=date(year, 1, 1),
        granularity="year",
        measure=measure,
        count=count,
        source="Annual report",
    )


def population(area: Area, year: int, people: int) -> None:
    AreaPopulation.objects.create(area=area, year=year, population=people)


@pytest.fixture
def city(db: None) -> Area:
    return AreaFactory(name="Testville", slug="testville")


def incident(area: Area, year: int, month: int, *, grouped: bool) -> None:
    made = IncidentFactory(
        area=area,
        kind=Incident.Kind.NONFATAL_SHOOTING,
        occurred_at=timezone.make_aware(datetime(year, month, 10, 12)),
    )
    if grouped:
        IncidentGroup.objects.create(incident=made, group=StreetGroupFactory())


def test_group_share_is_computed_from_counts_and_withheld_under_10_incidents(city: Area) -> None:
    neighbourhood = AreaFactory(slug="eastside", parent=city, kind=Area.Kind.NEIGHBORHOOD)
    for month in range(1, 13):
        incident(neighbourhood if month % 2 else city, 2024, month, grouped=month <= 3)
    incident(city, 2023, 5, grouped=True)
    incident(city, 2023, 5, grouped=False)
    shares = build_claims(city, "homicide")["group_share"]
    yearly = {row["period"]: row for row in shares["yearly"]}
    assert (yearly["2024"]["total"], yearly["2024"]["grouped"]) == (12, 3)
    assert yearly["2024"]["share"] == Decimal("25.0")
    assert (yearly["2023"]["total"], yearly["2023"]["grouped"], yearly["2023"]["share"]) == (
        2,
        1,
        None,
    )
    may = next(row for row in shares["monthly"] if row["period"] == "2023-05")
    assert (may["total"], may["grouped"], may["share"]) == (2, 1, None)


def test_official_gang_homicide_share_where_both_figures_exist(city: Area) -> None:
    annual(city, 2023, 27)
    annual(city, 2023, 5, measure="gang_homicide")
    annual(city, 2024, 26)  # no gang figure for 2024: no share
    annual(city, 2022, 8)
    annual(city, 2022, 2, measure="gang_homicide")  # fewer than 10 homicides: counts only
    official = build_claims(city, "homicide")["group_share"]["official"]
    assert [
        (row["period"], row["gang_homicide"], row["homicide"], row["share"]) for row in official
    ] == [
        ("2022", 2, 8, None),
        ("2023", 5, 27, Decimal("18.5")),
    ]


def test_areas_are_ranked_by_rate_for_complete_years_only(city: Area) -> None:
    bigger = AreaFactory(name="Bigton", slug="bigton")
    smaller = AreaFactory(name="Smallton", slug="smallton")
    for area, count, people in ((city, 26, 400_000), (bigger, 90, 1_000_000), (smaller, 2, 10_000)):
        annual(area, 2024, count)
        population(area, 2024, people)
    # Smallton's 2023 has only six monthly figures: incomplete, so no rate and no rank.
    population(smaller, 2023, 10_000)
    for month in range(1, 7):
        CrimeOutcome.objects.create(
            area=smaller, period_start=date(2023, month, 1), granularity="month",
            measure="homicide", count=0, source="Monthly",
        )  # fmt: skip
    annual(city, 2023, 27)
    population(city, 2023, 400_000)
    ranking = build_claims(city, "homicide")["ranking"]
    assert [year["year"] for year in ranking] == [2024, 2023]
    latest = ranking[0]
    assert [(row["area"].slug, row["rate"]) for row in latest["rows"]] == [
        ("testville", Decimal("6.5")),
        ("bigton", Decimal("9.0")),
        ("smallton", Decimal("20.0")),
    ]
    assert (latest["place"], latest["of"]) == (1, 3)
    assert [row["area"].slug for row in ranking[1]["rows"]] == ["testville"]


def test_lowest_since_names_the_last_year_as_low_or_lower(city: Area) -> None:
    counts = {2012: 20, 2013: 40, 2014: 45, 2015: 50, 2016: 44, 2017: 41, 2018: 39, 2019: 35,
              2020: 52, 2021: 60, 2022: 38, 2023: 27, 2024: 22}  # fmt: skip
    for year, count in counts.items():
        annual(city, year, count)
        population(city, year, 400_000)
    lowest = build_claims(city, "homicide")["lowest"]
    assert lowest["year"] == 2024 and lowest["since"] == 2012
    assert lowest["text"].startswith("2024: 5.5 per 100,000 (22), the lowest since 2012")


def test_lowest_since_says_so_when_no_year_in_the_data_is_lower(city: Area) -> None:
    for year, count in ((2014, 40), (2015, 35), (2016, 30)):
        annual(city, year, count)
        population(city, year, 400_000)
    lowest = build_claims(city, "homicide")["lowest"]
    assert lowest["since"] is None
    assert lowest["text"].endswith("no lower year in the data (from 2014).")


def test_latest_complete_year_against_2019(city: Area) -> None:
    annual(city, 2019, 40)
    annual(city, 2024, 26)
    population(city, 2019, 380_000)
    population(city, 2024, 400_000)
    for month in range(1, 4):  # 2025 is incomplete: not the latest complete year
        CrimeOutcome.objects.create(
            area=city, period_start=date(2025, month, 1), granularity="month",
            measure="homicide", count=1, source="Monthly",
        )  # fmt: skip
    against = build_claims(city, "homicide")["before_pandemic"]
    assert (against["year"], against["baseline"], against["count"]) == (2024, 40, 26)
    assert against["percent_text"] == "-35.0%"
    assert (against["baseline_rate"], against["rate"]) == (Decimal("10.5"), Decimal("6.5"))


def test_the_claims_page_shows_the_counts_and_links_the_model(
    client, city_admin, worker, city: Area
) -> None:  # type: ignore[no-untyped-def]
    annual(city, 2019, 40)
    annual(city, 2024, 26)
    population(city, 2024, 400_000)
    client.force_login(city_admin)
    response = client.get(CLAIMS, {"area": "testville", "measure": "homicide"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "40 in\n    2019 against 26 in 2024, a change\n    of -35.0%" in html
    assert "2024: 6.5 per 100,000 (26); no lower year in the data (from 2024)." in html
    assert (
        reverse("metrics:evaluate") + "?area=testville&amp;measure=homicide&amp;start=2020-01"
        in html
    )
    client.force_login(worker)
    assert client.get(CLAIMS).status_code == 403


def test_the_model_estimate_stands_beside_the_comparison_with_2019(
    client, city_admin, city: Area
) -> None:  # type: ignore[no-untyped-def]
    for month in range(1, 13):
        for year, count in ((2019, 4), (2024, 2)):
            CrimeOutcome.objects.create(
                area=city, period_start=date(year, month, 1), granularity="month",
                measure="homicide", count=count + month % 2, source="Monthly",
            )  # fmt: skip
    # Only 2019 and 2024 are there: the model refuses the missing months between, by name.
    refused = build_claims(city, "homicide", program_start=date(2024, 1, 1))["model"]
    assert "Testville has no monthly figure for 2020-01" in refused["refusal"]
    for year in range(2020, 2024):
        for month in range(1, 13):
            CrimeOutcome.objects.create(
                area=city, period_start=date(year, month, 1), granularity="month",
                measure="homicide", count=4, source="Monthly",
            )  # fmt: skip
    client.force_login(city_admin)
    response = client.get(
        CLAIMS, {"area": "testville", "measure": "homicide", "program_start": "2024-01"}
    )
    html = response.content.decode()
    assert "The model-based estimate:</strong> Homicides in Testville were" in html
    assert "monthly data 2019-01 to 2024-12" in html
    assert "start=2024-01" in html  # the Evaluate page's link asks the same question


def test_a_spanish_reader_sees_lowest_since_and_the_model_warnings_in_spanish(
    city_admin, city: Area
) -> None:  # type: ignore[no-untyped-def]
    for year in range(2020, 2025):
        population(city, year, 400_000)
        for month in range(1, 13):
            CrimeOutcome.objects.create(
                area=city, period_start=date(year, month, 1), granularity="month",
                measure="homicide", count=4 + month % 2, source="Monthly",
            )  # fmt: skip
    ReminderPreference.objects.create(user=city_admin, language="es")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")  # the saved preference decides
    client.force_login(city_admin)
    asked = {"area": "testville", "measure": "homicide"}
    try:
        page = client.get(CLAIMS, {**asked, "program_start": "2023-01"}).content.decode()
        result = client.get(reverse("metrics:evaluate_json"), {**asked, "start": "2023-01"}).json()
    finally:
        translation.deactivate()
    assert "2024: 13.5 por cada 100,000 (54), la más baja desde 2023 (13.5 por cada" in page
    # The window starts in 2020, the national spike: the model's warning, in Spanish.
    assert "El periodo empieza en 2020\u20132021, el aumento nacional de homicidios" in page
    assert "The window starts in 2020" not in page
    assert any("The window starts in 2020\u20132021" in warning for warning in result["warnings"])
