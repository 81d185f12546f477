"""Writes for metrics: rebuilding the activity rollup, and asking for a rebuild after a change.

The rollup is computed by PostgreSQL in one INSERT ... SELECT with GROUP BY (never a loop over
rows in Python). A refresh of a month range deletes that range and inserts it again in one
transaction, together with its fill-state rows: running it twice, or again after a crash
half-way, leaves the same table."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from interventions.dates import local_midnight, local_month_of, month_start, next_month
from interventions.errors import ServiceError
from interventions.models import (
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


def _rollup_sql() -> str:
    """INSERT ... SELECT of every rollup group in [start, end). One statement; PostgreSQL
    does the grouping. Each UNION ALL branch yields one kind of count, the outer GROUP BY
    puts the counts of a group on one row."""
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
            SELECT s.occurred_at, s.organization_id, s.program_id, s.duration_minutes,
                   sp.participant_id,
                   sp.id IS NOT DISTINCT FROM MIN(sp.id) OVER (PARTITION BY s.id)
                       AS first_attendee
            FROM {tables["session"]} s
            LEFT JOIN {tables["attendance"]} sp ON sp.session_id = s.id
            WHERE s.occurred_at >= %(start_at)s AND s.occurred_at < %(end_at)s
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
        WHERE e.enrolled_on >= %(start)s AND e.enrolled_on < %(end)s
        GROUP BY 1, 2, 3, 4

        UNION ALL
        SELECT date_trunc('month', e.exited_on)::date, pr.organization_id, pr.kind, p.area_id,
               0, 0, 0, 0, COUNT(*), 0, 0
        FROM {tables["enrollment"]} e
        JOIN {tables["program"]} pr ON pr.id = e.program_id
        JOIN {tables["participant"]} p ON p.id = e.participant_id
        WHERE e.exited_on >= %(start)s AND e.exited_on < %(end)s
        GROUP BY 1, 2, 3, 4

        UNION ALL
        -- A referral belongs to no program: it is counted under "unspecified".
        SELECT date_trunc('month', r.made_on)::date, r.organization_id, '{unspecified}',
               p.area_id, 0, 0, 0, 0, 0, COUNT(*), 0
        FROM {tables["referral"]} r
        JOIN {tables["participant"]} p ON p.id = r.participant_id
        WHERE r.made_on >= %(start)s AND r.made_on < %(end)s
        GROUP BY 1, 2, 3, 4

        UNION ALL
        SELECT date_trunc('month', r.closed_on)::date, r.organization_id, '{unspecified}',
               p.area_id, 0, 0, 0, 0, 0, 0, COUNT(*)
        FROM {tables["referral"]} r
        JOIN {tables["participant"]} p ON p.id = r.participant_id
        WHERE r.status = %(completed)s AND r.closed_on >= %(start)s AND r.closed_on < %(end)s
        GROUP BY 1, 2, 3, 4
    ) parts
    GROUP BY month, organization_id, program_kind, area_id
    """  # noqa: S608  # nosec B608 - table names come from model metadata; values are parameters


@transaction.atomic
def refresh_rollups(*, start_month: date | None = None, end_month: date | None = None) -> int:
    """Rebuild the rollup for the months from start_month to end_month (both included; any day
    of a month stands for the month). With neither, rebuild every month that has activity and
    drop everything else. Returns the number of rollup rows written."""
    everything = start_month is None and end_month is None
    if everything:
        bounds = data_month_bounds()
        current = local_month_of(timezone.now())
        start, last = bounds if bounds else (current, current)
        last = max(last, current)
    else:
        if start_month is None or end_month is None:
            raise ServiceError("Give both the first and the last month, or neither.")
        start, last = month_start(start_month), month_start(end_month)
    if last < start:
        raise ServiceError("The last month is before the first month.")
    end = next_month(last)

    with connection.cursor() as cursor:
        # Two refreshes at once would each delete and insert the same groups; take turns.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK_ID])
        # A full refresh sorts a million attendance rows for its distinct-people counts; with
        # enough memory the sort stays in memory instead of spilling to disk.
        cursor.execute("SET LOCAL work_mem = %s", [ROLLUP_WORK_MEM])
    if everything:
        ActivityRollup.objects.all().delete()
        RollupFillState.objects.all().delete()
    else:
        ActivityRollup.objects.filter(month__gte=start, month__lt=end).delete()
        RollupFillState.objects.filter(month__gte=start, month__lt=end).delete()
    params = {
        "tz": timezone.get_current_timezone_name(),
        "start": start,
        "end": end,
        "start_at": local_midnight(start),
        "end_at": local_midnight(end),
        "completed": Referral.Status.COMPLETED.value,
    }
    with connection.cursor() as cursor:
        cursor.execute(_rollup_sql(), params)
        written = cursor.rowcount
    _mark_filled(start, end)
    logger.info("Activity rollup refreshed for %s to %s: %s rows", start, last, written)
    return written


def _mark_filled(start: date, end: date) -> None:
    now = timezone.now()
    months: list[date] = []
    month = start
    while month < end:
        months.append(month)
        month = next_month(month)
    RollupFillState.objects.bulk_create(
        [RollupFillState(month=month, refreshed_at=now) for month in months]
    )


# Asking for a refresh after a change -------------------------------------------------------


def refresh_on_commit(moment: datetime) -> None:
    """Within a write's transaction: record (in the outbox, so a broker that is down loses
    nothing) a refresh of the month it touched, sent REFRESH_DELAY_SECONDS after the commit.
    The refreshes of one month that are due together are sent as one."""
    month = local_month_of(moment).isoformat()
    enqueue(
        "metrics.refresh_month",
        kwargs={"month": month},
        delay=timedelta(seconds=REFRESH_DELAY_SECONDS),
        coalesce_key=f"metrics.refresh_month:{month}",
    )
