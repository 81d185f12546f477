"""Every CSV and spreadsheet the app writes defuses cells a spreadsheet would run as a formula
(issue 13, finding 8; OWASP "CSV injection"). The downloads are found from the URL resolver:
each route is requested by a manager and a city admin, and whatever answers as a CSV, a
spreadsheet or a zip is checked, so a new export cannot skip the one writer unnoticed."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from interventions.models import Participant
from metrics.models import CrimeOutcome, Measure
from tests.conftest import logged_in
from tests.factories import AreaFactory
from tests.security.routes import all_routes, case_objects, fill_kwargs, is_admin

pytestmark = pytest.mark.django_db

# What an attacker types into a name or a source: each starts with a formula trigger.
PLANTED = "=cmd|' /C calc'!A0"
DOWNLOAD_TYPES = ("text/csv", "application/vnd.", "application/zip")
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Downloads that must be among those found, or the walk below missed them.
KNOWN_DOWNLOADS = {
    "export_caseload",
    "export_sessions",
    "metrics:dashboard_csv",
    "funder_report_csv",
    "funder_report_xlsx",
    "ledger_export",
}


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _live_formulas(cells: list[str]) -> list[str]:
    return [cell for cell in cells if cell.startswith(TRIGGERS) and not _is_number(cell)]


def _csv_cells(body: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig"))) for cell in row]


def _spreadsheet_cells(body: bytes) -> list[str]:
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(body))
    return [
        str(cell.value)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]


def _cells_of(content_type: str, body: bytes) -> list[str]:
    if content_type.startswith("text/csv"):
        return _csv_cells(body)
    if content_type.startswith("application/zip"):
        cells: list[str] = []
        with zipfile.ZipFile(io.BytesIO(body)) as archive:
            for name in archive.namelist():
                data = archive.read(name)
                if name.endswith(".csv"):
                    cells += _csv_cells(data)
                elif name.endswith(".xlsx"):
                    cells += _spreadsheet_cells(data)
        return cells
    return _spreadsheet_cells(body)


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


@pytest.fixture
def planted(org_a):  # type: ignore[no-untyped-def]
    objects = case_objects(org_a)
    Participant.objects.filter(organization=org_a.organization).update(
        first_name=PLANTED, last_name="@SUM(A1:A9)", aliases="+cmd"
    )
    type(org_a.worker).objects.filter(pk=org_a.worker.pk).update(first_name=PLANTED)
    type(org_a.program).objects.filter(pk=org_a.program.pk).update(name=PLANTED)
    # The funder report names its scope (the organisation) and no person.
    type(org_a.organization).objects.filter(pk=org_a.organization.pk).update(name=PLANTED)
    area = AreaFactory(name=PLANTED, slug="planted-area")
    CrimeOutcome.objects.create(
        area=area,
        period_start=date(2024, 1, 1),
        granularity=CrimeOutcome.Granularity.YEAR,
        measure=Measure.HOMICIDE,
        count=3,
        source=PLANTED,
    )
    return objects, area


def test_every_download_route_defuses_a_planted_formula(org_a, city_admin, planted):
    objects, area = planted
    # With no filter, and with the planted area (the metrics downloads' one choice).
    queries = ({}, {"area": area.slug})
    downloads: dict[str, list[str]] = {}
    for route in all_routes():
        if is_admin(route):
            continue
        kwargs = fill_kwargs(route, objects)
        if kwargs is None:
            continue
        url = reverse(route.name, kwargs=kwargs)
        for user, query in ((u, q) for u in (org_a.manager, city_admin) for q in queries):
            response = logged_in(user).get(url, query)
            content_type = response.get("Content-Type", "")
            if response.status_code != 200 or not content_type.startswith(DOWNLOAD_TYPES):
                continue
            cells = _cells_of(content_type, _body(response))
            downloads.setdefault(route.name, [])
            downloads[route.name] += cells

    assert set(downloads) >= KNOWN_DOWNLOADS
    for name, cells in downloads.items():
        assert _live_formulas(cells) == [], name
        # The planted text reached the download (defused), so the check above could fail.
        assert any("cmd" in cell for cell in cells), name


def test_the_admin_export_action_defuses_a_planted_formula(city_admin, planted):
    participant = Participant.objects.filter(first_name=PLANTED).first()
    response = logged_in(city_admin).post(
        reverse("admin:interventions_participant_changelist"),
        {"action": "export_as_csv", helpers.ACTION_CHECKBOX_NAME: [participant.pk]},
    )
    assert response["Content-Type"].startswith("text/csv")
    cells = _csv_cells(_body(response))
    assert f"'{PLANTED}" in cells
    assert _live_formulas(cells) == []


def _assert_a_defused_download(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    cells = _cells_of(response["Content-Type"], _body(response))
    assert cells
    assert _live_formulas(cells) == []
    return cells


def test_the_evaluator_extract_zip_defuses_every_cell(org_a, city_admin, planted):
    """A POST, so the walk above does not reach it; the planted area is among its areas."""
    response = logged_in(city_admin).post(
        reverse("metrics:extract"),
        {
            "organizations": [org_a.organization.slug],
            "start": "2024-01",
            "end": "2024-04",
            "key": "k" * 40,
        },
    )
    assert response["Content-Type"].startswith("application/zip")
    _assert_a_defused_download(response)


def test_the_evaluation_csv_goes_through_the_one_writer(city_admin):
    """The fitted series needs years of counts, which the walk's planted area lacks."""
    from tests.metrics.test_evaluate import monthly, simulated

    area = AreaFactory(name="Testville", slug="testville")
    monthly(area, simulated(1, 20, 0.6))
    response = logged_in(city_admin).get(
        reverse("metrics:evaluate_csv"),
        {"area": area.slug, "measure": "homicide", "start": "2016-01"},
    )
    assert response["Content-Type"].startswith("text/csv")
    assert _body(response).startswith("\ufeff".encode())  # the BOM: Excel reads it as UTF-8
    cells = _assert_a_defused_download(response)
    assert cells[:4] == ["month", "observed", "fitted", "counterfactual"]
