"""Import crime-outcome counts from CSV. One function for the admin upload and
`manage.py import_outcomes`, so both refuse the same files with the same messages.

Format (header row required; `note` optional):

    area,period,measure,count,source,note
    bakersfield,2021,homicide,60,City of Bakersfield,
    bakersfield,2024-03,nonfatal_shooting,4,Bakersfield Police,

`area` is an area's slug or name, `period` is YYYY-MM (a month) or YYYY (a whole year),
`measure` a measure code, `count` a whole number >= 0. Rows are upserted on
(area, period, measure): importing the same file twice changes nothing. A file with any bad row
imports nothing and every bad row is reported with its line number.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date
from typing import BinaryIO

from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext

from interventions.models import Area
from metrics.models import CrimeOutcome, Measure

MAX_BYTES = 5 * 1024 * 1024
REQUIRED_COLUMNS = ("area", "period", "measure", "count", "source")
OPTIONAL_COLUMNS = ("note",)
MAX_SOURCE = 500
MAX_NOTE = 500
PERIOD_RE = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
ALLOWED_SUFFIXES = (".csv", ".txt")


class ImportRefused(Exception):
    """The whole file was refused. `problems` lists every reason, most with a line number."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows: int = 0
    messages: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return gettext(
            "%(rows)s rows read: %(created)s added, %(updated)s changed, %(unchanged)s already "
            "up to date."
        ) % {
            "rows": self.rows,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }


@dataclass(frozen=True)
class _Row:
    line: int
    area: Area
    period_start: date
    granularity: str
    measure: str
    count: int
    source: str
    note: str


def _check_name_and_size(name: str, size: int) -> None:
    """Refuse by name and size alone, before a byte of the file is read."""
    if size > MAX_BYTES:
        raise ImportRefused(
            [
                gettext("The file is %(size)s MB; the limit is 5 MB. Split it into parts.")
                % {"size": f"{size / 1024 / 1024:.1f}"}
            ]
        )
    if name and not name.lower().endswith(ALLOWED_SUFFIXES):
        raise ImportRefused(
            [
                gettext("“%(name)s” is not a CSV file: choose a file ending in .csv.")
                % {"name": name}
            ]
        )
    if size == 0:
        raise ImportRefused([gettext("The file is empty.")])


def _check_head(head: bytes) -> None:
    """A text file has no NUL bytes; images, spreadsheets and archives do, early on."""
    if b"\x00" in head:
        raise ImportRefused([gettext("This is not a CSV file (it contains binary data).")])


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise ImportRefused(
            [
                gettext(
                    "The file is not UTF-8 text (first bad byte on line %(line)s). Save it as "
                    "“CSV UTF-8” and try again."
                )
                % {"line": line}
            ]
        ) from error


def _area_lookup(keys: set[str]) -> tuple[dict[str, Area], set[str]]:
    """Areas by lower-cased slug or name, in one query, and the names that fit more than one
    area (a slug is unique, so it always wins)."""
    areas = Area.objects.annotate(lower_slug=Lower("slug"), lower_name=Lower("name")).filter(
        Q(lower_slug__in=keys) | Q(lower_name__in=keys)
    )
    by_slug: dict[str, Area] = {}
    by_name: dict[str, list[Area]] = {}
    for area in areas:
        by_slug[area.lower_slug] = area
        by_name.setdefault(area.lower_name, []).append(area)
    found = {name: matches[0] for name, matches in by_name.items() if len(matches) == 1}
    found.update(by_slug)
    ambiguous = {name for name, matches in by_name.items() if len(matches) > 1} - set(by_slug)
    return found, ambiguous


def _parse_period(value: str) -> tuple[date, str] | str:
    match = PERIOD_RE.match(value)
    if not match:
        return gettext("period “%(value)s” is not YYYY-MM or YYYY") % {"value": value}
    year = int(match.group(1))
    if not 1900 <= year <= 2200:
        return gettext("period “%(value)s” has an implausible year") % {"value": value}
    if match.group(2) is None:
        return date(year, 1, 1), CrimeOutcome.Granularity.YEAR
    month = int(match.group(2))
    if not 1 <= month <= 12:
        return gettext("period “%(value)s” has no month %(month)s") % {
            "value": value,
            "month": match.group(2),
        }
    return date(year, month, 1), CrimeOutcome.Granularity.MONTH


