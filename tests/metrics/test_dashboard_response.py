"""The dashboard's response reach (per month of the incident, scoped like the activity, small
counts suppressed and the shares that would give them away withheld) and the counts of incidents
recorded here, shown as a second, labelled source and never added to the official figures. Every
expected figure is worked out by hand from the fixtures."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.access import ANALYST_GROUP
from interventions.models import Area, Incident
from metrics.models import CrimeOutcome
from tests.conftest import OrgSetup, logged_in
from tests.factories import (
    AreaFactory,
    IncidentFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ResponseTaskFactory,
    SessionFactory,
    UserFactory,
)
from tests.metrics.test_dashboard import _derive, csv_blocks, table_rows
from tests.queries import assert_fixed_queries

DASHBOARD = reverse("metrics:dashboard")
CSV_URL = reverse("metrics:dashboard_csv")
SUPPRESSED = "1\u201310"
NONE = "\u2013"
INCIDENTS = "incidents recorded in GVR Case Manager"


def params(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "area": "testville",
        "start": "2024-01",
        "end": "2024-06",
        "baseline_year": "2023",
        "comparison_year": "2024",
        "activity": "area",
    }
    base.update(overrides)
    return base


def at(day: date, hour: int = 12) -> datetime:
    return timezone.make_aware(datetime(day.year, day.month, day.day, hour))


@dataclass
class Areas:
    city: Area
    neighbourhood: Area
    elsewhere: Area


@pytest.fixture
def areas(db: None) -> Areas:
    city = AreaFactory(name="Testville", slug="testville")
    return Areas(
        city=city,
        neighbourhood=AreaFactory(name="Old Town", slug="old-town", parent=city),
        elsewhere=AreaFactory(name="Elsewhere", slug="elsewhere"),
    )


def connect(org: OrgSetup, incident: Incident, contacts: list[int | None]) -> None:
    """One person per entry, connected to the incident by a response task and first met that
    many hours after it (None: never met). A session before the incident does not count."""
    by_hours: dict[int, list] = {}
    for hours in contacts:
        person = ParticipantFactory(organization=org.organization)
        ResponseTaskFactory(incident=incident, participant=person)
        if hours is None:
            SessionFactory(
                organization=org.organization,
                worker=org.worker,
                occurred_at=incident.occurred_at - timedelta(hours=2),
                participants=[person],
            )
        else:
            by_hours.setdefault(hours, []).append(person)
    for hours, people in by_hours.items():
        SessionFactory(
            organization=org.organization,
            worker=org.worker,
            occurred_at=incident.occurred_at + timedelta(hours=hours),
            participants=people,
        )


@pytest.fixture
def reach_months(org_a: OrgSetup, org_b: OrgSetup, areas: Areas) -> None:
    """March 2024, in the neighbourhood: A and B each connect 12 people, 6 met after 3 h, 3
    after 30 h, 1 after 80 h, 2 never. Together: 24 connected, 20 reached, 12 within 24 h
    (50.0%), 18 within 72 h (75.0%); A alone: 12, 10, 50.0, 75.0.
    April 2024, in the city: A connects 5 people, 1 met after 3 h, 1 after 80 h: 5, 2, 20.0, 20.0.
    May 2024, in the city: B connects 11 people, 2 met after 3 h, 9 after 30 h: 11, 11, and
    2 within 24 h (18.2%), 11 within 72 h (100.0%).
    June 2024, elsewhere: A connects 12 people, all met after 1 h."""
    march = IncidentFactory(occurred_at=at(date(2024, 3, 12)), area=areas.neighbourhood)
    for org in (org_a, org_b):
        connect(org, march, [3] * 6 + [30] * 3 + [80] + [None] * 2)
    april = IncidentFactory(occurred_at=at(date(2024, 4, 12)), area=areas.city)
    connect(org_a, april, [3, 80, None, None, None])
    may = IncidentFactory(occurred_at=at(date(2024, 5, 12)), area=areas.city)
    connect(org_b, may, [3] * 2 + [30] * 9)
    june = IncidentFactory(occurred_at=at(date(2024, 6, 12)), area=areas.elsewhere)
    connect(org_a, june, [1] * 12)


def reach_table(client: Client, **overrides: object) -> dict[str, list[str]]:
    html = client.get(DASHBOARD, params(**overrides)).content.decode()
    return {row[0]: row[1:] for row in table_rows(html, "reach-table")}


def analyst_client() -> Client:
    analyst = UserFactory(username="analyst")
    analyst.groups.add(Group.objects.get(name=ANALYST_GROUP))
    return logged_in(analyst)


# Response reach ------------------------------------------------------------------------------


def test_manager_sees_their_organisations_reach_only(manager_client, reach_months) -> None:  # type: ignore[no-untyped-def]
    rows = reach_table(manager_client)
    assert list(rows) == ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert rows["2024-03"] == ["12", "10", "50.0", "75.0"]  # B's 12 people are not counted
    assert rows["2024-04"] == ["5", "2", "20.0", "20.0"]  # unsuppressed: their own people
    assert rows["2024-05"] == ["0", "0", NONE, NONE]  # B's month
    assert rows["2024-01"] == ["0", "0", NONE, NONE]


def test_city_admin_sees_every_organisation_with_small_counts_suppressed(  # type: ignore[no-untyped-def]
    admin_client_city, reach_months
) -> None:
    rows = reach_table(admin_client_city)
    assert rows["2024-03"] == ["24", "20", "50.0", "75.0"]
    # 5 connected and 2 reached: both counts shown as a range, and both shares withheld.
    assert rows["2024-04"] == [SUPPRESSED, SUPPRESSED, "withheld", "withheld"]
    # 11 and 11 are shown, but 18.2% of 11 would give away the 2 met within 24 hours.
    assert rows["2024-05"] == ["11", "11", "withheld", "100.0"]
    html = admin_client_city.get(DASHBOARD, params()).content.decode()
    assert "a share of a small number, beside\n    the number connected, reveals it" in html


def test_analyst_sees_the_city_figures(admin_client_city, reach_months) -> None:  # type: ignore[no-untyped-def]
    """The analyst has no task through the response pages, but the dashboard's figures."""
    rows = reach_table(analyst_client())
    assert rows == reach_table(admin_client_city)
    assert rows["2024-03"] == ["24", "20", "50.0", "75.0"]


