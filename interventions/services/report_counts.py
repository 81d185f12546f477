"""Filling the funder report's kept session counts (`models.report_counts`).

The triggers keep the counts exact after the fill; a fill is needed once (the migration does
it), after the site's time zone changes (the report counts the sessions themselves until then),
or to check the counts against the sessions. It rebuilds the whole table from the sessions in
one transaction with its fill state, holding off session writes meanwhile (a SHARE lock lets
reads go on), so no write is missed or counted twice: running it twice leaves the same rows."""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from interventions.models import Session, SessionDayCount, SessionDayCountFillState


def _table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@transaction.atomic
def fill_session_day_counts() -> int:
    """Rebuild the counts from every session, days in the site's time zone; returns the number
    of rows written."""
    zone = timezone.get_default_timezone_name()
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {_table(Session)} IN SHARE MODE")
        SessionDayCountFillState.objects.all().delete()
        SessionDayCount.objects.all().delete()
        cursor.execute(
            f"""
            INSERT INTO {_table(SessionDayCount)} (organization_id, day, kind, sessions, minutes)
            SELECT organization_id, (occurred_at AT TIME ZONE %s)::date, kind,
                   COUNT(*), SUM(duration_minutes)
            FROM {_table(Session)} GROUP BY 1, 2, 3
            """,  # noqa: S608  # nosec B608 - table names come from model metadata
            [zone],
        )
        written = cursor.rowcount
    SessionDayCountFillState.objects.create(id=1, time_zone=zone, filled_at=timezone.now())
    return written
