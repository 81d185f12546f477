"""Writes for metrics: rebuilding the activity rollup, and asking for a rebuild after a change.

The rollup is computed by PostgreSQL in one INSERT ... SELECT with GROUP BY (never a loop over
rows in Python). A refresh of a month range deletes that range and inserts it again in one
transaction, together with its fill-state rows: running it twice, or again after a crash
half-way, leaves the same table."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext

from interventions.claims import ClaimStore
from interventions.dates import local_midnight, local_month_of, month_start, next_month
from interventions.errors import ServiceError
from interventions.models import (
    Area,
    Enrollment,
    Participant,
    Program,
    Referral,
    Session,
    SessionParticipant,
)
from interventions.outbox.services import enqueue
from metrics.models import ActivityRollup, RollupFillState

logger = logging.getLogger(__name__)

# A refresh of a month waits this long after the session that asked for it; the relay sends the
# refreshes of a month that are due together as one, so a burst of sessions (a worker catching
# up at the end of a shift) costs one refresh, not one each.
REFRESH_DELAY_SECONDS = 30
# Serialises concurrent refreshes (an arbitrary constant unique to this lock).
ROLLUP_LOCK_ID = 4_740_001
ROLLUP_WORK_MEM = "256MB"


def data_month_bounds() -> tuple[date, date] | None:
    """The first and last month that hold any activity, or None when there is none."""
    found: list[date] = []
    sessions = Session.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    for moment in (sessions["first"], sessions["last"]):
        if moment is not None:
            found.append(local_month_of(moment))
    for model, fields in (
        (Enrollment, ("enrolled_on", "exited_on")),
        (Referral, ("made_on", "closed_on")),
    ):
        bounds = model.objects.aggregate(
            **{f"{f}_min": Min(f) for f in fields}, **{f"{f}_max": Max(f) for f in fields}
        )
        found.extend(month_start(day) for day in bounds.values() if day is not None)
    if not found:
        return None
    return min(found), max(found)


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _rollup_sql(*, whole: bool = False, one_organization: bool = False) -> str:
    """INSERT ... SELECT of every rollup group in [start, end). One statement; PostgreSQL
    does the grouping. Each UNION ALL branch yields one kind of count, the outer GROUP BY
    puts the counts of a group on one row.

    A range of months reads only that range: the sessions by their time, and their attendance
    rows by the session time copied onto each of them (fixed once logged), so both come from
    an index and a month costs a month's rows, not a scan of every attendance row ever
    recorded. `whole` (every month with activity) reads everything with no range at all: the
    sequential scans the full rebuild wants, as the hand-written GROUP BY does.
    `one_organization` narrows every branch to the groups of %(organization)s: the sessions
    by their (organization, occurred_at) index, enrolments by their program's organisation,
    referrals by the organisation that made them."""
    tables = {
        "rollup": _table(ActivityRollup),
        "session": _table(Session),
        "attendance": _table(SessionParticipant),
        "participant": _table(Participant),
        "program": _table(Program),
        "enrollment": _table(Enrollment),
        "referral": _table(Referral),
    }
    unspecified = ActivityRollup.UNSPECIFIED_KIND
    attendance_range = session_range = ""
    if not whole:
        attendance_range = "AND sp.occurred_at >= %(start_at)s AND sp.occurred_at < %(end_at)s"
        session_range = "WHERE s.occurred_at >= %(start_at)s AND s.occurred_at < %(end_at)s"
    # Each session's attendance rows, the first one marked. Over many sessions, in one pass
    # over the join with a window; for one organisation's month (a few thousand sessions
    # among every organisation's), the rows of each session by its index instead, as a
    # hash of the whole month's attendance would cost far more than the sessions wanted.
    session_rows = f"""
            SELECT s.occurred_at, s.organization_id, s.program_id, s.duration_minutes,
                   sp.participant_id,
                   sp.id IS NOT DISTINCT FROM MIN(sp.id) OVER (PARTITION BY s.id)
                       AS first_attendee
            FROM {tables["session"]} s
            LEFT JOIN {tables["attendance"]} sp ON sp.session_id = s.id
                {attendance_range}"""  # noqa: S608  # nosec B608 - table names from model metadata
    if one_organization:
        session_rows = f"""
            SELECT s.occurred_at, s.organization_id, s.program_id, s.duration_minutes,
                   sp.participant_id, COALESCE(sp.first_attendee, TRUE) AS first_attendee
            FROM {tables["session"]} s
            LEFT JOIN LATERAL (
                SELECT one.participant_id, one.id = MIN(one.id) OVER () AS first_attendee
                FROM {tables["attendance"]} one WHERE one.session_id = s.id
            ) sp ON TRUE"""  # noqa: S608  # nosec B608 - table names from model metadata
    ours = {"program": "", "referral": ""}
    if one_organization:
        session_range += " AND s.organization_id = %(organization)s"
        ours = {
            "program": "AND pr.organization_id = %(organization)s",
            "referral": "AND r.organization_id = %(organization)s",
        }
    return f"""
    INSERT INTO {tables["rollup"]} (
        month, organization_id, program_kind, area_id, sessions, contact_minutes,
        participants_served, new_enrollments, exits, referrals_made, referrals_completed
    )
    SELECT month, organization_id, program_kind, area_id,
           SUM(sessions), SUM(contact_minutes), SUM(participants_served),
           SUM(new_enrollments), SUM(exits), SUM(referrals_made), SUM(referrals_completed)
    FROM (
        -- Sessions, minutes and people served in one pass over the attendance. A session
        -- counts once, in the area of its first recorded participant: the window marks that
        -- attendance row (the lowest id of the session's rows), reading the session's rows
        -- together as the join already delivers them, so no per-session lookup or hash of a
        -- million sessions. People are counted once per group, in their own area. A session
        -- with nobody recorded on it still counts, with no area.
        SELECT date_trunc('month', a.occurred_at AT TIME ZONE %(tz)s)::date AS month,
               a.organization_id,
               COALESCE(pr.kind, '{unspecified}') AS program_kind,
               p.area_id,
               COUNT(*) FILTER (WHERE a.first_attendee) AS sessions,
               COALESCE(SUM(a.duration_minutes) FILTER (WHERE a.first_attendee), 0)
                   AS contact_minutes,
               COUNT(DISTINCT a.participant_id) AS participants_served,
               0 AS new_enrollments, 0 AS exits, 0 AS referrals_made, 0 AS referrals_completed
        FROM (
            {session_rows}
            {session_range}
        ) a
        LEFT JOIN {tables["program"]} pr ON pr.id = a.program_id
        LEFT JOIN {tables["participant"]} p ON p.id = a.participant_id
        GROUP BY 1, 2, 3, 4

        UNION ALL
        SELECT date_trunc('month', e.enrolled_on)::date, pr.organization_id, pr.kind, p.area_id,
               0, 0, 0, COUNT(*), 0, 0, 0
        FROM {tables["enrollment"]} e
        JOIN {tables["program"]} pr ON pr.id = e.program_id
        JOIN {tables["participant"]} p ON p.id = e.participant_id
        WHERE e.enrolled_on >= %(start)s AND e.enrolled_on < %(end)s {ours["program"]}
        GROUP BY 1, 2, 3, 4

        UNION ALL
        SELECT date_trunc('month', e.exited_on)::date, pr.organization_id, pr.kind, p.area_id,
               0, 0, 0, 0, COUNT(*), 0, 0
        FROM {tables["enrollment"]} e
        JOIN {tables["program"]} pr ON pr.id = e.program_id
        JOIN {tables["participant"]} p ON p.id = e.participant_id
        WHERE e.exited_on >= %(start)s AND e.exited_on < %(end)s {ours["program"]}
        GROUP BY 1, 2, 3, 4

        UNION ALL
        -- A referral belongs to no program: it is counted under "unspecified".
        SELECT date_trunc('month', r.made_on)::date, r.organization_id, '{unspecified}',
               p.area_id, 0, 0, 0, 0, 0, COUNT(*), 0
        FROM {tables["referral"]} r
        JOIN {tables["participant"]} p ON p.id = r.participant_id
        WHERE r.made_on >= %(start)s AND r.made_on < %(end)s {ours["referral"]}
        GROUP BY 1, 2, 3, 4

        UNION ALL
        SELECT date_trunc('month', r.closed_on)::date, r.organization_id, '{unspecified}',
               p.area_id, 0, 0, 0, 0, 0, 0, COUNT(*)
        FROM {tables["referral"]} r
        JOIN {tables["participant"]} p ON p.id = r.participant_id
        WHERE r.status = %(completed)s AND r.closed_on >= %(start)s AND r.closed_on < %(end)s
            {ours["referral"]}
        GROUP BY 1, 2, 3, 4
    ) parts
    GROUP BY month, organization_id, program_kind, area_id
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters


@transaction.atomic
def refresh_rollups(
    *,
    start_month: date | None = None,
    end_month: date | None = None,
    organization_id: int | None = None,
) -> int:
    """Rebuild the rollup for the months from start_month to end_month (both included; any day
    of a month stands for the month). With neither, rebuild every month that has activity and
    drop everything else. Returns the number of rollup rows written.

    With `organization_id` (and the months), rebuild only that organisation's rows of months
    that are already filled: what a write of that organisation's changes, at a tenth of the
    cost of the whole month. A month not yet filled is rebuilt whole, so a month with a
    fill-state row is still complete for every organisation."""
    everything = start_month is None and end_month is None
    if everything and organization_id is not None:
        raise ServiceError("Give the months to refresh for one organisation.")
    if everything:
        bounds = data_month_bounds()
        current = local_month_of(timezone.now())
        start, last = bounds if bounds else (current, current)
        last = max(last, current)
    else:
        if start_month is None or end_month is None:
            raise ServiceError(gettext("Give both the first and the last month, or neither."))
        start, last = month_start(start_month), month_start(end_month)
    if last < start:
        raise ServiceError(gettext("The last month is before the first month."))
    end = next_month(last)

    with connection.cursor() as cursor:
        # Two refreshes at once would each delete and insert the same groups; take turns.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_ID])
        # A full refresh sorts a million attendance rows for its distinct-people counts; with
        # enough memory the sort stays in memory instead of spilling to disk.
        cursor.execute("SET LOCAL work_mem = %s", [ROLLUP_WORK_MEM])
    months = RollupFillState.objects.filter(month__gte=start, month__lt=end)
    one_organization = organization_id is not None and months.count() == _months_between(start, end)
    if everything:
        ActivityRollup.objects.all().delete()
        RollupFillState.objects.all().delete()
    elif one_organization:
        ActivityRollup.objects.filter(
            month__gte=start, month__lt=end, organization_id=organization_id
        ).delete()
        months.update(refreshed_at=timezone.now())
    else:
        ActivityRollup.objects.filter(month__gte=start, month__lt=end).delete()
        months.delete()
    params = {
        "tz": timezone.get_current_timezone_name(),
        "start": start,
        "end": end,
        "start_at": local_midnight(start),
        "end_at": local_midnight(end),
        "completed": Referral.Status.COMPLETED.value,
        "organization": organization_id,
    }
    with connection.cursor() as cursor:
        cursor.execute(_rollup_sql(whole=everything, one_organization=one_organization), params)
        written = cursor.rowcount
    if not one_organization:
        _mark_filled(start, end)
    logger.info("Activity rollup refreshed for %s to %s: %s rows", start, last, written)
    return written


def _months(start: date, end: date) -> list[date]:
    months: list[date] = []
    month = start
    while month < end:
        months.append(month)
        month = next_month(month)
    return months


def _months_between(start: date, end: date) -> int:
    return len(_months(start, end))


def _mark_filled(start: date, end: date) -> None:
    now = timezone.now()
    RollupFillState.objects.bulk_create(
        [RollupFillState(month=month, refreshed_at=now) for month in _months(start, end)]
    )


# Asking for a refresh after a change -------------------------------------------------------


def refresh_on_commit(moment: datetime, organization_id: int | None = None) -> None:
    """Within a write's transaction: record (in the outbox, so a broker that is down loses
    nothing) a refresh of the month it touched, sent REFRESH_DELAY_SECONDS after the commit;
    of that organisation's rows only when the write changes no other organisation's (a
    session). The refreshes of one month (and organisation) that are due together are sent
    as one."""
    month = local_month_of(moment).isoformat()
    kwargs: dict[str, object] = {"month": month}
    key = f"metrics.refresh_month:{month}"
    if organization_id is not None:
        kwargs["organization"] = organization_id
        key = f"{key}:{organization_id}"
    enqueue(
        "metrics.refresh_month",
        kwargs=kwargs,
        delay=timedelta(seconds=REFRESH_DELAY_SECONDS),
        coalesce_key=key,
    )


# --- Evaluation (interrupted time series) -------------------------------------------------
# A Poisson fit of 10 areas x 180 months (1,800 rows) takes about 0.1-0.3 s on a busy 2-core
# machine (bench/evaluate.py), a negative binomial one about three times that. A fit whose rows
# (weighted so) pass this may take over a second: the page hands it to a Celery worker and shows
# a progress message instead of holding the request.
LONG_FIT_ROWS = 4_000
NEGBIN_COST = 3
EVALUATION_CACHE_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class EvaluationInputs:
    """What an evaluation asks for, in JSON-safe form (the Celery task's argument)."""

    area: str
    measure: str
    start: str
    window_from: str | None = None
    window_to: str | None = None
    comparisons: tuple[str, ...] = ()
    trend: bool = False
    slope_change: bool = False
    negbin: bool = False
    population_offset: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["comparisons"] = list(self.comparisons)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationInputs:
        return cls(**{**data, "comparisons": tuple(data.get("comparisons") or ())})


@dataclass
class PreparedEvaluation:
    """A checked question and its cache key, before any figure is read: a cached result is
    found with two small queries, and the figures are read only to fit (or to check a fit that
    goes to a worker)."""

    inputs: EvaluationInputs
    cache_key: str
    rows: int
    area: Area
    comparison_areas: list[Area]
    start: date

    @property
    def long(self) -> bool:
        cost = self.rows * (NEGBIN_COST if self.inputs.negbin else 1)
        return cost > LONG_FIT_ROWS

    def check(self) -> None:
        """Raise ServiceError now for a question the fit would refuse (missing months, annual
        figures, populations), so a worker is never sent one."""
        _load(self, fit=False)

    def fit(self) -> dict[str, Any]:
        return _load(self, fit=True)  # type: ignore[return-value]


def _parse_month(value: str, what: str) -> date:
    try:
        year, month = (int(part) for part in value.split("-"))
        return date(year, month, 1)
    except (ValueError, TypeError) as error:
        raise ServiceError(
            gettext("%(what)s “%(value)s” is not a month like 2024-03.")
            % {"what": what, "value": value}
        ) from error


def prepare_evaluation(inputs: EvaluationInputs) -> PreparedEvaluation:
    """Refuse an unknown area or measure, and key the question: its inputs and the version of
    every figure it reads (a digest PostgreSQL computes over them, and over the area tree the
    warnings depend on), so any new or corrected figure gives a new key."""
    from metrics import selectors  # selectors import this module (next_month)
    from metrics.models import Measure

    if inputs.measure not in Measure.values:
        raise ServiceError(
            gettext("Unknown measure “%(measure)s”; use one of %(measures)s.")
            % {"measure": inputs.measure, "measures": ", ".join(Measure.values)}
        )
    slugs = [inputs.area, *inputs.comparisons]
    areas = {area.slug: area for area in Area.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in areas]
    if unknown:
        raise ServiceError(gettext("Unknown area: %(areas)s.") % {"areas": ", ".join(unknown)})
    if inputs.area in inputs.comparisons:
        raise ServiceError(gettext("The program's area cannot also be a comparison area."))
    start = _parse_month(inputs.start, gettext("The intervention month"))
    for value, what in ((inputs.window_from, "--from"), (inputs.window_to, "--to")):
        if value:
            _parse_month(value, what)
    area = areas[inputs.area]
    comparison_areas = [areas[slug] for slug in dict.fromkeys(inputs.comparisons)]
    version, rows = selectors.evaluation_data_version(
        [area.pk, *(a.pk for a in comparison_areas)], inputs.measure
    )
    digest = hashlib.sha256(json.dumps(inputs.as_dict(), sort_keys=True).encode())
    digest.update(version.encode())
    return PreparedEvaluation(
        inputs=inputs,
        cache_key=f"gvr:metrics:evaluation:{digest.hexdigest()}",
        rows=rows,
        area=area,
        comparison_areas=comparison_areas,
        start=start,
    )


def _load(prepared: PreparedEvaluation, *, fit: bool) -> dict[str, Any] | None:
    """Read the figures, refuse what cannot be evaluated, and fit when asked."""
    from metrics import evaluation, selectors

    inputs, area, start = prepared.inputs, prepared.area, prepared.start
    comparison_areas = prepared.comparison_areas
    figures = selectors.evaluation_figures([area, *comparison_areas], inputs.measure)
    main = figures[area.pk]
    known = sorted(main.monthly)
    if not known and not (inputs.window_from and inputs.window_to):
        annual = sorted(main.annual_only_years)
        if annual:
            raise ServiceError(
                gettext(
                    "%(area)s has no monthly %(measure)s figures (only annual ones: %(years)s); "
                    "the evaluation needs monthly figures."
                )
                % {
                    "area": area.name,
                    "measure": inputs.measure,
                    "years": ", ".join(map(str, annual)),
                }
            )
        raise ServiceError(
            gettext(
                "%(area)s has no monthly %(measure)s figures; the evaluation needs monthly figures."
            )
            % {"area": area.name, "measure": inputs.measure}
        )
    first = _parse_month(inputs.window_from, "--from") if inputs.window_from else known[0]
    last = _parse_month(inputs.window_to, "--to") if inputs.window_to else known[-1]
    if last < first:
        raise ServiceError(gettext("The window's last month is before its first."))
    for figure in figures.values():
        years = sorted(year for year in figure.annual_only_years if first.year <= year <= last.year)
        if years:
            raise ServiceError(
                gettext(
                    "%(area)s has only annual %(measure)s figures for %(years)s: the evaluation "
                    "needs monthly figures, so choose a window without those years."
                )
                % {
                    "area": figure.area.name,
                    "measure": inputs.measure,
                    "years": ", ".join(map(str, years)),
                }
            )

    # A comparison area inside the program's area (a neighbourhood of the city) shares its
    # program; one that contains it (the county) has the program's own counts in it.
    inside = set(selectors.area_and_descendant_ids(area)) - {area.pk}
    around = set(selectors.area_ancestor_ids(area))
    extra_warnings = []
    for comparison in comparison_areas:
        if comparison.pk in inside:
            extra_warnings.append(
                evaluation.warning("comparison_inside", comparison=comparison.name, area=area.name)
            )
        elif comparison.pk in around:
            extra_warnings.append(
                evaluation.warning(
                    "comparison_contains", comparison=comparison.name, area=area.name
                )
            )

    months = evaluation.months_between(first, last)

    def series(figure: selectors.EvaluationFigures) -> evaluation.AreaSeries:
        return evaluation.AreaSeries(
            key=figure.area.slug,
            name=figure.area.name,
            counts={month: figure.monthly[month] for month in months if month in figure.monthly},
            populations=figure.populations,
        )

    arguments: dict[str, Any] = {
        "treated": series(main),
        "comparisons": [series(figures[comparison.pk]) for comparison in comparison_areas],
        "start": start,
        "first": first,
        "last": last,
        "options": evaluation.Options(
            trend=inputs.trend,
            slope_change=inputs.slope_change,
            negbin=inputs.negbin,
            population_offset=inputs.population_offset,
        ),
    }
    try:
        if not fit:
            evaluation.frame(**arguments)
            return None
        return evaluation.evaluate_series(**arguments, extra_warnings=extra_warnings)
    except evaluation.EvaluationRefused as refusal:
        raise ServiceError(str(refusal)) from refusal


def _shared_get(key: str) -> Any:
    """From the one claim store: Redis when the broker is Redis (so a worker's result reaches
    every web process), else the Django cache (no broker: tasks run in this process)."""
    try:
        raw = ClaimStore().get(key)
    except Exception:
        logger.warning("Could not reach Redis for a cached evaluation")
        return None
    return json.loads(raw) if raw else None


def _shared_set(key: str, value: Any, *, seconds: int, only_new: bool = False) -> bool:
    store = ClaimStore()
    try:
        if only_new:
            return store.add(key, json.dumps(value), seconds)
        store.set(key, json.dumps(value), seconds)
        return True
    except Exception:
        logger.warning("Could not store an evaluation in Redis")
        return not only_new


def _shared_delete(key: str) -> None:
    try:
        ClaimStore().delete(key)
    except Exception:
        logger.warning("Could not reach Redis to clear an evaluation key")


def cached_evaluation(prepared: PreparedEvaluation) -> dict[str, Any] | None:
    """The stored result for these inputs and this data, if a fit already ran."""
    return _shared_get(prepared.cache_key)


def evaluate_outcome(inputs: EvaluationInputs) -> dict[str, Any]:
    """The evaluation's result, from the cache when this exact question was already fitted on
    the same figures, else fitted now and stored. Raises ServiceError on a refusal."""
    return evaluate_prepared(prepare_evaluation(inputs))


def evaluate_prepared(prepared: PreparedEvaluation) -> dict[str, Any]:
    result = cached_evaluation(prepared)
    if result is None:
        result = prepared.fit()
        _shared_set(prepared.cache_key, result, seconds=EVALUATION_CACHE_SECONDS)
    return result


def _pending_key(prepared: PreparedEvaluation) -> str:
    return prepared.cache_key + ":pending"


def request_evaluation(prepared: PreparedEvaluation) -> bool:
    """Queue the fit on a Celery worker (on commit) unless one is already queued for the same
    key; True when this call queued it. The task is idempotent: a second run stores the same
    result under the same key."""
    if not _shared_set(_pending_key(prepared), "1", seconds=10 * 60, only_new=True):
        return False
    from metrics.tasks import run_evaluation

    payload = prepared.inputs.as_dict()
    transaction.on_commit(lambda: run_evaluation.delay(payload))
    return True


def evaluation_pending(prepared: PreparedEvaluation) -> bool:
    return _shared_get(_pending_key(prepared)) is not None


def run_queued_evaluation(inputs: EvaluationInputs) -> bool:
    """The Celery task's work: fit and store, then clear the pending mark. False when the
    inputs are refused now (figures changed since the page asked)."""
    try:
        prepared = prepare_evaluation(inputs)
    except ServiceError:
        return False
    try:
        evaluate_prepared(prepared)
        return True
    except ServiceError:
        return False
    finally:
        _shared_delete(_pending_key(prepared))