def _parse(text: str) -> list[_Row]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey="__extra__")
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    if not header:
        raise ImportRefused([gettext("The file is empty.")])
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    if missing:
        raise ImportRefused(
            [
                gettext(
                    "Line 1 (header): missing column(s) %(columns)s. The header must be: "
                    "area,period,measure,count,source (and optionally note)."
                )
                % {"columns": ", ".join(missing)}
            ]
        )
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise ImportRefused(
            [
                gettext("Line 1 (header): unknown column(s) %(columns)s.")
                % {"columns": ", ".join(unknown)}
            ]
        )
    reader.fieldnames = header

    raw_rows = []
    problems: list[str] = []
    for record in reader:
        line = reader.line_num
        if record.get("__extra__"):
            problems.append(
                gettext("Line %(line)s: more values than columns (a comma inside a value?).")
                % {"line": line}
            )
            continue
        values = {key: (record.get(key) or "").strip() for key in header}
        if not any(values.values()):
            continue  # a blank line
        raw_rows.append((line, values))

    if not raw_rows and not problems:
        raise ImportRefused([gettext("The file has a header but no rows.")])

    areas, ambiguous = _area_lookup(
        {values["area"].lower() for _, values in raw_rows if values["area"]}
    )
    rows: list[_Row] = []
    seen: dict[tuple[int, date, str, str], int] = {}
    for line, values in raw_rows:
        reasons: list[str] = []
        area = areas.get(values["area"].lower())
        if not values["area"]:
            reasons.append(gettext("area is empty"))
        elif values["area"].lower() in ambiguous:
            reasons.append(
                gettext("more than one area is named “%(area)s”: use its slug")
                % {"area": values["area"]}
            )
        elif area is None:
            reasons.append(
                gettext("unknown area “%(area)s” (add it in the admin first)")
                % {"area": values["area"]}
            )
        period = _parse_period(values["period"])
        if isinstance(period, str):
            reasons.append(period)
        if values["measure"] not in Measure.values:
            reasons.append(
                gettext("unknown measure “%(measure)s” (use one of %(measures)s)")
                % {"measure": values["measure"], "measures": ", ".join(Measure.values)}
            )
        count_text = values["count"]
        if not re.fullmatch(r"\d{1,9}", count_text):
            reasons.append(
                gettext("count “%(count)s” is not a whole number of 0 or more")
                % {"count": count_text}
            )
        if not values["source"]:
            reasons.append(gettext("source is empty"))
        elif len(values["source"]) > MAX_SOURCE:
            reasons.append(
                gettext("source is longer than %(max)s characters") % {"max": MAX_SOURCE}
            )
        if len(values.get("note", "")) > MAX_NOTE:
            reasons.append(gettext("note is longer than %(max)s characters") % {"max": MAX_NOTE})
        if reasons:
            problems.append(
                gettext("Line %(line)s: %(reasons)s.")
                % {"line": line, "reasons": "; ".join(reasons)}
            )
            continue
        assert area is not None and not isinstance(period, str)
        key = (area.pk, period[0], period[1], values["measure"])
        if key in seen:
            problems.append(
                gettext("Line %(line)s: the same area, period and measure as line %(earlier)s.")
                % {"line": line, "earlier": seen[key]}
            )
            continue
        seen[key] = line
        rows.append(
            _Row(
                line=line,
                area=area,
                period_start=period[0],
                granularity=period[1],
                measure=values["measure"],
                count=int(count_text),
                source=values["source"],
                note=values.get("note", ""),
            )
        )
    if problems:
        raise ImportRefused(problems)
    return rows


@transaction.atomic
def _upsert(rows: list[_Row]) -> ImportResult:
    result = ImportResult(rows=len(rows))
    existing = {
        (o.area_id, o.period_start, o.granularity, o.measure): o
        for o in CrimeOutcome.objects.select_for_update().filter(
            area_id__in={row.area.pk for row in rows}
        )
    }
    to_create: list[CrimeOutcome] = []
    to_update: list[CrimeOutcome] = []
    for row in rows:
        outcome = existing.get((row.area.pk, row.period_start, row.granularity, row.measure))
        if outcome is None:
            to_create.append(
                CrimeOutcome(
                    area=row.area,
                    period_start=row.period_start,
                    granularity=row.granularity,
                    measure=row.measure,
                    count=row.count,
                    source=row.source,
                    note=row.note,
                )
            )
        elif (outcome.count, outcome.source, outcome.note) != (row.count, row.source, row.note):
            outcome.count, outcome.source, outcome.note = row.count, row.source, row.note
            to_update.append(outcome)
        else:
            result.unchanged += 1
    CrimeOutcome.objects.bulk_create(to_create)
    # bulk_update skips auto_now, so updated_at is set here.
    now = timezone.now()
    for outcome in to_update:
        outcome.updated_at = now
    CrimeOutcome.objects.bulk_update(to_update, ["count", "source", "note", "updated_at"])
    result.created, result.updated = len(to_create), len(to_update)
    return result


def import_outcomes(file: BinaryIO, *, name: str = "", size: int | None = None) -> ImportResult:
    """Import an outcomes CSV from a binary file object (an upload or an open file).

    Raises ImportRefused, and writes nothing, when the file or any row is bad."""
    if size is None:
        position = file.tell()
        file.seek(0, io.SEEK_END)
        size = file.tell() - position
        file.seek(position)
    _check_name_and_size(name, size)
    head = file.read(8192)
    _check_head(head)
    raw = head + file.read(MAX_BYTES + 1 - len(head))
    if len(raw) > MAX_BYTES:
        raise ImportRefused(
            [gettext("The file is larger than 5 MB; the limit is 5 MB. Split it into parts.")]
        )
    rows = _parse(_decode(raw))
    return _upsert(rows)
