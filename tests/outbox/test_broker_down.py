"""With the broker unreachable, saving through the pages works as usual; the work waits in the
outbox and `dispatch_pending` does it, exactly once."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from interventions.models import (
    CallIn,
    CaseloadFillState,
    Incident,
    Referral,
    ResponseTask,
    Session,
)
from interventions.outbox.models import OutboxMessage
from metrics.models import ActivityRollup, RollupFillState
from metrics.services import local_month_of
from tests.conftest import logged_in
from tests.interventions.test_worker_views import in_caseload, local_input, session_post
from tests.outbox.pages import post_incident

pytestmark = pytest.mark.django_db

GENERATE = "interventions.tasks.generate_response_tasks_task"
REFRESH = "metrics.refresh_month"
CASELOAD_REFRESH = "interventions.refresh_caseload_counts"


def _dispatch(*args: str) -> str:
    out = StringIO()
    call_command("dispatch_pending", *args, stdout=out)
    return out.getvalue()


def _save_through_the_pages(org_a, capture) -> tuple[Session, Incident]:  # type: ignore[no-untyped-def]
    person = in_caseload(org_a)
    with capture(execute=True):
        logged = logged_in(org_a.worker).post(reverse("session_log"), session_post([person]))
    assert logged.status_code == 302
    assert logged["Location"] == reverse("participant_detail", args=[person.pk])

    with capture(execute=True):
        recorded = post_incident(org_a, person)
    incident = Incident.objects.get()
    assert recorded.status_code == 302
    assert recorded["Location"] == reverse("incident_detail", args=[incident.pk])
    return Session.objects.get(), incident


def test_with_the_broker_down_pages_succeed_and_dispatch_pending_does_the_work_once(
    org_a, broker_unreachable, django_capture_on_commit_callbacks
):
    session, incident = _save_through_the_pages(org_a, django_capture_on_commit_callbacks)
    month = local_month_of(session.occurred_at).isoformat()

    # The work is in the outbox. The generation was tried right after the commit and refused;
    # the refresh waits for its delay and was not tried yet.
    pending = {row.task_name: row for row in OutboxMessage.objects.filter(sent_at__isnull=True)}
    assert set(pending) == {GENERATE, REFRESH, CASELOAD_REFRESH}
    assert pending[CASELOAD_REFRESH].kwargs == {"organization_id": org_a.organization.pk}
    assert pending[GENERATE].kwargs == {"incident_id": incident.pk}
    assert pending[GENERATE].attempts == 1
    assert "OperationalError" in pending[GENERATE].last_error
    assert (pending[REFRESH].kwargs, pending[REFRESH].attempts) == (
        {"month": month, "organization": org_a.organization.pk},
        0,
    )
    assert not ResponseTask.objects.exists()
    assert not ActivityRollup.objects.exists()

    # Sending to the broker still fails: the command says so and loses nothing.
    with pytest.raises(CommandError, match="could not be sent"):
        _dispatch()
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 3

    # Redis stays down and the work cannot wait: run it here.
    # The generation, the refresh, the alert the new response task queues for its worker, and
    # the caseload counts' refresh.
    assert "Ran 4 tasks for 4 pending rows." in _dispatch("--in-process")
    assert CaseloadFillState.objects.filter(organization=org_a.organization).exists()
    assert not OutboxMessage.objects.filter(sent_at__isnull=True).exists()
    task = ResponseTask.objects.get()
    assert (task.incident, task.assigned_worker) == (incident, org_a.worker)
    rollup = ActivityRollup.objects.get()
    assert (rollup.month.isoformat(), rollup.sessions, rollup.contact_minutes) == (month, 1, 45)
    refreshed_at = RollupFillState.objects.get().refreshed_at

    # Again: nothing to do, nothing changes.
    assert "Ran 0 tasks for 0 pending rows." in _dispatch("--in-process")
    assert ResponseTask.objects.count() == 1
    assert RollupFillState.objects.get().refreshed_at == refreshed_at


def test_without_a_broker_dispatch_pending_runs_the_work_in_process(org_a, city_admin):
    # No broker configured (the test settings): tasks run in this process. In a test the
    # transaction never commits, so the incident's row is still pending, as after a crash
    # between the commit and the send.
    person = in_caseload(org_a)
    response = logged_in(city_admin).post(
        reverse("incident_new"),
        {
            "kind": "homicide",
            "occurred_at": local_input(timezone.now() - timedelta(hours=1)),
            "victim_count": 1,
            "victims": [person.pk],
        },
    )
    assert response.status_code == 302
    assert OutboxMessage.objects.filter(sent_at__isnull=True, task_name=GENERATE).count() == 1

    # The generation, then the alert the new response task queues for its worker.
    assert "Ran 2 tasks for 2 pending rows." in _dispatch()
    assert ResponseTask.objects.get().participant == person
    assert "Ran 0 tasks for 0 pending rows." in _dispatch()
    assert ResponseTask.objects.count() == 1


def test_with_the_broker_down_a_call_in_and_a_referral_save_as_usual(org_a, broker_unreachable):
    # Their forms' double-submit check lives in the broker's Redis too: unreachable, it steps
    # aside and the record is saved.
    manager = logged_in(org_a.manager)
    person = in_caseload(org_a)
    page = manager.get(reverse("callin_new"))
    response = manager.post(
        reverse("callin_new"),
        {
            "organization": org_a.organization.pk,
            "held_on": timezone.localdate().isoformat(),
            "place": "Community center",
            "attendees": [person.pk],
            "form_token": str(page.context["form"].initial["form_token"]),
        },
    )
    assert response.status_code == 302
    assert CallIn.objects.count() == 1

    response = logged_in(org_a.worker).post(
        reverse("referral_create", args=[person.pk]),
        {
            "service_category": "employment",
            "outside_provider": "Kern County Job Center",
            "made_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    assert Referral.objects.get().participant == person
