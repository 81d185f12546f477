"""The quarterly funder report: who was served in a period, who they are, what they received and
what changed in their lives, for one organisation or all of them.

The report is a list of sections (SECTIONS). Each section is one function that takes the scope
and the period and returns a Section of tables whose cells are counted in the database (one
query per section, none per row; written in SQL, as building the ORM's expressions took most of
the report's time, and shaped so that a quarter for every organisation reads few rows: the
dosage from the day counts triggers keep, see models.report_counts). The page, the CSV and the
.xlsx workbook are drawn from the same built report, so a download is exactly what the page
shows.

Honesty and privacy rules kept here:
- counts of people (and of enrolments and referrals, which are people too) of 1 to 10 are
  shown as SUPPRESSED when the viewer is outside the organisation (a city admin, an analyst,
  or every organisation at once), and so is a second cell of any row or column whose shown
  total would otherwise give the hidden one away by subtraction (complementary suppression);
- a share is withheld where its numerator or denominator is suppressed, and every share has
  its counts beside it;
- an outcome window counts only people for whom it has closed (see cohort_outcome_counts);
- money (incentives paid) is not a count of people and is shown as it is, each funding source
  on its own, public and private never added together;
- nothing here is free text or a person: the report is counts only."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import (
    Exists,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, gettext_lazy, ngettext

from interventions.csv_export import csv_cell
from interventions.models import (
    Enrollment,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    ResponseTask,
    Session,
    SessionParticipant,
)
from interventions.models.outcomes import Demographics, Gender, Language, RaceEthnicity
from interventions.models.plans import Domain, FundingSource, Goal, IncentiveEntry, LifePlan
from interventions.models.report_counts import SessionDayCount, SessionDayCountFillState
from interventions.selectors import response as response_selectors
from interventions.selectors.outcomes import COHORT_MEASURES, COHORT_WINDOWS, cohort_outcome_counts

SUPPRESSED = "1\u201310"  # one, en dash, ten
WITHHELD = gettext_lazy("withheld")
CAVEAT = gettext_lazy(
    "Outcomes after enrolment are not proof that the program caused them: people who enrol "
    "differ from people who do not, and many other things change in a year."
)


@dataclass(frozen=True)
class ReportScope:
    """Whose figures, and whether small counts are hidden. `organizations` None: every one."""

    organizations: QuerySet[PartnerOrganization] | None
    label: str
    suppress_small_counts: bool


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    today: date

    @property
    def start_at(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.start, time.min))

    @property
    def end_before(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.end + timedelta(days=1), time.min))

    @property
    def label(self) -> str:
        return f"{self.start:%b %-d, %Y} to {self.end:%b %-d, %Y}"


@dataclass
class Table:
    """A table of figures. `rows` are [label, value, ...]. `people_columns` are the indexes (in
    a row, label at 0) of the columns that count people; only they are suppressed. `sums` are
    the groups of cells (row, column) that add up to a total cell, for complementary
    suppression."""

    title: str
    columns: list[str]
    rows: list[list[object]]
    people_columns: frozenset[int] = frozenset()
    sums: list[tuple[list[tuple[int, int]], tuple[int, int]]] = field(default_factory=list)
    note: str = ""
    # How the last column is filled after suppression: "" (it is not a share), SHARE_OF_ROW
    # (the row's count before it, of the count before that) or SHARE_OF_FIRST_ROW (the row's
    # first count, of the first row's), so a share never gives a hidden count away.
    share: str = ""


SHARE_OF_ROW = "row"
SHARE_OF_FIRST_ROW = "first_row"


@dataclass
class Section:
    title: str
    tables: list[Table]
    note: str = ""


@dataclass
class Report:
    scope: ReportScope
    period: Period
    sections: list[Section]

    def tables(self) -> Iterator[tuple[Section, Table]]:
        for section in self.sections:
            for table in section.tables:
                yield section, table


# Suppression -----------------------------------------------------------------------------------


def _is_small(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10


def suppress_table(table: Table) -> Table:
    """The table as someone outside the organisation may see it: people counts of 1-10 hidden,
    and in every group of cells that adds up to a shown total, a second cell hidden (the
    smallest positive one) wherever only one is, repeated until no group has a single hidden
    cell. Shares whose counts are hidden are withheld by the section that made them."""
    rows = [list(row) for row in table.rows]
    hidden: set[tuple[int, int]] = {
        (r, c)
        for r, row in enumerate(rows)
        for c in table.people_columns
        if c < len(row) and _is_small(row[c])
    }
    changed = True
    while changed:
        changed = False
        for members, total in table.sums:
            if total in hidden:
                continue
            hidden_members = [cell for cell in members if cell in hidden]
            if len(hidden_members) != 1:
                continue
            candidates = [
                cell
                for cell in members
                if cell not in hidden
                and isinstance(rows[cell[0]][cell[1]], int)
                and rows[cell[0]][cell[1]] > 0  # type: ignore[operator]
            ]
            if candidates:
                hidden.add(min(candidates, key=lambda cell: rows[cell[0]][cell[1]]))  # type: ignore[arg-type,return-value]
                changed = True
    for r, c in hidden:
        rows[r][c] = SUPPRESSED
    return replace(table, rows=rows)


def _column_sums(n_rows: int, columns: Iterable[int], total_row: int) -> list:
    return [([(r, c) for r in range(n_rows)], (total_row, c)) for c in columns]


def _row_sums(n_rows: int, columns: list[int], total_column: int) -> list:
    return [([(r, c) for c in columns], (r, total_column)) for r in range(n_rows)]


def share_cell(numerator: object, denominator: object) -> object:
    """A percentage of two shown counts; withheld when either is hidden, none without people."""
    if not isinstance(numerator, int) or not isinstance(denominator, int):
        return str(WITHHELD)
    if denominator == 0:
        return None
    return round(100 * numerator / denominator, 1)


def one_column_table(
    title: str, label: str, items: list[tuple[str, int]], total: int, note: str = ""
) -> Table:
    """Categories that add up to the total (each person in one category)."""
    rows: list[list[object]] = [[name, count] for name, count in items]
    rows.append([gettext("Total"), total])
    return Table(
        title,
        [label, gettext("People")],
        rows,
        frozenset({1}),
        _column_sums(len(items), [1], len(items)),
        note,
    )


# Sections --------------------------------------------------------------------------------------


def _in_scope(queryset: QuerySet, scope: ReportScope, path: str) -> QuerySet:
    if scope.organizations is None:
        return queryset
    return queryset.filter(**{f"{path}__in": scope.organizations})


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _scope_sql(scope: ReportScope, column: str) -> tuple[str, list[object]]:
    """An SQL condition keeping the rows of the scope's organisations (by `column`), and its
    parameters: the organisations' own query, as a subquery, so no extra round trip."""
    if scope.organizations is None:
        return "TRUE", []
    sql, params = scope.organizations.order_by().values("pk").query.sql_with_params()
    return f"{column} IN ({sql})", list(params)


