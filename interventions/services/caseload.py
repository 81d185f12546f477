"""Keeping the manager dashboard's counts (`models.caseload`) equal to the case data.

1. Every write that changes a count (a session logged, an enrolment made, its status changed,
   exited or assigned, a participant registered, a referral made or moved on) calls
   `refresh_counts_on_commit` in its own transaction: an outbox row, so the refresh exists
   exactly when the change does, sent after the commit. The refreshes of one organisation due
   together are sent as one.
2. `refresh_caseload_counts` rebuilds one organisation's rows whole, from the same six
   GROUP BY queries the dashboard once ran on every request, in one transaction with its fill
   state. Running it twice leaves the same rows.
3. A nightly run rebuilds every organisation: "gone cold" and "this month" move with the
   calendar, not only with writes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from interventions.models import CaseloadCount, CaseloadFillState, PartnerOrganization
from interventions.outbox.services import enqueue
from interventions.selectors.manager import dashboard_figures

# Long enough for a burst of sessions (a group session, an import) to cost one refresh.
REFRESH_DELAY_SECONDS = 30
REFRESH_TASK = "interventions.refresh_caseload_counts"


def _name(worker: object) -> str:
    full = f"{getattr(worker, 'first_name', '')} {getattr(worker, 'last_name', '')}".strip()
    return full or str(getattr(worker, "username", ""))


@transaction.atomic
def refresh_caseload_counts(organization_id: int) -> int:
    """Rebuild one organisation's kept counts; returns the number of rows written."""
    organization = PartnerOrganization.objects.filter(pk=organization_id).first()
    if organization is None:
        return 0
    # One refresh of an organisation at a time: two would delete each other's rows.
    CaseloadFillState.objects.select_for_update().filter(organization=organization).first()
    figures = dashboard_figures(organization)
    rows = [
        CaseloadCount(
            organization=organization,
            scope=CaseloadCount.Scope.ORGANIZATION,
            caseload=figures.caseload_total,
            month=figures.this_month,
            sessions_this_month=figures.sessions_this_month,
            minutes_this_month=figures.minutes_this_month,
            sessions_last_month=figures.sessions_last_month,
            minutes_last_month=figures.minutes_last_month,
            by_status={status: count for status, _label, count in figures.by_status},
            referrals_waiting=figures.referrals_waiting,
            new_participants=figures.new_participants,
        ),
        CaseloadCount(
            organization=organization,
            scope=CaseloadCount.Scope.UNASSIGNED,
            is_member=False,
            caseload=figures.unassigned.caseload,
            gone_cold=figures.unassigned.gone_cold,
            month=figures.this_month,
        ),
    ]
    rows += [
        CaseloadCount(
            organization=organization,
            scope=CaseloadCount.Scope.WORKER,
            worker=row.worker,
            worker_name=_name(row.worker),
            is_member=row.is_member,
            caseload=row.caseload,
            gone_cold=row.gone_cold,
            month=figures.this_month,
            sessions_this_month=row.sessions_this_month,
            minutes_this_month=row.minutes_this_month,
            sessions_last_month=row.sessions_last_month,
            minutes_last_month=row.minutes_last_month,
        )
        for row in figures.workers
    ]
    CaseloadCount.objects.filter(organization=organization).delete()
    CaseloadCount.objects.bulk_create(rows)
    CaseloadFillState.objects.update_or_create(
        organization=organization, defaults={"refreshed_at": timezone.now()}
    )
    return len(rows)


def refresh_all_caseload_counts() -> int:
    """The nightly run: every active organisation, one transaction each."""
    ids = PartnerOrganization.objects.filter(is_active=True).values_list("pk", flat=True)
    return sum(refresh_caseload_counts(organization_id) for organization_id in list(ids))


def refresh_counts_on_commit(organization_ids: Iterable[int]) -> None:
    """Within a write's transaction: ask for a refresh of each organisation it touched."""
    for organization_id in sorted(set(organization_ids)):
        enqueue(
            REFRESH_TASK,
            kwargs={"organization_id": organization_id},
            delay=timedelta(seconds=REFRESH_DELAY_SECONDS),
            coalesce_key=f"{REFRESH_TASK}:{organization_id}",
        )