def test_reach_follows_the_area_choice(manager_client, admin_client_city, reach_months) -> None:  # type: ignore[no-untyped-def]
    # Activity in the area: June's incident was elsewhere.
    assert reach_table(manager_client)["2024-06"] == ["0", "0", NONE, NONE]
    assert reach_table(manager_client, area="old-town")["2024-04"] == ["0", "0", NONE, NONE]
    assert reach_table(manager_client, area="old-town")["2024-03"] == ["12", "10", "50.0", "75.0"]
    # Every participant, wherever: June counts.
    assert reach_table(manager_client, activity="all")["2024-06"] == ["12", "12", "100.0", "100.0"]
    html = admin_client_city.get(DASHBOARD, params(activity="all")).content.decode()
    assert "Response reach by month of the incident:\n    every area" in html


def test_reach_is_in_the_csv_as_shown(admin_client_city, reach_months) -> None:  # type: ignore[no-untyped-def]
    blocks = csv_blocks(admin_client_city.get(CSV_URL, params()).content)
    reach = blocks[1]
    assert reach[0] == [
        "Response reach by month of the incident",
        "Testville",
        "All partner organisations",
    ]
    assert reach[1][0] == "Month of the incident"
    rows = {row[0]: row[1:] for row in reach[2:]}
    assert rows["2024-03"] == ["24", "20", "50.0", "75.0"]
    assert rows["2024-04"] == [SUPPRESSED, SUPPRESSED, "withheld", "withheld"]
    assert rows["2024-01"] == ["0", "0", "", ""]


# Incidents recorded here, a second source ----------------------------------------------------


@pytest.fixture
def incidents_and_official(areas: Areas) -> None:
    """Official monthly figures for Testville in March 2024: 7 homicides, 9 non-fatal shooting
    victims. Recorded here in March: a homicide with 2 victims in the neighbourhood, a non-fatal
    shooting with 3 victims and shots fired in the city, and a homicide elsewhere (not counted).
    In May: one non-fatal shooting, 1 victim."""
    for measure, count in (("homicide", 7), ("nonfatal_shooting", 9)):
        CrimeOutcome.objects.create(
            area=areas.city,
            period_start=date(2024, 3, 1),
            granularity="month",
            measure=measure,
            count=count,
            source="Testville police, monthly",
        )
    march = at(date(2024, 3, 20))
    IncidentFactory(
        area=areas.neighbourhood, kind=Incident.Kind.HOMICIDE, victim_count=2, occurred_at=march
    )
    IncidentFactory(
        area=areas.city, kind=Incident.Kind.NONFATAL_SHOOTING, victim_count=3, occurred_at=march
    )
    IncidentFactory(
        area=areas.city, kind=Incident.Kind.SHOTS_FIRED, victim_count=0, occurred_at=march
    )
    IncidentFactory(
        area=areas.elsewhere, kind=Incident.Kind.HOMICIDE, victim_count=1, occurred_at=march
    )
    IncidentFactory(
        area=areas.city,
        kind=Incident.Kind.NONFATAL_SHOOTING,
        victim_count=1,
        occurred_at=at(date(2024, 5, 3)),
    )


