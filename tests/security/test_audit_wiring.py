"""Every participant page view, export, incident and street-group page view leaves exactly one
audit event naming the user, the action and the object; changes to the street-intelligence and
shooting tables are recorded by the database like participant records."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from interventions.audit.context import Actor, acting_as
from interventions.audit.models import AuditEvent
from interventions.models import GroupTie
from interventions.services.response import record_incident
from tests.conftest import logged_in
from tests.factories import (
    EnrollmentFactory,
    GroupConflictFactory,
    GroupTieFactory,
    IncidentFactory,
    ParticipantFactory,
    StreetGroupFactory,
)

pytestmark = pytest.mark.django_db


def new_events(since: int, **filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(id__gt=since, **filters).order_by("id"))


def last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def test_participant_page_records_one_view(org_a, worker_client):
    participant = ParticipantFactory(organization=org_a.organization)
    EnrollmentFactory(participant=participant, program=org_a.program, assigned_worker=org_a.worker)
    start = last_id()

    response = worker_client.get(reverse("participant_detail", args=[participant.pk]))

    assert response.status_code == 200
    [event] = new_events(start, action="view")
    assert (event.object_type, event.object_id, event.participant_id) == (
        "participant",
        participant.pk,
        participant.pk,
    )
    assert event.user_id == org_a.worker.pk and event.outcome == "ok"


def test_participant_page_of_another_organisation_records_a_denied_view(
    org_a, org_b, worker_client
):
    outsider = ParticipantFactory(organization=org_b.organization)
    start = last_id()

    assert worker_client.get(reverse("participant_detail", args=[outsider.pk])).status_code == 404

    [event] = new_events(start, action="view")
    assert event.outcome == "denied" and event.object_id == outsider.pk


@pytest.mark.parametrize(
    ("url_name", "object_type"),
    [("export_caseload", "caseload_export"), ("export_sessions", "sessions_export")],
)
def test_manager_exports_record_one_export(org_a, manager_client, url_name, object_type):
    ParticipantFactory(organization=org_a.organization)
    start = last_id()

    response = manager_client.get(reverse(url_name))
    b"".join(response.streaming_content)

    [event] = new_events(start)
    assert (event.action, event.object_type, event.object_id) == (
        "export",
        object_type,
        org_a.organization.pk,
    )
    assert event.user_id == org_a.manager.pk
    assert event.detail["format"] == "csv"


def test_admin_csv_export_records_one_export(org_a, admin_client_city, city_admin):
    people = [ParticipantFactory(organization=org_a.organization) for _ in range(3)]
    start = last_id()

    response = admin_client_city.post(
        reverse("admin:interventions_participant_changelist"),
        {"action": "export_as_csv", "_selected_action": [p.pk for p in people]},
    )
    b"".join(response.streaming_content)

    [event] = new_events(start)
    assert (event.action, event.object_type) == ("export", "participant_export")
    assert event.user_id == city_admin.pk
    assert event.detail == {"format": "csv", "model": "interventions.Participant", "selected": 3}


def test_metrics_csv_records_one_export(org_a, manager_client):
    from interventions.models import Area

    area = Area.objects.create(name="Testville", slug="testville", kind=Area.Kind.CITY)
    start = last_id()

    response = manager_client.get(reverse("metrics:dashboard_csv"), {"area": area.slug})

    assert response.status_code == 200
    [event] = new_events(start)
    assert (event.action, event.object_type, event.object_id) == (
        "export",
        "metrics_export",
        area.pk,
    )
    assert event.user_id == org_a.manager.pk


def test_incident_page_records_one_view(org_a, city_admin, admin_client_city):
    incident = IncidentFactory(entered_by=city_admin)
    start = last_id()

    assert admin_client_city.get(reverse("incident_detail", args=[incident.pk])).status_code == 200

    [event] = new_events(start)
    assert (event.action, event.object_type, event.object_id, event.user_id) == (
        "view",
        "incident",
        incident.pk,
        city_admin.pk,
    )


def test_street_group_page_records_one_view(org_a):
    manager = org_a.manager
    manager.user_permissions.add(Permission.objects.get(codename="view_street_intelligence"))
    group = StreetGroupFactory()
    start = last_id()

    client = logged_in(manager)
    start = last_id()

    assert client.get(reverse("streetgroup_detail", args=[group.pk])).status_code == 200

    [event] = new_events(start)
    assert (event.action, event.object_type, event.object_id, event.user_id) == (
        "view",
        "streetgroup",
        group.pk,
        manager.pk,
    )


def test_changes_to_street_intelligence_tables_are_recorded_with_the_actor(org_a):
    person = ParticipantFactory(organization=org_a.organization)
    start = last_id()

    with acting_as(Actor(user_id=org_a.manager.pk, username="someone")):
        tie = GroupTieFactory(participant=person)
        GroupConflictFactory(group_a=tie.group)
        GroupTie.objects.filter(pk=tie.pk).update(until=timezone.localdate())

    events = new_events(start)
    assert {(e.action, e.object_type) for e in events} >= {
        ("create", "streetgroup"),
        ("create", "grouptie"),
        ("create", "groupconflict"),
        ("update", "grouptie"),
    }
    update = next(e for e in events if e.action == "update")
    assert update.participant_id == person.pk
    assert update.changed_fields == ["until"]
    assert {e.username for e in events} == {"someone"}


def test_recording_an_incident_records_it_its_people_and_its_tasks(org_a, city_admin):
    person = ParticipantFactory(organization=org_a.organization)
    EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)
    start = last_id()

    with acting_as(Actor(user_id=city_admin.pk, username=city_admin.username)):
        record_incident(
            entered_by=city_admin,
            kind="nonfatal_shooting",
            occurred_at=timezone.now() - timedelta(hours=1),
            victim_count=1,
            participants={"victim": [person]},
        )
        from interventions.models import Incident
        from interventions.services.response import generate_response_tasks

        generate_response_tasks(Incident.objects.get().pk)

    created = {e.object_type for e in new_events(start, action="create")}
    assert {"incident", "incidentparticipant", "responsetask"} <= created
    task_event = new_events(start, object_type="responsetask")[0]
    assert task_event.participant_id == person.pk