def _programs_in_scope(scope: ReportScope, column: str) -> tuple[str, list[object]]:
    """As _scope_sql, for a row that names its program (`column`): every organisation needs no
    program at all, so the query then joins nothing."""
    if scope.organizations is None:
        return "TRUE", []
    in_scope, params = _scope_sql(scope, "program.organization_id")
    programs = f"SELECT program.id FROM {_table(Program)} program WHERE {in_scope}"  # noqa: S608  # nosec B608
    return f"{column} IN ({programs})", params


def _fetch(sql: str, params: list[object]) -> list[tuple]:
    """The rows of one report query. The sections write their aggregates in SQL: the same
    GROUP BY the ORM would build, without building it on every request (most of the report's
    Python time went there)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _served_conditions(scope: ReportScope, period: Period) -> tuple[Q, Q]:
    """(served in the period, served before it) as conditions on a participant: in a session
    the organisations logged, or enrolled (the "enrolled" step reached, not exited before) in one
    of their programs."""
    attended = SessionParticipant.objects.filter(participant=OuterRef("pk"))
    enrolled = Enrollment.objects.filter(participant=OuterRef("pk"), enrolled_on__isnull=False)
    if scope.organizations is not None:
        attended = attended.filter(session__organization__in=scope.organizations)
        enrolled = enrolled.filter(program__organization__in=scope.organizations)
    in_period = Q(
        Exists(attended.filter(occurred_at__gte=period.start_at, occurred_at__lt=period.end_before))
    ) | Q(
        Exists(
            enrolled.filter(enrolled_on__lte=period.end).filter(
                Q(exited_on__isnull=True) | Q(exited_on__gte=period.start)
            )
        )
    )
    before = Q(Exists(attended.filter(occurred_at__lt=period.start_at))) | Q(
        Exists(enrolled.filter(enrolled_on__lt=period.start))
    )
    return in_period, before


def served_people(scope: ReportScope, period: Period) -> QuerySet[Participant]:
    """Unduplicated people served in the period (see _served_conditions): the definition in
    the ORM, which the tests hold the report's own SQL (_people_served_groups) to."""
    in_period, _ = _served_conditions(scope, period)
    return Participant.objects.filter(in_period).order_by()