def header(html: str, table_id: str) -> list[str]:
    head = html.split(f'id="{table_id}"')[1].split("</thead>")[0]
    return [cell.strip() for cell in re.findall(r"<th\b[^>]*>(.*?)</th>", head, re.DOTALL)]


def chart_data(html: str) -> dict:
    return json.loads(
        html.split('id="metrics-data" type="application/json">')[1].split("</script>")[0]
    )


def test_incident_counts_are_separate_labelled_columns(
    admin_client_city, incidents_and_official
) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD, params()).content.decode()
    columns = header(html, "monthly-table")
    assert columns[:5] == [
        "Month",
        "Homicides",
        "Non-fatal shooting victims",
        f"Homicides \u2014 {INCIDENTS}",
        f"Non-fatal shooting victims \u2014 {INCIDENTS}",
    ]
    rows = {row[0]: row for row in table_rows(html, "monthly-table")}
    # The official 7 and 9 stay 7 and 9 beside the 2 and 3 recorded here, unsuppressed.
    assert rows["2024-03"][1:5] == ["7", "9", "2", "3"]
    assert rows["2024-05"][1:5] == [NONE, NONE, "0", "1"]
    assert rows["2024-01"][1:5] == [NONE, NONE, "0", "0"]


def test_incident_counts_never_enter_the_official_figures(
    admin_client_city, incidents_and_official
) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD, params()).content.decode()
    yearly = {(row[0], row[1]): row[2:4] for row in table_rows(html, "yearly-table")}
    assert yearly[("Homicides", "2024")] == ["7", "only 1 of 12 months"]
    assert yearly[("Non-fatal shooting victims", "2024")] == ["9", "only 1 of 12 months"]
    chart = chart_data(html)
    official = {measure["code"]: measure["monthly"] for measure in chart["measures"]}
    assert official["homicide"] == [None, None, 7, None, None, None]
    assert official["nonfatal_shooting"] == [None, None, 9, None, None, None]
    recorded = {series["code"]: series for series in chart["incidents"]}
    assert recorded["homicide"]["monthly"] == [0, 0, 2, 0, 0, 0]
    assert recorded["nonfatal_shooting"]["monthly"] == [0, 0, 3, 0, 1, 0]
    assert recorded["homicide"]["label"] == f"Homicides \u2014 {INCIDENTS}"
    assert {series["source"] for series in recorded.values()} == {INCIDENTS}


def test_the_page_names_the_source_of_each_series(
    admin_client_city, incidents_and_official
) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(DASHBOARD, params()).content.decode()
    sources = html.split('id="metrics-sources">')[1].split("</p>")[0]
    assert "Testville police, monthly" in sources and INCIDENTS in sources
    assert sources.index("Testville police") < sources.index("dashed lines")
    # A measure the incidents do not count gets no incident column and no incident source.
    html = admin_client_city.get(DASHBOARD, params(measures=["gun_homicide"])).content.decode()
    assert INCIDENTS not in header(html, "monthly-table")[-1]
    assert chart_data(html)["incidents"] == []
    assert 'id="metrics-sources"' not in html


def test_shooting_incidents_count_every_incident_in_the_area(
    admin_client_city, incidents_and_official
) -> None:  # type: ignore[no-untyped-def]
    html = admin_client_city.get(
        DASHBOARD, params(measures=["shooting_incident", "gun_homicide"])
    ).content.decode()
    columns = header(html, "monthly-table")
    assert columns[1:4] == [
        "Shooting incidents",
        "Gun homicides",
        f"Shooting incidents \u2014 {INCIDENTS}",
    ]
    rows = {row[0]: row for row in table_rows(html, "monthly-table")}
    assert rows["2024-03"][1:4] == [NONE, NONE, "3"]
    # The neighbourhood alone: only its homicide.
    html = admin_client_city.get(
        DASHBOARD, params(area="old-town", measures=["shooting_incident"])
    ).content.decode()
    assert {row[0]: row for row in table_rows(html, "monthly-table")}["2024-03"][1:3] == [NONE, "1"]


