"""Sessions and minutes per organisation, local day and kind, kept for the funder report, so
a quarter's or a year's dosage is a few thousand rows, not every session of the period.

Kept exact by PostgreSQL itself: statement-level triggers on the session table
(interventions/migrations/0009) add and subtract each inserted, changed or deleted session in
the same transaction as the write, whatever made it (a service, the admin, a bulk load), so a
report never waits for a refresh and never misses one. `services.report_counts.
fill_session_day_counts` rebuilds the table from the sessions (idempotent; the migration runs
it once). A day is the local date in the time zone the fill state names: the report reads the
counts only while that is the site's time zone, and counts the sessions themselves otherwise.
Counts only, no case data, so no audit trigger (like the caseload counts)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from interventions.models.case import PartnerOrganization, Session


class SessionDayCount(models.Model):
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="session_day_counts"
    )
    day = models.DateField()
    kind = models.CharField(max_length=30, choices=Session.Kind.choices)
    # Plain integers, no CHECK: a kept count must never refuse a session being logged.
    sessions = models.IntegerField(default=0)
    minutes = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "day", "kind"],
                include=["sessions", "minutes"],
                name="session_day_count_once_per_kind",
            )
        ]
        indexes = [
            # Every organisation over a period: read from the index alone.
            models.Index(
                fields=["day"],
                include=["kind", "sessions", "minutes", "organization"],
                name="session_day_count_day_idx",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.day} {self.kind}: {self.sessions}"


class SessionDayCountFillState(models.Model):
    """At most one row: the counts are complete, with days in `time_zone`. Without it the
    triggers leave the counts alone and the report counts the sessions."""

    time_zone = models.CharField(max_length=64)
    filled_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="session_day_count_fill_state_one_row")
        ]

    def __str__(self) -> str:
        return f"Session day counts in {self.time_zone}, filled {self.filled_at:%Y-%m-%d %H:%M}"
