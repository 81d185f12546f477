"""Reads of demographics, outcome events and assessments for one participant page, through the
same door as the rest of the case data (interventions.selectors).

- Outcome events, assessments and tier changes are seen by whoever may see the participant;
  their free text (event notes, the reason of a tier set by hand) only by the organisation that
  wrote it: both are notes (interventions/notes.py), read through `access.with_notes_for`, so
  rows of other organisations come with them blanked and no template can show them.
- Demographics are the owning organisation's, and another organisation's only under a valid
  consent to it that includes them (`Consent.shares_demographics`); an emergency override does
  not open them.
- Cohort outcome measures for the funder report are counts, computed in the database."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date
from itertools import pairwise

from django.conf import settings
from django.db import connection
from django.db.models import (
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.utils.translation import gettext_lazy

from interventions.access import (
    AnyUser,
    consents_covering,
    organizations_of,
    participants_visible_to,
    with_notes_for,
)
from interventions.models import Enrollment, Participant, PartnerOrganization, Program
from interventions.models.outcomes import (
    Assessment,
    Demographics,
    OutcomeEvent,
    RiskTierChange,
    ScaleScore,
)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), on the month's last day where it is shorter,
    as PostgreSQL adds an interval of months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def outcome_events_visible_to(user: AnyUser) -> QuerySet[OutcomeEvent]:
    return with_notes_for(
        OutcomeEvent.objects.filter(participant__in=participants_visible_to(user)), user
    )


def assessments_visible_to(user: AnyUser) -> QuerySet[Assessment]:
    return Assessment.objects.filter(participant__in=participants_visible_to(user))


def tier_changes_visible_to(user: AnyUser) -> QuerySet[RiskTierChange]:
    return with_notes_for(
        RiskTierChange.objects.filter(participant__in=participants_visible_to(user)), user
    )


def owns(user: AnyUser, participant: Participant) -> bool:
    """Whether the user belongs to the organisation that holds the record."""
    return organizations_of(user).filter(pk=participant.organization_id).exists()


def demographics_visible_to(user: AnyUser, participant: Participant) -> Demographics | None:
    """The person's demographics if this user may see them (see the module docstring); None
    when they may not, or none were recorded. Callers ask `may_see_demographics` to tell the
    two apart."""
    if not may_see_demographics(user, participant):
        return None
    return Demographics.objects.filter(participant=participant).first()


def may_see_demographics(user: AnyUser, participant: Participant) -> bool:
    if owns(user, participant):
        return True
    return (
        consents_covering(organizations_of(user))
        .filter(participant=participant, shares_demographics=True)
        .exists()
    )


# Assessments on the participant page -----------------------------------------------------------


@dataclass
class ScaleRow:
    name: str
    cutoff: int
    scores: list[int | None]
    changes: list[int | None]

    @property
    def cells(self) -> list[tuple[int | None, int | None]]:
        """(score, change from the assessment before) for each assessment, oldest first."""
        return list(zip(self.scores, self.changes, strict=True))


@dataclass
class InstrumentHistory:
    """One instrument's assessments of a person, oldest first, and each scale's score in each,
    with the change from the assessment before."""

    name: str
    is_example: bool
    assessments: list[Assessment]
    scales: list[ScaleRow] = field(default_factory=list)
    next_due: date | None = None


def assessment_histories(user: AnyUser, participant: Participant) -> list[InstrumentHistory]:
    """Two queries: the assessments, then every scale score of them. Scales are matched across
    versions by their code, so a reworded version still shows change on the same scale."""
    assessments = list(
        assessments_visible_to(user)
        .filter(participant=participant)
        .select_related("version__instrument", "assessed_by")
        .order_by("assessed_on", "pk")
    )
    if not assessments:
        return []
    scores = list(
        ScaleScore.objects.filter(assessment__in=assessments)
        .select_related("scale")
        .order_by("scale__position", "scale_id")
    )
    instrument_of = {a.pk: a.version.instrument_id for a in assessments}
    by_assessment: dict[int, dict[str, int]] = {}
    scale_names: dict[int, dict[str, tuple[str, int]]] = {}
    for score in scores:
        by_assessment.setdefault(score.assessment_id, {})[score.scale.code] = score.score
        scale_names.setdefault(instrument_of[score.assessment_id], {})[score.scale.code] = (
            score.scale.name,
            score.scale.cutoff,
        )
    histories: dict[int, InstrumentHistory] = {}
    for assessment in assessments:
        instrument = assessment.version.instrument
        history = histories.setdefault(
            instrument.pk, InstrumentHistory(instrument.name, instrument.is_example, [])
        )
        history.assessments.append(assessment)
    months = settings.GVR_REASSESSMENT_MONTHS
    for instrument_id, history in histories.items():
        for code, (name, cutoff) in scale_names.get(instrument_id, {}).items():
            values = [by_assessment.get(a.pk, {}).get(code) for a in history.assessments]
            changes: list[int | None] = [None]
            for before, after in pairwise(values):
                changes.append(None if before is None or after is None else after - before)
            history.scales.append(ScaleRow(name, cutoff, values, changes))
        history.next_due = add_months(history.assessments[-1].assessed_on, months)
    return list(histories.values())


# Cohort outcome measures -----------------------------------------------------------------------


COHORT_WINDOWS = (6, 12)
# What each measure counts, and the outcome kinds that count for it.
COHORT_MEASURES: dict[str, tuple[str, tuple[str, ...]]] = {
    "arrest": (gettext_lazy("A new arrest"), (OutcomeEvent.Kind.ARREST,)),
    "injury": (
        gettext_lazy("A new violent injury"),
        (OutcomeEvent.Kind.VIOLENT_VICTIMIZATION, OutcomeEvent.Kind.REINJURY),
    ),
    "job": (gettext_lazy("A job"), (OutcomeEvent.Kind.EMPLOYMENT_STARTED,)),
    "credential": (gettext_lazy("A credential"), (OutcomeEvent.Kind.CREDENTIAL_EARNED,)),
}


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def cohort_outcome_counts(
    organizations: QuerySet[PartnerOrganization] | None, start: date, end: date, today: date
) -> dict[str, int]:
    """Of the people first enrolled (status "enrolled" reached) in the organisations' programs
    between start and end: how many had each outcome within 6 and 12 months of that enrolment.

    A window counts only people for whom it has closed by `today` (enrolled at least 6 or 12
    months ago): someone enrolled last month has had no chance of a job within 12 months yet, and
    counting them would make every recent cohort look worse. Keys: `enrolled`, `observed_6`,
    `observed_12`, and `<measure>_<months>` for each measure. One query.

    Written in SQL: the cohort is one GROUP BY over the enrolments (each person's first
    enrolment in the organisations' programs, kept when it falls in the period), and each
    measure one index probe per person of the cohort into their outcome events. Events of any
    organisation count: what happened in the person's life, whoever recorded it. A window ends
    on the same day `months` later, as PostgreSQL adds months (Jan 31 + 1 month is Feb 28/29)."""
    scope_params: list[object] = []
    scoped = ""
    if organizations is not None:
        org_sql, org_params = organizations.order_by().values("pk").query.sql_with_params()
        scoped = (
            f"JOIN {_table(Program)} program ON program.id = e.program_id"
            f" AND program.organization_id IN ({org_sql})"
        )
        scope_params.extend(org_params)
    columns = ["COUNT(*)"]
    column_params: list[object] = []
    keys = ["enrolled"]
    for months in COHORT_WINDOWS:
        # The window has closed: first enrolled at least `months` months before today.
        observed = "cohort.first_enrolled <= %s"
        closed_by = min(end, add_months(today, -months))
        columns.append(f"COUNT(*) FILTER (WHERE {observed})")
        column_params.append(closed_by)
        keys.append(f"observed_{months}")
        for measure, (_, kinds) in COHORT_MEASURES.items():
            columns.append(
                f"""COUNT(*) FILTER (WHERE {observed} AND EXISTS (
                    SELECT 1 FROM {_table(OutcomeEvent)} event
                    WHERE event.participant_id = cohort.participant_id
                      AND event.kind = ANY(%s)
                      AND event.occurred_on >= cohort.first_enrolled
                      AND event.occurred_on
                          <= (cohort.first_enrolled + interval '{int(months)} months')::date))"""  # noqa: S608  # nosec B608
            )
            column_params.extend([closed_by, [str(kind) for kind in kinds]])
            keys.append(f"{measure}_{months}")
    sql = f"""
        SELECT {", ".join(columns)}
        FROM (
            SELECT e.participant_id, MIN(e.enrolled_on) AS first_enrolled
            FROM {_table(Enrollment)} e {scoped}
            WHERE e.enrolled_on IS NOT NULL
            GROUP BY e.participant_id
            HAVING MIN(e.enrolled_on) BETWEEN %s AND %s
        ) cohort
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [*column_params, *scope_params, start, end])
        row = cursor.fetchone()
    return dict(zip(keys, row, strict=True))


# Assessments due -------------------------------------------------------------------------------


def assessments_due(user: AnyUser, today: date) -> QuerySet[Participant]:
    """The user's caseload people of their own organisations who have no assessment yet (an
    intake is due) or whose last one is GVR_REASSESSMENT_MONTHS old or more, annotated
    `last_assessed_on` (None: never), never assessed first, then the longest ago."""
    from interventions.selectors.worker import caseload_for

    last = (
        Assessment.objects.filter(participant=OuterRef("pk"))
        .order_by("-assessed_on")
        .values("assessed_on")[:1]
    )
    due_before = add_months(today, -settings.GVR_REASSESSMENT_MONTHS)
    return (
        caseload_for(user)
        .filter(organization__in=organizations_of(user))
        .annotate(last_assessed_on=Subquery(last))
        .filter(Q(last_assessed_on__isnull=True) | Q(last_assessed_on__lte=due_before))
        .order_by(F("last_assessed_on").asc(nulls_first=True), "last_name", "first_name", "pk")
    )