def test_incident_columns_in_the_csv(manager_client, incidents_and_official) -> None:  # type: ignore[no-untyped-def]
    """A manager sees the same public counts, in separate CSV columns named after the source."""
    blocks = csv_blocks(manager_client.get(CSV_URL, params()).content)
    monthly = blocks[0]
    assert monthly[1][:5] == [
        "Month",
        "Homicides (monthly figure)",
        "Non-fatal shooting victims (monthly figure)",
        f"Homicides \u2014 {INCIDENTS}",
        f"Non-fatal shooting victims \u2014 {INCIDENTS}",
    ]
    rows = {row[0]: row for row in monthly[2:]}
    assert rows["2024-03"][1:5] == ["7", "9", "2", "3"]
    assert blocks[-1] == [["Sources", "Testville police, monthly", INCIDENTS]]


# Queries -------------------------------------------------------------------------------------


def test_query_count_with_reach_and_incidents_is_exact_as_organisations_and_areas_grow(  # type: ignore[no-untyped-def]
    admin_client_city, reach_months, incidents_and_official, areas
) -> None:
    def grow() -> None:
        for index in range(4):
            other = OrgSetup(PartnerOrganizationFactory(), None, UserFactory(), None)  # type: ignore[arg-type]
            place = AreaFactory(parent=areas.city)
            incident = IncidentFactory(occurred_at=at(date(2024, 3 + index, 5)), area=place)
            connect(other, incident, [2, 40, None])

    requests = [
        lambda start=start: admin_client_city.get(
            DASHBOARD,
            params(start=start, measures=["homicide", "nonfatal_shooting", "shooting_incident"]),
        )
        for start in ("2024-01", "2019-01")
    ]
    assert_fixed_queries(requests, grow)


# Secondary suppression of the reach table (issue 13, finding 7) -------------------------------


@pytest.fixture
def county_reach(org_a: OrgSetup, org_b: OrgSetup) -> dict[str, Area]:
    """May 2024, a county whose incidents were all in its three cities. Delano's people are few:
    4 connected, 3 reached, 2 within 24 h and 3 within 72 h; Arvin's 15 connected (12 within
    24 h, 14 within 72 h, 14 reached); Shafter's 20 (15 within 24 h, 18 within 72 h, 19 reached)."""
    county = AreaFactory(name="Kern", slug="kern", kind=Area.Kind.COUNTY)
    cities = {slug: AreaFactory(name=slug.title(), slug=slug, parent=county) for slug in CITIES}
    contacts = {
        "delano": [3, 3, 30, None],
        "arvin": [3] * 12 + [30] * 2 + [None],
        "shafter": [3] * 15 + [30] * 3 + [80] + [None],
    }
    for slug, hours in contacts.items():
        incident = IncidentFactory(occurred_at=at(date(2024, 5, 12)), area=cities[slug])
        connect(org_a if slug == "delano" else org_b, incident, hours)
    return {"kern": county, **cities}


CITIES = ("delano", "arvin", "shafter")
REACH_COUNTS = ("connected", "reached", "within_24h", "within_72h")


def reach_counts_shown(row: list[str]) -> dict[str, str]:
    """A reach row's counts of people as an analyst reads them: the two counts, and each
    share's numerator when the share and the count connected are shown (a share of 1 decimal
    and its base give the numerator back exactly)."""
    connected, reached, share_24h, share_72h = row
    cells = {"connected": connected, "reached": reached}
    for name, share in (("within_24h", share_24h), ("within_72h", share_72h)):
        numerator = "hidden"
        if connected.isdigit() and re.fullmatch(r"\d+\.\d", share):
            numerator = str(round(float(share) * int(connected) / 100))
        cells[name] = numerator
    return cells


def test_no_hidden_reach_count_can_be_derived_from_the_shown_ones(
    admin_client_city: Client, county_reach: dict[str, Area]
) -> None:
    pages = {
        slug: reach_table(admin_client_city, area=slug, start="2024-05", end="2024-05")
        for slug in county_reach
    }
    pages["everyone"] = reach_table(
        admin_client_city, area="kern", activity="all", start="2024-05", end="2024-05"
    )
    cells = {page: reach_counts_shown(rows["2024-05"]) for page, rows in pages.items()}
    sums = [("kern", ["kern-itself", *CITIES]), ("everyone", ["no-area", "kern"])]
    for name in REACH_COUNTS:
        shown = {page: counts[name] for page, counts in cells.items()}
        # No incident in the county outside its cities, none without an area: both known 0.
        shown |= {"kern-itself": "0", "no-area": "0"}
        hidden = {page for page, text in shown.items() if not text.isdigit()}
        assert "delano" in hidden, (name, shown)
        derived = _derive(shown, sums)
        assert set(derived) & hidden == set(), (name, shown, derived)
    # The control: the larger cities' figures are shown, so the table is not simply blank.
    assert pages["arvin"]["2024-05"][0] == "15" or pages["shafter"]["2024-05"][0] == "20"
