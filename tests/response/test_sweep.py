"""The sweep: a recent incident without response tasks gets them, even when the outbox row that
should have generated them was lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from interventions.models import Incident, IncidentParticipant, ResponseTask
from interventions.outbox.models import OutboxMessage
from interventions.services import response as response_services
from interventions.tasks import sweep_missing_response_tasks
from tests.factories import EnrollmentFactory, IncidentFactory, ParticipantFactory

pytestmark = pytest.mark.django_db


def _record(city_admin, person, *, hours_ago: int = 2) -> Incident:
    # In a test the transaction never commits: the incident's outbox row stays pending, as if
    # the broker had been down, and is then lost.
    return response_services.record_incident(
        entered_by=city_admin,
        kind=Incident.Kind.NONFATAL_SHOOTING,
        occurred_at=timezone.now() - timedelta(hours=hours_ago),
        victim_count=1,
        participants={"victim": [person]},
    )


def test_the_sweep_generates_the_tasks_of_an_incident_whose_outbox_row_was_lost(org_a, city_admin):
    person = ParticipantFactory(organization=org_a.organization)
    EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)
    incident = _record(city_admin, person)
    deleted, _ = OutboxMessage.objects.filter(
        task_name="interventions.tasks.generate_response_tasks_task",
        kwargs={"incident_id": incident.pk},
    ).delete()
    assert deleted == 1
    assert not ResponseTask.objects.exists()

    assert sweep_missing_response_tasks.delay().get() == 1
    task = ResponseTask.objects.get()
    assert (task.incident, task.participant, task.assigned_worker, task.kind) == (
        incident,
        person,
        org_a.worker,
        ResponseTask.Kind.HOSPITAL_VISIT,
    )

    # Again: nothing new.
    assert sweep_missing_response_tasks.delay().get() == 0
    assert ResponseTask.objects.count() == 1


def test_the_sweep_leaves_old_incidents_and_incidents_with_tasks_alone(org_a, city_admin):
    person = ParticipantFactory(organization=org_a.organization)
    # Eight days old, entered eight days ago: past the sweep's week.
    old = IncidentFactory(occurred_at=timezone.now() - timedelta(days=8))
    IncidentParticipant.objects.create(
        incident=old, participant=person, role=IncidentParticipant.Role.VICTIM
    )
    Incident.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    # A recent incident whose generation ran: one task, then a second person linked later (as
    # an admin edit would, which queues its own generation).
    recent = _record(city_admin, person)
    response_services.generate_response_tasks(recent.pk)
    late = ParticipantFactory(organization=org_a.organization)
    IncidentParticipant.objects.create(
        incident=recent, participant=late, role=IncidentParticipant.Role.WITNESS
    )

    assert (
        response_services.generate_missing_response_tasks(since=timezone.now() - timedelta(days=7))
        == 0
    )
    assert list(ResponseTask.objects.values_list("incident_id", "participant_id")) == [
        (recent.pk, person.pk)
    ]


def test_an_incident_entered_today_about_last_month_is_swept(org_a, city_admin):
    person = ParticipantFactory(organization=org_a.organization)
    incident = _record(city_admin, person, hours_ago=24 * 30)
    OutboxMessage.objects.all().delete()

    assert (
        response_services.generate_missing_response_tasks(since=timezone.now() - timedelta(days=7))
        == 1
    )
    assert ResponseTask.objects.get().incident == incident
