"""CSV downloads, written once for every export in the project (the admin's "Export selected rows
as CSV" action, the managers' grant-report exports, the metrics downloads).

Rows are streamed, so a large export never sits in memory, and every text cell that a
spreadsheet would read as a formula is defused (OWASP "CSV injection")."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone

UTF8_BOM = "\ufeff"
_Response = TypeVar("_Response", bound=HttpResponseBase)

# A spreadsheet treats a cell starting with one of these as a formula; tab and carriage return
# can hide such a character behind leading whitespace.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: str) -> str:
    """The text as a spreadsheet will show it, never run it: a leading ' makes it plain text."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def csv_cell(value: object) -> str | int | float | Decimal:
    """One value as a CSV cell. Numbers stay numbers (a negative number is not a formula);
    everything else becomes defused text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, date):
        return value.isoformat()
    return defuse_formula(str(value))


class _Echo:
    """A file-like object whose write() hands the line back, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Sequence[object], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow([csv_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([csv_cell(cell) for cell in row])


DOWNLOAD_ENDINGS = (".csv", ".xlsx", ".zip", ".json")


def safe_filename(filename: str) -> str:
    """A download name that cannot break out of the Content-Disposition header."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "-", filename).strip(".-")
    # A spreadsheet, an archive or JSON keeps its own ending; anything else is named a CSV.
    if not cleaned.lower().endswith(DOWNLOAD_ENDINGS):
        cleaned = f"{cleaned or 'export'}.csv"
    return cleaned


def stream_csv(
    filename: str, header: Sequence[object], rows: Iterable[Sequence[object]]
) -> StreamingHttpResponse:
    """A streamed CSV download. `rows` may be a generator (e.g. over `queryset.iterator()`); it is
    consumed while the response is sent. Pass only rows the requesting user may see."""
    # The byte-order mark first: without it Excel on Windows reads the file as ANSI and garbles
    # accented names (José, Peña).
    response = StreamingHttpResponse(
        itertools.chain([UTF8_BOM], csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    return as_download(response, filename)


def csv_response(filename: str, rows: Sequence[Sequence[object]]) -> HttpResponse:
    """A small CSV download built in memory (a page's tables: a header line of their own sits
    among the rows), through the same defusing cells as `stream_csv`."""
    lines = csv_lines(rows[0], rows[1:]) if rows else iter(())
    # The byte-order mark first, as in stream_csv.
    response = HttpResponse(UTF8_BOM + "".join(lines), content_type="text/csv; charset=utf-8")
    return as_download(response, filename)


def as_download(response: _Response, filename: str) -> _Response:
    response["Content-Disposition"] = f'attachment; filename="{safe_filename(filename)}"'
    # Exports hold case data: no browser or proxy may keep a copy.
    response["Cache-Control"] = "no-store"
    return response
