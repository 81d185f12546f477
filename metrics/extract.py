"""The de-identified extract for outside evaluators: a zip of people.csv (one row per participant
and month), areas.csv (official figures and activity totals per area, month and measure) and
dictionary.csv (every column, its meaning and its allowed values).

The rules, and why:
1. Nothing that names or contacts a person goes in: no name, alias, date of birth, phone,
   participant code, note, outcome text or any other free text. Every column is a code from a
   fixed list, a month, a count or the pseudonym; `dictionary.csv` lists them all, and a test
   plants a unique string in every text field of every model and searches the zip for it.
2. The pseudonym is HMAC-SHA256 of the participant's database id under a key made for this
   extract and never stored (the page shows it once; the audit trail records only whether one
   was re-entered). The same key, entered again, gives the same pseudonyms, so an evaluator can
   link a later extract; without it nobody, the evaluator included, can go back from a pseudonym
   to a record. Keys are at least 32 characters, because database ids are small numbers that a
   short key would let anyone try one by one.
3. Age is a band at the month (under 18, 18-24, 25-34, 35+), never a date.
4. areas.csv is aggregate: its counts of people (participants served, new enrolments, exits) of
   1-10 are suppressed as on the dashboard ("1-10"), and it has no totals row from which a
   suppressed cell could be derived by subtraction.
5. Counts are computed by PostgreSQL (one grouped query per kind of activity), never by a loop
   over sessions in Python.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
import secrets
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from interventions.csv_export import defuse_formula
from interventions.dates import last_day_of_month, months_between
from interventions.models import (
    Area,
    Enrollment,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    ResponseTask,
    SessionParticipant,
)
from metrics.dashboard import SUPPRESSED, suppress
from metrics.models import ActivityRollup, CrimeOutcome, Measure

MIN_KEY_LENGTH = 32
AGE_BANDS = ("under 18", "18-24", "25-34", "35+", "unknown")
UNRECORDED_AREA = "unrecorded"
STATUS_ORDER = list(Enrollment.STATUS_DATE_FIELDS)

PEOPLE_COLUMNS: list[tuple[str, str, str]] = [
    (
        "person",
        "Pseudonymous id: HMAC-SHA256 of the participant's id under this extract's key. The "
        "same key gives the same id in a later extract.",
        "64 hexadecimal characters",
    ),
    ("month", "The calendar month (local time) of the row", "YYYY-MM"),
    (
        "age_band",
        "Age on the first day of the month",
        "; ".join(AGE_BANDS) + " (no date of birth recorded)",
    ),
    (
        "area",
        "The participant's recorded area (neighbourhood or city), as its slug; see areas.csv",
        f"an area slug, or {UNRECORDED_AREA}",
    ),
    (
        "risk_tier",
        "Risk tier as recorded now (the app keeps no history of tiers)",
        "; ".join(f"{value} = {label}" for value, label in Participant.RiskTier.choices),
    ),
    (
        "program_kind",
        "Kind of program of the person's most recent enrolment (with the chosen "
        "organisations) open during the month",
        "; ".join(Program.Kind.values),
    ),
    (
        "enrolment_status",
        "That enrolment's status at the month's end, from its dated steps",
        "; ".join(Enrollment.Status.values),
    ),
    (
        "open_enrolments",
        "Number of the person's enrolments with the chosen organisations open during the month",
        "whole number, 1 or more",
    ),
    (
        "sessions",
        "Sessions (contacts) with the person by the chosen organisations in the month",
        "whole number",
    ),
    ("contact_minutes", "Minutes of those sessions (dosage)", "whole number"),
    (
        "referrals_made",
        "Referrals to services made for the person by the chosen organisations in the month",
        "whole number",
    ),
    (
        "referrals_completed",
        "Of the chosen organisations' referrals, those completed (closed as completed) in the "
        "month",
        "whole number",
    ),
    (
        "incident_tasks",
        "Response tasks: times the person was connected to a shooting in the month (a task for "
        "one of the chosen organisations)",
        "whole number",
    ),
    (
        "reached_within_24h",
        "Of those, reached by a session (any organisation) within 24 hours of the incident",
        "whole number",
    ),
    (
        "reached_within_72h",
        "Of those, reached by a session (any organisation) within 72 hours of the incident",
        "whole number",
    ),
]

ACTIVITY_MEASURES: list[tuple[str, str, bool]] = [
    # (column of the rollup, meaning, counts people: suppressed when 1-10)
    ("sessions", "Sessions by the chosen organisations, participants living in the area", False),
    ("contact_minutes", "Minutes of those sessions", False),
    ("participants_served", "Participants served (once per organisation and program kind)", True),
    ("new_enrollments", "New enrolments", True),
    ("exits", "Exits", True),
    ("referrals_made", "Referrals made", False),
    ("referrals_completed", "Referrals completed", False),
]

AREAS_COLUMNS: list[tuple[str, str, str]] = [
    ("area", "Area slug", f"an area slug, or {UNRECORDED_AREA} (activity only)"),
    ("area_kind", "Kind of area", "; ".join(Area.Kind.values) + f"; {UNRECORDED_AREA}"),
    ("period", "The month, or the year of an annual official figure", "YYYY-MM or YYYY"),
    (
        "source",
        "official: a published figure imported into the app; activity: the chosen "
        "organisations' program activity (the activity rollup)",
        "official; activity",
    ),
    (
        "measure",
        "What is counted",
        "; ".join(Measure.values) + "; " + "; ".join(code for code, _m, _p in ACTIVITY_MEASURES),
    ),
    (
        "value",
        f"The count. Counts of 1-10 people are shown as {SUPPRESSED} (participants served, new "
        "enrolments, exits)",
        f"whole number or {SUPPRESSED}",
    ),
]


def new_key() -> str:
    """A fresh key for one extract: shown once, never stored."""
    return secrets.token_urlsafe(36)


def pseudonym(key: str, participant_id: int) -> str:
    return hmac.new(
        key.encode(), f"participant:{participant_id}".encode(), hashlib.sha256
    ).hexdigest()


def age_band(date_of_birth: date | None, on: date) -> str:
    if date_of_birth is None:
        return "unknown"
    age = (
        on.year
        - date_of_birth.year
        - ((on.month, on.day) < (date_of_birth.month, date_of_birth.day))
    )
    if age < 18:
        return "under 18"
    if age <= 24:
        return "18-24"
    if age <= 34:
        return "25-34"
    return "35+"


def _month_end(month: date) -> date:
    return last_day_of_month(month)


def _local_month(moment: datetime | date) -> date:
    if isinstance(moment, datetime):
        moment = timezone.localtime(moment).date()
    return moment.replace(day=1)


def status_at(enrollment: dict[str, object], day: date) -> str | None:
    """The enrolment's status at the end of `day`: its latest dated step on or before it
    (a later status wins a tie, as the steps are in lifecycle order). None: not yet referred."""
    found: tuple[date, int] | None = None
    status = None
    for order, step in enumerate(STATUS_ORDER):
        when = enrollment[Enrollment.STATUS_DATE_FIELDS[step]]
        if isinstance(when, date) and when <= day and (found is None or (when, order) >= found):
            found, status = (when, order), str(step)
    return status


@dataclass(frozen=True)
class ExtractRequest:
    organizations: Sequence[PartnerOrganization]
    start: date  # first day of the first month
    end: date  # first day of the last month
    key: str


@dataclass(frozen=True)
class Extract:
    content: bytes
    people_rows: int
    area_rows: int


def _write(rows: Iterable[Sequence[object]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([defuse_formula(cell) if isinstance(cell, str) else cell for cell in row])
    return buffer.getvalue().encode()


def _bounds(request: ExtractRequest) -> tuple[datetime, datetime]:
    first = timezone.make_aware(datetime.combine(request.start, time.min))
    after = timezone.make_aware(
        datetime.combine(_month_end(request.end) + timedelta(days=1), time.min)
    )
    return first, after


def _by_person_month(
    rows: Iterable[dict[str, object]], *fields: str
) -> dict[tuple[int, date], dict[str, int]]:
    found: dict[tuple[int, date], dict[str, int]] = {}
    for row in rows:
        key = (int(row["participant_id"]), _local_month(row["month"]))  # type: ignore[arg-type]
        target = found.setdefault(key, dict.fromkeys(fields, 0))
        for name in fields:
            target[name] += int(row[name] or 0)  # type: ignore[call-overload]
    return found


def people_rows(request: ExtractRequest) -> list[list[object]]:
    organizations = list(request.organizations)
    first_moment, after_moment = _bounds(request)
    last_day = _month_end(request.end)
    enrollments = list(
        Enrollment.objects.filter(
            program__organization__in=organizations, referred_on__lte=last_day
        )
        .filter(Q(exited_on__isnull=True) | Q(exited_on__gte=request.start))
        .values(
            "pk",
            "participant_id",
            "program__kind",
            *Enrollment.STATUS_DATE_FIELDS.values(),
        )
        .order_by("participant_id", "referred_on", "pk")
    )
    people_ids = sorted({int(row["participant_id"]) for row in enrollments})
    people = {
        row["pk"]: row
        for row in Participant.objects.filter(pk__in=people_ids).values(
            "pk", "date_of_birth", "area__slug", "risk_tier"
        )
    }
    sessions = _by_person_month(
        SessionParticipant.objects.filter(
            participant_id__in=people_ids,
            session__organization__in=organizations,
            occurred_at__gte=first_moment,
            occurred_at__lt=after_moment,
        )
        .annotate(month=TruncMonth("occurred_at"))
        .values("participant_id", "month")
        .annotate(
            sessions=Count("session_id", distinct=True), minutes=Sum("session__duration_minutes")
        )
        .order_by(),
        "sessions",
        "minutes",
    )
    referrals = Referral.objects.filter(
        participant_id__in=people_ids, organization__in=organizations
    )
    made = _by_person_month(
        referrals.filter(made_on__gte=request.start, made_on__lte=last_day)
        .annotate(month=TruncMonth("made_on"))
        .values("participant_id", "month")
        .annotate(made=Count("pk"))
        .order_by(),
        "made",
    )
    completed = _by_person_month(
        referrals.filter(
            status=Referral.Status.COMPLETED, closed_on__gte=request.start, closed_on__lte=last_day
        )
        .annotate(month=TruncMonth("closed_on"))
        .values("participant_id", "month")
        .annotate(completed=Count("pk"))
        .order_by(),
        "completed",
    )
    # Reached: the person's first session (with any organisation) at or after the incident.
    first_contact = (
        SessionParticipant.objects.filter(
            participant_id=OuterRef("participant_id"),
            occurred_at__gte=OuterRef("incident__occurred_at"),
        )
        .order_by("occurred_at")
        .values("occurred_at")[:1]
    )
    tasks = _by_person_month(
        ResponseTask.objects.filter(
            participant_id__in=people_ids,
            organization__in=organizations,
            incident__occurred_at__gte=first_moment,
            incident__occurred_at__lt=after_moment,
        )
        .annotate(month=TruncMonth("incident__occurred_at"), first_contact=Subquery(first_contact))
        .values("participant_id", "month")
        .annotate(
            tasks=Count("pk"),
            within_24h=Count(
                "pk", filter=Q(first_contact__lte=F("incident__occurred_at") + timedelta(hours=24))
            ),
            within_72h=Count(
                "pk", filter=Q(first_contact__lte=F("incident__occurred_at") + timedelta(hours=72))
            ),
        )
        .order_by(),
        "tasks",
        "within_24h",
        "within_72h",
    )

    by_person: dict[int, list[dict[str, object]]] = {}
    for enrollment in enrollments:
        by_person.setdefault(int(enrollment["participant_id"]), []).append(enrollment)
    rows: list[list[object]] = []
    for person_id in people_ids:
        person = people[person_id]
        code = pseudonym(request.key, person_id)
        for month in months_between(request.start, request.end):
            month_end = _month_end(month)
            open_now = [
                e
                for e in by_person[person_id]
                if e["referred_on"] <= month_end  # type: ignore[operator]
                and (e["exited_on"] is None or e["exited_on"] >= month)  # type: ignore[operator]
            ]
            if not open_now:
                continue
            latest = open_now[-1]  # ordered by referral date
            key = (person_id, month)
            session = sessions.get(key, {})
            task = tasks.get(key, {})
            rows.append(
                [
                    code,
                    f"{month:%Y-%m}",
                    age_band(person["date_of_birth"], month),  # type: ignore[arg-type]
                    person["area__slug"] or UNRECORDED_AREA,
                    person["risk_tier"],
                    latest["program__kind"],
                    status_at(latest, month_end),
                    len(open_now),
                    session.get("sessions", 0),
                    session.get("minutes", 0),
                    made.get(key, {}).get("made", 0),
                    completed.get(key, {}).get("completed", 0),
                    task.get("tasks", 0),
                    task.get("within_24h", 0),
                    task.get("within_72h", 0),
                ]
            )
    # Sorted by pseudonym, so row order says nothing about database ids or registration order.
    rows.sort(key=lambda row: (row[0], row[1]))
    return rows


def area_rows(request: ExtractRequest) -> list[list[object]]:
    last_day = _month_end(request.end)
    rows: list[list[object]] = []
    official = (
        CrimeOutcome.objects.filter(period_start__lte=last_day)
        .filter(
            Q(granularity=CrimeOutcome.Granularity.MONTH, period_start__gte=request.start)
            | Q(
                granularity=CrimeOutcome.Granularity.YEAR,
                period_start__year__gte=request.start.year,
            )
        )
        .values_list("area__slug", "area__kind", "period_start", "granularity", "measure", "count")
        .order_by("area__slug", "period_start", "measure")
    )
    for slug, kind, period_start, granularity, measure, count in official:
        period = (
            f"{period_start:%Y}"
            if granularity == CrimeOutcome.Granularity.YEAR
            else f"{period_start:%Y-%m}"
        )
        rows.append([slug, kind, period, "official", measure, count])
    activity = (
        ActivityRollup.objects.filter(
            organization__in=list(request.organizations),
            month__gte=request.start,
            month__lte=request.end,
        )
        .values("area__slug", "area__kind", "month")
        .annotate(**{code: Sum(code) for code, _meaning, _people in ACTIVITY_MEASURES})
        .order_by("area__slug", "month")
    )
    for row in activity:
        for code, _meaning, counts_people in ACTIVITY_MEASURES:
            value = int(row[code] or 0)
            rows.append(
                [
                    row["area__slug"] or UNRECORDED_AREA,
                    row["area__kind"] or UNRECORDED_AREA,
                    f"{row['month']:%Y-%m}",
                    "activity",
                    code,
                    suppress(value, suppress_small=counts_people),
                ]
            )
    return rows


def dictionary_rows() -> list[list[object]]:
    rows: list[list[object]] = [["file", "column", "meaning", "allowed_values"]]
    rows += [["people.csv", name, meaning, allowed] for name, meaning, allowed in PEOPLE_COLUMNS]
    rows += [["areas.csv", name, meaning, allowed] for name, meaning, allowed in AREAS_COLUMNS]
    rows += [
        ["areas.csv", f"measure = {code}", meaning, "see value"]
        for code, meaning, _people in ACTIVITY_MEASURES
    ]
    rows += [
        ["areas.csv", f"measure = {code}", label, "see value"] for code, label in Measure.choices
    ]
    return rows


def build_extract(request: ExtractRequest) -> Extract:
    """The zip, in memory (a few MB at most for a city's program: one row per person-month)."""
    if len(request.key) < MIN_KEY_LENGTH:
        raise ValueError(f"The key must be at least {MIN_KEY_LENGTH} characters.")
    people = people_rows(request)
    areas = area_rows(request)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("people.csv", _write([[name for name, _m, _a in PEOPLE_COLUMNS], *people]))
        archive.writestr("areas.csv", _write([[name for name, _m, _a in AREAS_COLUMNS], *areas]))
        archive.writestr("dictionary.csv", _write(dictionary_rows()))
    return Extract(content=buffer.getvalue(), people_rows=len(people), area_rows=len(areas))


def organizations_for_extract() -> QuerySet[PartnerOrganization]:
    return PartnerOrganization.objects.order_by("name")
