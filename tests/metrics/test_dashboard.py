"""The metrics dashboard: who may see it, the demo's real figures, honest comparisons,
suppression of small counts, a CSV equal to the page, and a query count that does not grow with
the date range."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interventions.models import Area
from metrics.dashboard import CAVEAT
from metrics.demo import load_demo_outcomes
from metrics.models import ActivityRollup, AreaPopulation, CrimeOutcome
from tests.conftest import logged_in
from tests.factories import AreaFactory, PartnerOrganizationFactory
from tests.queries import assert_fixed_queries

DASHBOARD = reverse("metrics:dashboard")
CSV_URL = reverse("metrics:dashboard_csv")
SUPPRESSED = "1\u201310"
NONE = "\u2013"  # the en dash the tables show for "no figure"


class TableReader(HTMLParser):
    """The text of every cell of the table with the given id, row by row."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.depth, self.rows = table_id, 0, []
        self.cell: list[str] | None = None
        self.in_body = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "table" and ("id", self.table_id) in attrs:
            self.depth = 1
        elif self.depth and tag == "tbody":
            self.in_body = True
        elif self.depth and self.in_body and tag == "tr":
            self.rows.append([])
        elif self.depth and self.in_body and tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        elif tag == "table" and self.depth:
            self.depth = 0
            self.in_body = False

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def table_rows(html: str, table_id: str) -> list[list[str]]:
    reader = TableReader(table_id)
    reader.feed(html)
    return reader.rows


def csv_blocks(content: bytes) -> list[list[list[str]]]:
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))):
        if not row:
            blocks.append([])
        else:
            blocks[-1].append(row)
    return blocks


@pytest.fixture
def demo(db: None) -> Area:
    load_demo_outcomes()
    return Area.objects.get(slug="bakersfield")


def params(**overrides: str) -> dict[str, str]:
    base = {
        "area": "bakersfield",
        "start": "2021-01",
        "end": "2024-12",
        "baseline_year": "2021",
        "comparison_year": "2024",
        "activity": "all",
    }
    base.update(overrides)
    return base


# Who may see it ---------------------------------------------------------------------------