AGE_BANDS = (
    (gettext_lazy("Under 18"), None, 18),
    (gettext_lazy("18 to 24"), 18, 25),
    (gettext_lazy("25 to 34"), 25, 35),
    (gettext_lazy("35 and over"), 35, None),
)


def _people_served_groups(
    scope: ReportScope, period: Period, born_years_before: Callable[[int], date]
) -> list[tuple[bool, str, str | None, list[str] | None, str | None, int]]:
    """The people served (see _served_conditions) grouped by (continuing, age band, gender,
    race and ethnicity, language): a row per combination of answers, a few hundred at most
    however many people. One query.

    In SQL, and shaped for the planner: each person's enrolments in the organisations'
    programs are read once, grouped (served by an enrolment in the period; enrolled before
    it), and the attendance index is probed only for people those do not already settle
    (`OR` is evaluated left to right): most people served have an open enrolment, so most
    never cost a probe. The conditions are the same as _served_conditions'."""
    sessions_in_scope, session_params = _scope_sql(scope, "session.organization_id")
    programs_in_scope, program_params = _programs_in_scope(scope, "e.program_id")

    # Every organisation: the attendance index alone answers (no session row to read).
    to_session = (
        ""
        if scope.organizations is None
        else f"JOIN {_table(Session)} session ON session.id = attendance.session_id"
    )

    def attended(when: str) -> str:
        return f"""EXISTS (
            SELECT 1 FROM {_table(SessionParticipant)} attendance {to_session}
            WHERE attendance.participant_id = person.id AND {sessions_in_scope} AND {when})"""  # noqa: S608  # nosec B608

    bands = []
    band_params: list[object] = []
    for _label, low, high in AGE_BANDS:
        conditions = ["person.date_of_birth IS NOT NULL"]
        if low is not None:
            conditions.append("person.date_of_birth <= %s")
            band_params.append(born_years_before(low))
        if high is not None:
            conditions.append("person.date_of_birth > %s")
            band_params.append(born_years_before(high))
        bands.append(f"WHEN {' AND '.join(conditions)} THEN '{low}_{high}'")
    sql = f"""
        SELECT served.continuing, served.age_band, demographics.gender,
               demographics.race_ethnicity, demographics.preferred_language, COUNT(*)
        FROM (
            SELECT person.id,
                   CASE {" ".join(bands)} ELSE '' END AS age_band,
                   (COALESCE(enrolled.before_period, FALSE)
                    OR {attended("attendance.occurred_at < %s")}) AS continuing
            FROM {_table(Participant)} person
            LEFT JOIN (
                SELECT e.participant_id,
                       BOOL_OR(e.enrolled_on <= %s
                               AND (e.exited_on IS NULL OR e.exited_on >= %s)) AS in_period,
                       BOOL_OR(e.enrolled_on < %s) AS before_period
                FROM {_table(Enrollment)} e
                WHERE e.enrolled_on IS NOT NULL AND {programs_in_scope}
                GROUP BY e.participant_id
            ) enrolled ON enrolled.participant_id = person.id
            WHERE COALESCE(enrolled.in_period, FALSE)
               OR {attended("attendance.occurred_at >= %s AND attendance.occurred_at < %s")}
        ) served
        LEFT JOIN {_table(Demographics)} demographics
               ON demographics.participant_id = served.id
        GROUP BY 1, 2, 3, 4, 5
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    # In the order of the placeholders above.
    params = [
        *band_params,
        *session_params,
        period.start_at,
        period.end,
        period.start,
        period.start,
        *program_params,
        *session_params,
        period.start_at,
        period.end_before,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def people_served_section(scope: ReportScope, period: Period) -> Section:
    """The people served, new and continuing, and who they are (gender, race and ethnicity,
    language, age at the period's end): one query."""
    end = period.end

    def born_years_before(years: int) -> date:
        try:
            return end.replace(year=end.year - years)
        except ValueError:  # Feb 29
            return end.replace(year=end.year - years, day=28)

    counts: dict[str, int] = defaultdict(int)
    for continuing, age_band, gender, races, language, n in _people_served_groups(
        scope, period, born_years_before
    ):
        counts["total"] += n
        counts["continuing"] += n if continuing else 0
        counts[f"gender_{gender or ''}"] += n
        counts[f"language_{language or ''}"] += n
        counts[f"age_{age_band}"] += n
        for race in races or [""]:
            counts[f"race_{race}"] += n
    total = counts["total"]
    people = one_column_table(
        gettext("Unduplicated people served"),
        "",
        [
            (gettext("New in the period"), total - counts["continuing"]),
            (gettext("Continuing from before"), counts["continuing"]),
        ],
        total,
        note=gettext(
            "Each person counted once: in a session logged in the period, or enrolled in a "
            "program during it. Continuing: served before the period began."
        ),
    )
    not_recorded = gettext("Not recorded")
    gender = one_column_table(
        gettext("Gender"),
        gettext("Gender"),
        [(label, counts[f"gender_{value}"]) for value, label in Gender.choices]
        + [(not_recorded, counts["gender_"])],
        total,
    )
    race_items = [(label, counts[f"race_{value}"]) for value, label in RaceEthnicity.choices]
    race_items.append((not_recorded, counts["race_"]))
    race_rows: list[list[object]] = [[name, count] for name, count in race_items]
    race_rows.append([gettext("People served"), total])
    race = Table(
        gettext("Race and ethnicity"),
        [gettext("Race or ethnicity"), gettext("People")],
        race_rows,
        frozenset({1}),
        # Several may be chosen, so the rows add up to more than the people served; hiding a
        # second cell still keeps a lone hidden count from being guessed from the others.
        _column_sums(len(race_items), [1], len(race_items)),
        note=gettext("Several may be chosen: the rows add up to more than the people served."),
    )
    language = one_column_table(
        gettext("Preferred language"),
        gettext("Language"),
        [(label, counts[f"language_{value}"]) for value, label in Language.choices]
        + [(not_recorded, counts["language_"])],
        total,
    )
    age = one_column_table(
        gettext("Age at the end of the period"),
        gettext("Age"),
        [(label, counts[f"age_{low}_{high}"]) for label, low, high in AGE_BANDS]
        + [(gettext("Date of birth not recorded"), counts["age_"])],
        total,
    )
    return Section(gettext("People served and who they are"), [people, gender, race, language, age])


def enrollments_section(scope: ReportScope, period: Period) -> Section:
    """Enrolments in the organisations' programs open at some time in the period, by their
    status now, and those begun (referred) in it."""
    in_scope, scope_params = _programs_in_scope(scope, "enrollment.program_id")
    sql = f"""
        SELECT enrollment.status, COUNT(*), COUNT(*) FILTER (WHERE enrollment.referred_on >= %s)
        FROM {_table(Enrollment)} enrollment
        WHERE enrollment.referred_on <= %s
          AND (enrollment.exited_on IS NULL OR enrollment.exited_on >= %s) AND {in_scope}
        GROUP BY enrollment.status
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    counts = {
        status: {"enrolments": enrolments, "new": new}
        for status, enrolments, new in _fetch(
            sql, [period.start, period.end, period.start, *scope_params]
        )
    }
    statuses = Enrollment.Status.choices
    rows: list[list[object]] = [
        [label, counts.get(value, {}).get("enrolments", 0), counts.get(value, {}).get("new", 0)]
        for value, label in statuses
    ]
    rows.append([gettext("Total"), sum(r[1] for r in rows), sum(r[2] for r in rows)])  # type: ignore[misc]
    table = Table(
        gettext("Enrolments by status"),
        [gettext("Status now"), gettext("Open during the period"), gettext("Begun in the period")],
        rows,
        frozenset({1, 2}),
        _column_sums(len(statuses), [1, 2], len(statuses)),
    )
    return Section(gettext("Enrolments"), [table])


def _sessions_by_kind(scope: ReportScope, period: Period) -> dict[str, dict[str, int]]:
    """{kind: {"sessions": n, "minutes": m}} of the sessions the organisations logged in the
    period. One query: from the kept day counts (models.report_counts) when they are filled in
    the time zone the period's days are in, a few thousand rows for a quarter; else from the
    sessions. Both branches are in the one statement and PostgreSQL runs only the one whose
    fill-state test holds (a one-time filter), so the choice and the counts come from the same
    snapshot."""
    counts_in_scope, count_params = _scope_sql(scope, "counts.organization_id")
    sessions_in_scope, session_params = _scope_sql(scope, "session.organization_id")
    filled = f"""EXISTS (SELECT 1 FROM {_table(SessionDayCountFillState)} fill
                         WHERE fill.id = 1 AND fill.time_zone = %s)"""  # noqa: S608  # nosec B608
    sql = f"""
        SELECT kind, SUM(sessions), SUM(minutes)
        FROM (
            SELECT counts.kind, counts.sessions, counts.minutes
            FROM {_table(SessionDayCount)} counts
            WHERE counts.day >= %s AND counts.day <= %s AND {counts_in_scope} AND {filled}
            UNION ALL
            SELECT session.kind, 1, session.duration_minutes
            FROM {_table(Session)} session
            WHERE session.occurred_at >= %s AND session.occurred_at < %s
              AND {sessions_in_scope} AND NOT {filled}
        ) counted
        GROUP BY kind
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    zone = timezone.get_current_timezone_name()
    params = [
        period.start,
        period.end,
        *count_params,
        zone,
        period.start_at,
        period.end_before,
        *session_params,
        zone,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {
            kind: {"sessions": sessions, "minutes": minutes}
            for kind, sessions, minutes in cursor.fetchall()
        }


def sessions_section(scope: ReportScope, period: Period) -> Section:
    by_kind = _sessions_by_kind(scope, period)
    rows: list[list[object]] = []
    for value, label in Session.Kind.choices:
        row = by_kind.get(value, {})
        rows.append(
            [
                label,
                row.get("sessions", 0),
                round((row.get("minutes") or 0) / 60, 1),
            ]
        )
    total_minutes = sum((row.get("minutes") or 0) for row in by_kind.values())
    rows.append(
        [
            gettext("Total"),
            sum(row.get("sessions", 0) for row in by_kind.values()),
            round(total_minutes / 60, 1),
        ]
    )
    table = Table(
        gettext("Sessions and contact hours by kind"),
        [gettext("Kind"), gettext("Sessions"), gettext("Contact hours")],
        rows,
        note=gettext(
            "Sessions the organisations logged in the period, group sessions once each; "
            "contact hours are the sessions' durations. The people served are counted above."
        ),
    )
    return Section(gettext("Services and dosage"), [table])


def referrals_section(scope: ReportScope, period: Period) -> Section:
    in_scope, scope_params = _scope_sql(scope, "referral.organization_id")
    sql = f"""
        SELECT referral.service_category, referral.status, COUNT(*)
        FROM {_table(Referral)} referral
        WHERE referral.made_on >= %s AND referral.made_on <= %s AND {in_scope}
        GROUP BY 1, 2
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    counts = {
        (category, status): n
        for category, status, n in _fetch(sql, [period.start, period.end, *scope_params])
    }
    statuses = Referral.Status.choices
    categories = Referral.ServiceCategory.choices
    rows: list[list[object]] = []
    for category, label in categories:
        values = [counts.get((category, status), 0) for status, _ in statuses]
        rows.append([label, *values, sum(values)])
    width = len(statuses) + 1
    totals = [sum(row[c] for row in rows) for c in range(1, width + 1)]  # type: ignore[misc]
    rows.append([gettext("Total"), *totals])
    value_columns = list(range(1, width))
    table = Table(
        gettext("Referrals made in the period, by category and status now"),
        [gettext("Category"), *[label for _, label in statuses], gettext("Total")],
        rows,
        frozenset(range(1, width + 1)),
        _row_sums(len(categories) + 1, value_columns, width)
        + _column_sums(len(categories), range(1, width + 1), len(categories)),
    )
    return Section(gettext("Referrals"), [table])


def outcomes_section(scope: ReportScope, period: Period) -> Section:
    counts = cohort_outcome_counts(scope.organizations, period.start, period.end, period.today)
    rows: list[list[object]] = []
    for months in COHORT_WINDOWS:
        for measure, (label, _) in COHORT_MEASURES.items():
            rows.append(
                [
                    gettext("%(outcome)s within %(months)s months")
                    % {"outcome": label, "months": months},
                    counts[f"observed_{months}"],
                    counts[f"{measure}_{months}"],
                ]
            )
    table = Table(
        gettext("Outcomes of the people first enrolled in the period"),
        [
            gettext("Outcome"),
            gettext("People whose window has closed"),
            gettext("With the outcome"),
            gettext("Share (%)"),
        ],
        [[*row, None] for row in rows],
        frozenset({1, 2}),
        note=(
            ngettext(
                "%(count)s people were first enrolled in the period. A window counts only "
                "people enrolled long enough ago for it to have closed.",
                "%(count)s people were first enrolled in the period. A window counts only "
                "people enrolled long enough ago for it to have closed.",
                counts["enrolled"],
            )
            % {"count": counts["enrolled"]}
            + " "
            + str(CAVEAT)
        ),
        share=SHARE_OF_ROW,
    )
    if scope.suppress_small_counts and _is_small(counts["enrolled"]):
        table.note = (
            gettext("Between 1 and 10 people were first enrolled in the period.")
            + " "
            + str(CAVEAT)
        )
    return Section(gettext("Outcomes in people's lives"), [table])


def response_section(scope: ReportScope, period: Period) -> Section:
    tasks = _in_scope(
        ResponseTask.objects.filter(
            incident__occurred_at__gte=period.start_at,
            incident__occurred_at__lt=period.end_before,
        ),
        scope,
        "organization",
    )
    reach = response_selectors.incident_reach(tasks)
    rows: list[list[object]] = [
        [gettext("Connected to a shooting"), reach.connected, None],
        [gettext("Reached at all"), reach.reached, None],
        [gettext("Reached within 24 hours"), reach.within_24h, None],
        [gettext("Reached within 72 hours"), reach.within_72h, None],
    ]
    table = Table(
        gettext("Response reach after shootings"),
        [gettext("People"), gettext("Count"), gettext("Share of the connected (%)")],
        rows,
        frozenset({1}),
        note=gettext(
            "People connected to shootings in the period, and how soon a worker met them."
        ),
        share=SHARE_OF_FIRST_ROW,
    )
    return Section(gettext("Shooting response"), [table])


def plans_section(scope: ReportScope, period: Period) -> Section:
    """People with a goal in each domain on an approved life plan in force at some time in the
    period (approved before its end, not superseded before its start), and how many of them
    have a goal in the domain achieved (status now). Counts of people, each once per row; one
    query."""
    in_scope, scope_params = _scope_sql(scope, "program.organization_id")
    # GROUPING SETS: a row per domain, and the row of every domain together (domain NULL),
    # where a person with goals in several domains is counted once.
    sql = f"""
        SELECT goal.domain, GROUPING(goal.domain) = 1 AS every_domain,
               COUNT(DISTINCT enrollment.participant_id),
               COUNT(DISTINCT enrollment.participant_id) FILTER (WHERE goal.status = %s)
        FROM {_table(Goal)} goal
        JOIN {_table(LifePlan)} plan ON plan.id = goal.plan_id
        JOIN {_table(Enrollment)} enrollment ON enrollment.id = plan.enrollment_id
        JOIN {_table(Program)} program ON program.id = enrollment.program_id
        WHERE plan.approved_at < %s AND plan.status IN (%s, %s)
          AND (plan.superseded_at IS NULL OR plan.superseded_at >= %s)
          AND {in_scope}
        GROUP BY GROUPING SETS ((goal.domain), ())
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    params = [
        Goal.Status.ACHIEVED.value,
        period.end_before,
        LifePlan.Status.APPROVED.value,
        LifePlan.Status.SUPERSEDED.value,
        period.start_at,
        *scope_params,
    ]
    counts: dict[str, int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for domain, every_domain, people_set, people_achieved in cursor.fetchall():
            key = "any" if every_domain else domain
            counts[f"set_{key}"] = people_set
            counts[f"achieved_{key}"] = people_achieved
    rows: list[list[object]] = [
        [label, counts[f"set_{value}"], counts[f"achieved_{value}"], None]
        for value, label in Domain.choices
    ]
    rows.append([gettext("Any domain"), counts["set_any"], counts["achieved_any"], None])
    table = Table(
        gettext("Plans with goals set and achieved by domain"),
        [
            gettext("Domain"),
            gettext("People with a goal set"),
            gettext("People with a goal achieved"),
            gettext("Share achieved (%)"),
        ],
        rows,
        frozenset({1, 2}),
        # A person may have goals in several domains, so the rows add up to more than "Any
        # domain"; hiding a second cell still keeps a lone hidden count from being guessed.
        _column_sums(len(Domain.choices), [1, 2], len(Domain.choices)),
        note=gettext(
            "People with a goal on an approved life plan in force during the period; achieved "
            "is the goal's status now. A person with goals in several domains is in each of their "
            "rows and once in Any domain."
        ),
        share=SHARE_OF_ROW,
    )
    return Section(gettext("Life plans"), [table])


def _dollars(cents: int | None) -> Decimal:
    return (Decimal(cents or 0) / 100).quantize(Decimal("0.01"))


def incentives_section(scope: ReportScope, period: Period) -> Section:
    """Incentives paid in the period (by the day finance marked them paid), per funding source:
    public grant and private money each on their own row and never added together; a reversal
    posted in the period is netted from its source's money. Money is not a count of people and
    is never suppressed; the people paid are. One query."""
    in_scope, scope_params = _scope_sql(scope, "program.organization_id")
    sql = f"""
        SELECT entry.funding_source,
               COUNT(DISTINCT enrollment.participant_id) FILTER (WHERE entry.kind = %s),
               SUM(entry.amount_cents) FILTER (WHERE entry.kind = %s),
               SUM(entry.amount_cents) FILTER (WHERE entry.kind = %s),
               SUM(entry.amount_cents)
        FROM {_table(IncentiveEntry)} entry
        JOIN {_table(Enrollment)} enrollment ON enrollment.id = entry.enrollment_id
        JOIN {_table(Program)} program ON program.id = enrollment.program_id
        WHERE entry.status = %s AND entry.paid_on >= %s AND entry.paid_on <= %s AND {in_scope}
        GROUP BY entry.funding_source
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    payment, reversal = IncentiveEntry.Kind.PAYMENT.value, IncentiveEntry.Kind.REVERSAL.value
    params = [
        payment,
        payment,
        reversal,
        IncentiveEntry.Status.PAID.value,
        period.start,
        period.end,
        *scope_params,
    ]
    by_source = {
        source: {
            "people": people,
            "paid_cents": paid_cents,
            "reversed_cents": reversed_cents,
            "net_cents": net_cents,
        }
        for source, people, paid_cents, reversed_cents, net_cents in _fetch(sql, params)
    }
    rows: list[list[object]] = []
    for value, label in FundingSource.choices:
        row = by_source.get(value, {})
        rows.append(
            [
                label,
                row.get("people", 0),
                _dollars(row.get("paid_cents")),
                _dollars(-(row.get("reversed_cents") or 0)),
                _dollars(row.get("net_cents")),
            ]
        )
    table = Table(
        gettext("Incentives paid by funding source"),
        [
            gettext("Funding source"),
            gettext("People paid"),
            gettext("Paid ($)"),
            gettext("Reversed ($)"),
            gettext("Net paid ($)"),
        ],
        rows,
        frozenset({1}),
        note=gettext(
            "Payments and reversals marked paid in the period. Public and private money are "
            "separate sources and are not added together; a person paid from both is on both rows."
        ),
    )
    return Section(gettext("Incentives"), [table])


SectionBuilder = Callable[[ReportScope, Period], Section]

# The report, in order: a new table is one more function with the same signature, and appears on
# the page, in the CSV and as a sheet of the workbook.
SECTIONS: list[SectionBuilder] = [
    people_served_section,
    enrollments_section,
    sessions_section,
    referrals_section,
    plans_section,
    incentives_section,
    outcomes_section,
    response_section,
]


def _with_shares(table: Table) -> Table:
    if table.share == SHARE_OF_ROW:
        for row in table.rows:
            row[-1] = share_cell(row[-2], row[-3])
    elif table.share == SHARE_OF_FIRST_ROW:
        first = table.rows[0][1]
        for row in table.rows[1:]:
            row[-1] = share_cell(row[1], first)
    return table


def build_report(scope: ReportScope, period: Period) -> Report:
    with transaction.atomic(), connection.cursor() as cursor:
        # The sections' queries are many small index lookups whose summed cost estimate is high
        # enough to make PostgreSQL compile them to machine code (JIT) first, which takes
        # seconds, far longer than running them: this report does without it.
        cursor.execute("SET LOCAL jit = off")
        sections = [builder(scope, period) for builder in SECTIONS]
    for section in sections:
        for table in section.tables:
            # Choice labels are lazy translations: the page, the CSV and the workbook get text.
            table.rows = [
                [str(cell) if isinstance(cell, Promise) else cell for cell in row]
                for row in table.rows
            ]
        if scope.suppress_small_counts:
            section.tables = [suppress_table(table) for table in section.tables]
        section.tables = [_with_shares(table) for table in section.tables]
    return Report(scope, period, sections)


# Downloads -------------------------------------------------------------------------------------


def report_lines(report: Report) -> Iterator[list[object]]:
    """The report as CSV rows: a title block, then each table under its section and title."""
    yield ["Scope", report.scope.label]
    yield ["Period", report.period.start, report.period.end]
    if report.scope.suppress_small_counts:
        yield ["Counts of 1 to 10 people are shown as 1\u201310."]
    for section, table in report.tables():
        yield []
        yield [section.title, table.title]
        yield list(table.columns)
        yield from (list(row) for row in table.rows)
        if table.note:
            yield ["Note", table.note]


_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_FORBIDDEN.sub(" ", title)[:31].strip() or "Table"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" {n}"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def report_workbook(report: Report) -> bytes:
    """The report as an .xlsx workbook, one sheet per table. Every cell goes through the CSV
    writer's defusing, so a label that starts with = + - @ is text, never a formula."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for section, table in report.tables():
        sheet = workbook.create_sheet(_sheet_title(table.title, taken))
        head = [
            [section.title, table.title],
            ["Scope", report.scope.label],
            ["Period", report.period.start, report.period.end],
        ]
        if report.scope.suppress_small_counts:
            head.append(["Counts of 1 to 10 people are shown as 1\u201310."])
        for row in [*head, [], list(table.columns), *table.rows]:
            sheet.append([csv_cell(value) for value in row])
        if table.note:
            sheet.append([])
            sheet.append([csv_cell("Note"), csv_cell(table.note)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# Periods ---------------------------------------------------------------------------------------


def quarter_of(day: date) -> tuple[date, date]:
    first_month = 3 * ((day.month - 1) // 3) + 1
    start = date(day.year, first_month, 1)
    next_start = date(day.year + (first_month + 3 > 12), (first_month + 2) % 12 + 1, 1)
    return start, next_start - timedelta(days=1)


def previous_quarter(today: date) -> tuple[date, date]:
    start, _ = quarter_of(today)
    return quarter_of(start - timedelta(days=1))
