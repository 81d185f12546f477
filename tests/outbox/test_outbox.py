"""The outbox itself: written with the data, sent once, failures kept, the banner managers see
and what the health check says about waiting work."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from interventions.outbox import services
from interventions.outbox.models import OutboxMessage
from interventions.outbox.tasks import relay_pending as relay_task
from metrics.models import RollupFillState
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

REFRESH = "metrics.refresh_month"


def _waiting(minutes: int, **fields) -> OutboxMessage:  # type: ignore[no-untyped-def]
    """A pending row that fell due `minutes` ago."""
    due = timezone.now() - timedelta(minutes=minutes)
    defaults = {"task_name": REFRESH, "kwargs": {"month": "2024-03-01"}}
    return OutboxMessage.objects.create(created_at=due, not_before=due, **{**defaults, **fields})


def test_work_exists_only_when_its_transaction_commits():
    with transaction.atomic():
        services.enqueue(REFRESH, kwargs={"month": "2024-03-01"})
        transaction.set_rollback(True)
    assert not OutboxMessage.objects.exists()
    services.enqueue(REFRESH, kwargs={"month": "2024-03-01"})
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 1


def test_the_relay_sends_due_rows_and_leaves_the_others_for_later():
    _waiting(1)
    later = services.enqueue(REFRESH, kwargs={"month": "2024-04-01"}, delay=timedelta(minutes=5))

    result = services.relay_pending(in_process=True)

    assert (result.tasks, result.rows, result.failed) == (1, 1, 0)
    assert list(RollupFillState.objects.values_list("month", flat=True)) == [date(2024, 3, 1)]
    assert list(OutboxMessage.objects.filter(sent_at__isnull=True)) == [later]


def test_a_failing_row_stays_pending_with_its_error_and_does_not_hold_up_the_others():
    broken = _waiting(3, task_name="no.such.task", kwargs={})
    _waiting(2)

    result = services.relay_pending(in_process=True)

    assert (result.tasks, result.rows, result.failed) == (1, 1, 1)
    broken.refresh_from_db()
    assert broken.sent_at is None
    assert broken.attempts == 1
    assert "no.such.task" in broken.last_error


def test_with_the_broker_down_the_relay_stops_at_the_first_refusal(broker_unreachable):
    first, second = _waiting(3), _waiting(2, kwargs={"month": "2024-04-01"})

    result = services.relay_pending()

    assert (result.tasks, result.rows, result.failed) == (0, 0, 1)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.attempts, second.attempts) == (1, 0)
    assert first.sent_at is None and second.sent_at is None


def test_the_periodic_relay_deletes_sent_rows_after_a_week(settings):
    settings.GVR_OUTBOX_KEEP_SENT_DAYS = 7
    old = _waiting(1)
    recent = _waiting(1, kwargs={"month": "2024-04-01"})
    OutboxMessage.objects.filter(pk=old.pk).update(sent_at=timezone.now() - timedelta(days=8))
    OutboxMessage.objects.filter(pk=recent.pk).update(sent_at=timezone.now() - timedelta(days=6))
    _waiting(1, kwargs={"month": "2024-05-01"})

    assert relay_task.delay().get() == 1

    assert set(OutboxMessage.objects.values_list("kwargs__month", flat=True)) == {
        "2024-04-01",
        "2024-05-01",
    }


# The banner ------------------------------------------------------------------------------------

BANNER = "Background work is delayed"


def test_managers_see_the_banner_when_work_waits_over_five_minutes(org_a):
    _waiting(4)
    page = logged_in(org_a.manager).get(reverse("manager_dashboard"))
    assert BANNER not in page.content.decode()

    _waiting(7, kwargs={"month": "2024-04-01"})
    page = logged_in(org_a.manager).get(reverse("manager_dashboard"))
    assert "Background work is delayed (2 items, oldest 7 minutes)" in page.content.decode()


def test_outreach_workers_do_not_see_the_banner(org_a):
    _waiting(30)
    page = logged_in(org_a.worker).get(reverse("caseload"))
    assert page.status_code == 200
    assert BANNER not in page.content.decode()


def test_work_waiting_for_its_delay_is_not_late(org_a):
    services.enqueue(REFRESH, kwargs={"month": "2024-03-01"}, delay=timedelta(minutes=30))
    OutboxMessage.objects.update(created_at=timezone.now() - timedelta(minutes=20))
    page = logged_in(org_a.manager).get(reverse("manager_dashboard"))
    assert BANNER not in page.content.decode()


# The health check -------------------------------------------------------------------------------


def test_health_is_503_once_work_waits_longer_than_the_alert_threshold(client, settings):
    settings.GVR_OUTBOX_ALERT_MINUTES = 15
    row = _waiting(10)
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["outbox_oldest_pending_minutes"] == 10

    OutboxMessage.objects.filter(pk=row.pk).update(
        not_before=timezone.now() - timedelta(minutes=16)
    )
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json() | {"broker": "?"} == {
        "status": "unavailable",
        "database": "ok",
        "broker": "?",
        "outbox": "late",
        "outbox_oldest_pending_minutes": 16,
    }


def test_without_a_broker_rows_committed_together_run_once_per_key(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for _ in range(3):
            services.enqueue(
                REFRESH, kwargs={"month": "2024-03-01"}, coalesce_key="refresh:2024-03-01"
            )
    assert len(callbacks) == 3

    callbacks[0]()  # the first row's send runs the refresh, for all three
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    refreshed_at = RollupFillState.objects.get().refreshed_at
    callbacks[1]()
    callbacks[2]()
    assert RollupFillState.objects.get().refreshed_at == refreshed_at


def test_a_backlog_goes_out_in_one_run_past_a_row_that_keeps_failing():
    broken = _waiting(10, task_name="no.such.task", kwargs={})
    for month in (1, 2, 3, 4):
        _waiting(5, kwargs={"month": f"2024-0{month}-01"})

    result = services.relay_all(in_process=True, batch_size=2)

    assert (result.tasks, result.rows, result.failed) == (4, 4, 1)
    assert list(OutboxMessage.objects.filter(sent_at__isnull=True)) == [broken]
    assert RollupFillState.objects.count() == 4