def test_anonymous_is_sent_to_login(client, demo) -> None:  # type: ignore[no-untyped-def]
    for url in (DASHBOARD, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("login") in response["Location"]


def test_outreach_worker_is_refused(worker_client, demo) -> None:  # type: ignore[no-untyped-def]
    assert worker_client.get(DASHBOARD).status_code == 403
    assert worker_client.get(CSV_URL).status_code == 403


def test_managers_and_city_admins_may_see_it(manager_client, admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    for client in (manager_client, admin_client_city):
        assert client.get(DASHBOARD, params()).status_code == 200
        assert client.get(CSV_URL, params()).status_code == 200


# The demo's real figures --------------------------------------------------------------------


def test_demo_figures_give_the_citys_percentages(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD, params()).content.decode()
    assert "<td>60</td>" in html and "<td>26</td>" in html and "<td>-56.7%</td>" in html
    assert "<td>109</td>" in html and "<td>44</td>" in html and "<td>-59.6%</td>" in html
    assert "<td>-34</td>" in html and "<td>-65</td>" in html


def test_default_view_shows_the_demo_comparison(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD).content.decode()
    assert "Bakersfield: 2021 → 2024" in html
    assert "-56.7%" in html and "-59.6%" in html


def test_every_comparison_carries_the_caveat(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    county = AreaFactory(name="Kern County", slug="kern-county")
    for year, count in ((2021, 100), (2024, 90)):
        CrimeOutcome.objects.create(
            area=county,
            period_start=date(year, 1, 1),
            granularity="year",
            measure="homicide",
            count=count,
            source="Test figures",
        )
    html = admin_client_city.get(DASHBOARD, params(compare_area="kern-county")).content.decode()
    assert html.count("association, not proof") == 2
    assert "The baseline year chosen matters" in html
    assert "Kern County: 2021 → 2024" in html
    assert "<td>-10.0%</td>" in html
    # No non-fatal shooting figures for the county: shown as not comparable, not as zero.
    county_card = html.split("Kern County: 2021 → 2024")[1]
    assert "not comparable" in county_card


def test_annual_figures_are_not_spread_over_months(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    response = admin_client_city.get(DASHBOARD, params())
    html = response.content.decode()
    monthly = table_rows(html, "monthly-table")
    assert len(monthly) == 48
    homicide_column = [row[1] for row in monthly]
    assert set(homicide_column) == {NONE}
    chart = json.loads(
        html.split('id="metrics-data" type="application/json">')[1].split("</script>")[0]
    )
    homicides = chart["measures"][0]
    assert all(value is None for value in homicides["monthly"])
    assert {"month": "2021-07", "count": 60} in homicides["annual"]
    assert "single marked points (◆) at mid-year" in html


def test_yearly_table_rates_only_complete_years_with_population(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    AreaPopulation.objects.create(area=demo, year=2021, population=400_000)
    CrimeOutcome.objects.create(
        area=demo,
        period_start=date(2022, 3, 1),
        granularity="month",
        measure="shooting_incident",
        count=7,
        source="Test",
    )
    AreaPopulation.objects.create(area=demo, year=2022, population=410_000)
    html = admin_client_city.get(
        DASHBOARD, params(measures=["homicide", "shooting_incident"])
    ).content.decode()
    rows = {(r[0], r[1]): r for r in table_rows(html, "yearly-table")}
    assert rows[("Homicides", "2021")][2:] == ["60", "annual figure", "400,000", "15.0"]
    assert rows[("Homicides", "2022")][4:] == ["410,000", "9.3"]  # 38 / 410,000
    assert rows[("Homicides", "2023")][4:] == [NONE, NONE]  # no population recorded
    incidents = rows[("Shooting incidents", "2022")]
    assert incidents[2:4] == ["7", "only 1 of 12 months"]
    assert incidents[5] == NONE  # an incomplete year gets no rate


# Small counts ------------------------------------------------------------------------------


@pytest.fixture
def small_activity(org_a, org_b, demo):  # type: ignore[no-untyped-def]
    for org, served in ((org_a.organization, 3), (org_b.organization, 40)):
        ActivityRollup.objects.create(
            month=date(2024, 5, 1),
            organization=org,
            program_kind="mentoring",
            area=demo,
            sessions=12,
            contact_minutes=600,
            participants_served=served,
        )
    ActivityRollup.objects.create(
        month=date(2024, 6, 1),
        organization=org_a.organization,
        program_kind="mentoring",
        area=demo,
        sessions=2,
        contact_minutes=90,
        participants_served=7,
    )


def _month_row(html: str, month: str) -> list[str]:
    return next(row for row in table_rows(html, "monthly-table") if row[0] == month)


def test_city_view_suppresses_1_to_10_people(admin_client_city, small_activity) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD, params(activity="area")).content.decode()
    may, june = _month_row(html, "2024-05"), _month_row(html, "2024-06")
    # May: 3 + 40 people across two organisations is 43, above the threshold.
    assert may[5:8] == ["24", "20.0", "43"]
    assert june[5:8] == ["2", "1.5", SUPPRESSED]
    chart = json.loads(
        html.split('id="metrics-data" type="application/json">')[1].split("</script>")[0]
    )
    served = dict(zip(chart["labels"], chart["activity"]["participants_served"], strict=True))
    assert served["2024-06"] is None and served["2024-05"] == 43
    csv_text = admin_client_city.get(CSV_URL, params(activity="area")).content.decode("utf-8-sig")
    assert f"2024-06,,,0,0,2,1.5,{SUPPRESSED}," in csv_text


def test_manager_sees_own_organisation_unsuppressed(manager_client, small_activity) -> None:  # type: ignore[no-untyped-def]
    html = manager_client.get(DASHBOARD, params(activity="area")).content.decode()
    assert _month_row(html, "2024-05")[5:8] == ["12", "10.0", "3"]
    assert _month_row(html, "2024-06")[5:8] == ["2", "1.5", "7"]
    csv_text = manager_client.get(CSV_URL, params(activity="area")).content.decode("utf-8-sig")
    assert "2024-05,,,0,0,12,10.0,3," in csv_text


def test_manager_never_sees_another_organisations_activity(org_b, small_activity) -> None:  # type: ignore[no-untyped-def]
    other = PartnerOrganizationFactory()
    ActivityRollup.objects.create(
        month=date(2024, 7, 1),
        organization=other,
        program_kind="mentoring",
        sessions=99,
        contact_minutes=60,
        participants_served=50,
    )
    html = logged_in(org_b.manager).get(DASHBOARD, params()).content.decode()
    assert _month_row(html, "2024-05")[5:8] == ["12", "10.0", "40"]
    assert _month_row(html, "2024-06")[5:8] == ["0", "0.0", "0"]
    assert _month_row(html, "2024-07")[5:8] == ["0", "0.0", "0"]


# CSV ---------------------------------------------------------------------------------------


def test_csv_is_exactly_what_is_shown(admin_client_city, small_activity) -> None:  # type: ignore[no-untyped-def]
    query = params(activity="area", measures=["homicide", "nonfatal_shooting"])
    html = admin_client_city.get(DASHBOARD, query).content.decode()
    response = admin_client_city.get(CSV_URL, query)
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    blocks = csv_blocks(response.content)

    def blank_dash(rows: list[list[str]]) -> list[list[str]]:
        return [["" if cell == NONE else cell.replace(",", "") for cell in row] for row in rows]

    monthly_csv = blocks[0][2:]
    assert blank_dash(table_rows(html, "monthly-table")) == [
        [cell.replace(",", "") for cell in row] for row in monthly_csv
    ]
    reach_csv = blocks[1][2:]
    assert blank_dash(table_rows(html, "reach-table")) == reach_csv
    yearly_csv = blocks[2][2:]
    assert blank_dash(table_rows(html, "yearly-table")) == [
        [cell.replace(",", "") for cell in row] for row in yearly_csv
    ]
    comparison = blocks[3]
    # The percent change is text, and text starting with "-" is defused like every CSV cell.
    assert comparison[2] == ["Homicides", "60", "26", "-34", "'-56.7%"]
    assert comparison[3] == ["Non-fatal shooting victims", "109", "44", "-65", "'-59.6%"]
    assert CAVEAT in comparison[4][0]


def test_bad_filters_keep_what_was_typed_and_explain(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    response = admin_client_city.get(DASHBOARD, params(start="2024-05", end="2023-01"))
    assert response.status_code == 400
    html = response.content.decode()
    assert "The last month is before the first month." in html
    assert 'value="2024-05"' in html
    csv_response = admin_client_city.get(CSV_URL, params(baseline_year="2024"))
    assert csv_response.status_code == 400
    assert "comparison year other than the baseline" in csv_response.content.decode()


# Performance -------------------------------------------------------------------------------


def test_query_count_does_not_depend_on_the_date_range(admin_client_city, small_activity) -> None:  # type: ignore[no-untyped-def]
    counts = []
    for start, end in (("2024-01", "2024-12"), ("2020-01", "2024-12")):
        with CaptureQueriesContext(connection) as queries:
            response = admin_client_city.get(DASHBOARD, params(start=start, end=end))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts


PROGRAM_KINDS = ("mentoring", "street_outreach", "gang_intervention", "hospital_violence")


def test_query_count_is_exact_as_organisations_areas_program_kinds_and_years_grow(
    admin_client_city, small_activity, demo
) -> None:  # type: ignore[no-untyped-def]
    AreaFactory(name="Kern County", slug="kern-county")

    def grow() -> None:
        for index in range(6):
            organization = PartnerOrganizationFactory()
            neighbourhood = AreaFactory(parent=demo)
            ActivityRollup.objects.bulk_create(
                ActivityRollup(
                    month=date(year, month, 1),
                    organization=organization,
                    program_kind=PROGRAM_KINDS[index % len(PROGRAM_KINDS)],
                    area=neighbourhood,
                    sessions=5,
                    contact_minutes=300,
                    participants_served=11 + index,
                )
                for year in (2020, 2022, 2024)
                for month in range(1, 13)
            )
            AreaPopulation.objects.create(area=neighbourhood, year=2024, population=5000)

    requests = [
        lambda start=start, url=url: admin_client_city.get(
            url, params(start=start, end="2024-12", compare_area="kern-county")
        )
        for start in ("2024-01", "2020-01")
        for url in (DASHBOARD, CSV_URL)
    ]
    assert_fixed_queries(requests, grow)


def test_page_has_no_inline_script(admin_client_city, demo) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD, params()).content.decode()
    for tag in re.findall(r"<script[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "vendor/chartjs/chart.umd.min.js" in html and "js/metrics.js" in html
    assert " onclick=" not in html and " onload=" not in html


# Secondary suppression (issue 13, finding 7) ----------------------------------------------------

PEOPLE_COLUMNS = ("Participants served", "New enrolments", "Exits", "Referrals made")


@pytest.fixture
def county_with_cities(org_a, org_b):  # type: ignore[no-untyped-def]
    """A county whose people all live in its three cities: one city has small counts."""
    county = AreaFactory(name="Kern", slug="kern", kind=Area.Kind.COUNTY)
    cities = {
        slug: AreaFactory(name=slug.title(), slug=slug, parent=county)
        for slug in ("delano", "arvin", "shafter")
    }
    # (served, new enrolments, exits, referrals made) per city; Delano's are all 1-10.
    counts = {"delano": (3, 1, 1, 2), "arvin": (40, 15, 0, 20), "shafter": (25, 12, 14, 30)}
    for slug, (served, new, exits, referrals) in counts.items():
        ActivityRollup.objects.create(
            month=date(2024, 5, 1),
            organization=org_a.organization if slug == "delano" else org_b.organization,
            program_kind="mentoring",
            area=cities[slug],
            sessions=5,
            contact_minutes=300,
            participants_served=served,
            new_enrollments=new,
            exits=exits,
            referrals_made=referrals,
        )
    return county, cities


def _people_cells(client, area_slug: str, activity: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    query = params(area=area_slug, start="2024-05", end="2024-05", activity=activity)
    response = client.get(CSV_URL, query)
    assert response.status_code == 200
    header, *rows = csv_blocks(response.content)[0][1:]
    (may,) = [row for row in rows if row[0] == "2024-05"]
    return {column: may[header.index(column)] for column in PEOPLE_COLUMNS}


def _derive(shown: dict[object, str], sums: list[tuple[object, list[object]]]) -> dict[object, int]:
    """Every hidden cell an analyst can compute exactly from shown cells and the sums linking
    them (a total is the sum of its parts), solved one unknown at a time until nothing new."""
    known = {cell: int(text) for cell, text in shown.items() if text.isdigit()}
    derived: dict[object, int] = {}
    progress = True
    while progress:
        progress = False
        for total, parts in sums:
            members = [total, *parts]
            unknown = [cell for cell in members if cell not in known]
            if len(unknown) != 1:
                continue
            (cell,) = unknown
            parts_known = sum(known[p] for p in parts if p in known)
            value = parts_known if cell == total else known[total] - parts_known
            known[cell] = derived[cell] = value
            progress = True
    return derived


def test_no_hidden_count_of_people_can_be_derived_from_the_shown_ones(
    admin_client_city, county_with_cities
) -> None:  # type: ignore[no-untyped-def]
    county, cities = county_with_cities
    assert all(city.parent == county for city in cities.values())
    pages = {slug: _people_cells(admin_client_city, slug, "area") for slug in cities}
    pages["kern"] = _people_cells(admin_client_city, "kern", "area")
    pages["everyone"] = _people_cells(admin_client_city, "kern", "all")
    # Nobody lives in the county outside its cities, nobody without an area: an analyst can
    # know both are 0.
    sums = [
        ("kern", ["kern-itself", *cities]),
        ("everyone", ["no-area", "kern"]),
    ]
    for column in PEOPLE_COLUMNS:
        shown = {page: cells[column] for page, cells in pages.items()}
        shown |= {"kern-itself": "0", "no-area": "0"}
        hidden = {page for page, text in shown.items() if not text.isdigit()}
        # Delano's 1-10 people are hidden, on every count of people.
        assert "delano" in hidden, column
        assert shown["delano"] in (SUPPRESSED, "withheld"), column
        derived = _derive(shown, sums)
        assert set(derived) & hidden == set(), (column, derived)
