"""The CSV helper every export uses: streamed, formula-safe, a safe download name."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.http import StreamingHttpResponse
from django.test import override_settings

from interventions.csv_export import csv_cell, defuse_formula, safe_filename, stream_csv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=cmd", "'\t=cmd"),
        ("\r=cmd", "'\r=cmd"),
        ("Maria = Mary", "Maria = Mary"),
        ("", ""),
    ],
)
def test_defuse_formula(text: str, expected: str) -> None:
    assert defuse_formula(text) == expected


@override_settings(TIME_ZONE="America/Los_Angeles")
def test_cells_keep_numbers_and_format_dates() -> None:
    assert csv_cell(-5) == -5
    assert csv_cell(Decimal("-1.5")) == Decimal("-1.5")
    assert csv_cell(None) == ""
    assert csv_cell(True) == "yes"
    assert csv_cell(date(2024, 3, 1)) == "2024-03-01"
    noon_utc = datetime(2024, 3, 1, 20, 0, tzinfo=ZoneInfo("UTC"))
    assert csv_cell(noon_utc) == "2024-03-01 12:00-08:00"
    assert csv_cell("-12") == "'-12"


def test_safe_filename() -> None:
    assert safe_filename("participants 2024.csv") == "participants-2024.csv"
    assert safe_filename('a"; evil=.csv') == "a-evil-.csv"
    assert safe_filename("report") == "report.csv"
    assert safe_filename("../../") == "export.csv"
    assert safe_filename("funder report Q1.xlsx") == "funder-report-Q1.xlsx"
    assert safe_filename("report.xlsx.exe") == "report.xlsx.exe.csv"
    assert safe_filename("extract 2024-01.zip") == "extract-2024-01.zip"
    assert safe_filename("evaluation.json") == "evaluation.json"


def test_stream_csv_streams_rows_lazily() -> None:
    produced: list[int] = []

    def rows():
        for n in range(3):
            produced.append(n)
            yield [n, f"=row {n}"]

    response = stream_csv("numbers.csv", ["Number", "Label"], rows())
    assert isinstance(response, StreamingHttpResponse)
    assert produced == []  # nothing is read until the response is sent
    assert response["Content-Disposition"] == 'attachment; filename="numbers.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [
        ["Number", "Label"],
        ["0", "'=row 0"],
        ["1", "'=row 1"],
        ["2", "'=row 2"],
    ]


def test_csv_download_starts_with_a_utf8_byte_order_mark_for_excel():
    # Without it Excel on Windows reads the file as ANSI and garbles accented names.
    response = stream_csv("people.csv", ["Name"], iter([["José Peña"]]))
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbfName\r\n")
    assert body.count(b"\xef\xbb\xbf") == 1
    assert "José Peña" in body.decode("utf-8-sig")
