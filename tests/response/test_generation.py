"""Saving an incident creates exactly the right response tasks, once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from interventions.errors import ServiceError
from interventions.models import GroupConflict, Incident, IncidentParticipant, ResponseTask
from interventions.services import response as response_services
from interventions.tasks import generate_response_tasks_task
from tests.factories import (
    EnrollmentFactory,
    GroupConflictFactory,
    GroupTieFactory,
    MembershipFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    StreetGroupFactory,
    UserFactory,
)

Kind = ResponseTask.Kind
Reason = ResponseTask.Reason


@pytest.fixture
def world(org_a, city_admin):
    """Two involved people, an involved group, one rival in active conflict, one in a truce,
    one dormant, and people tied to each (some with ended ties)."""
    org = org_a.organization
    people = {
        name: ParticipantFactory(organization=org, last_name=name)
        for name in (
            "victim",
            "suspect",
            "member",
            "former_member",
            "future_member",
            "rival",
            "truce",
            "dormant",
            "both",
            "bystander",
        )
    }
    involved_group, rival, truce, dormant = (StreetGroupFactory() for _ in range(4))
    GroupConflictFactory(group_a=rival, group_b=involved_group, status=GroupConflict.Status.ACTIVE)
    GroupConflictFactory(group_a=involved_group, group_b=truce, status=GroupConflict.Status.TRUCE)
    GroupConflictFactory(
        group_a=dormant, group_b=involved_group, status=GroupConflict.Status.DORMANT
    )
    today = timezone.localdate()
    GroupTieFactory(participant=people["member"], group=involved_group)
    GroupTieFactory(participant=people["suspect"], group=involved_group)  # involved wins
    GroupTieFactory(
        participant=people["former_member"],
        group=involved_group,
        since=today - timedelta(days=300),
        until=today - timedelta(days=30),
    )
    GroupTieFactory(
        participant=people["future_member"], group=involved_group, since=today + timedelta(days=3)
    )
    GroupTieFactory(participant=people["rival"], group=rival)
    GroupTieFactory(participant=people["truce"], group=truce)
    GroupTieFactory(participant=people["dormant"], group=dormant)
    GroupTieFactory(participant=people["both"], group=rival)
    GroupTieFactory(participant=people["both"], group=involved_group)
    EnrollmentFactory(
        participant=people["victim"], program=org_a.program, assigned_worker=org_a.worker
    )
    return people, involved_group


def _record(city_admin, people, group, kind=Incident.Kind.NONFATAL_SHOOTING, when=None):
    return response_services.record_incident(
        entered_by=city_admin,
        kind=kind,
        occurred_at=when or timezone.now() - timedelta(hours=2),
        victim_count=1,
        participants={"victim": [people["victim"]], "suspect": [people["suspect"]]},
        groups=[group],
    )


def test_saving_an_incident_creates_exactly_the_right_tasks(
    world, city_admin, org_a, django_capture_on_commit_callbacks
):
    people, group = world
    with django_capture_on_commit_callbacks(execute=True):
        incident = _record(city_admin, people, group)

    tasks = {
        t.participant.last_name: t
        for t in ResponseTask.objects.filter(incident=incident).select_related("participant")
    }
    assert {name: (t.reason, t.kind) for name, t in tasks.items()} == {
        "victim": (Reason.INVOLVED, Kind.HOSPITAL_VISIT),
        "suspect": (Reason.INVOLVED, Kind.HOME_VISIT),
        "member": (Reason.TIED_TO_INVOLVED_GROUP, Kind.CUSTOM_NOTIFICATION),
        "both": (Reason.TIED_TO_INVOLVED_GROUP, Kind.CUSTOM_NOTIFICATION),
        "rival": (Reason.TIED_TO_RIVAL_GROUP, Kind.MEDIATION),
    }
    assert tasks["victim"].assigned_worker == org_a.worker
    assert tasks["member"].assigned_worker is None
    assert all(t.due_at == incident.occurred_at + timedelta(hours=24) for t in tasks.values())
    assert all(t.organization == org_a.organization for t in tasks.values())
    assert all(t.status == ResponseTask.Status.OPEN for t in tasks.values())


def test_running_the_task_again_creates_nothing(
    world, city_admin, django_capture_on_commit_callbacks
):
    people, group = world
    with django_capture_on_commit_callbacks(execute=True):
        incident = _record(city_admin, people, group)
    assert ResponseTask.objects.filter(incident=incident).count() == 5
    assert generate_response_tasks_task.delay(incident.pk).get() == 0
    assert response_services.generate_response_tasks(incident.pk) == 0
    assert ResponseTask.objects.filter(incident=incident).count() == 5


def test_generation_waits_for_commit(world, city_admin, django_capture_on_commit_callbacks):
    people, group = world
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        incident = _record(city_admin, people, group)
    assert len(callbacks) == 1
    assert not ResponseTask.objects.filter(incident=incident).exists()


def test_homicide_victim_gets_a_home_visit(world, city_admin):
    people, group = world
    incident = _record(city_admin, people, group, kind=Incident.Kind.HOMICIDE)
    response_services.generate_response_tasks(incident.pk)
    assert ResponseTask.objects.get(incident=incident, participant=people["victim"]).kind == (
        Kind.HOME_VISIT
    )


def test_generation_queries_are_exact_as_people_groups_and_organisations_grow(world, city_admin):
    people, group = world

    def generate() -> tuple[int, int]:
        incident = _record(city_admin, people, group)
        with CaptureQueriesContext(connection) as captured:
            created = response_services.generate_response_tasks(incident.pk)
        return len(captured), created

    queries, created = generate()
    # Thirty more people to reach, in six more organisations, each with a worker, tied to the
    # involved group or to one of six more rivals in active conflict with it.
    for _ in range(6):
        organization = PartnerOrganizationFactory()
        worker = MembershipFactory(organization=organization).user
        rival = StreetGroupFactory()
        GroupConflictFactory(group_a=group, group_b=rival, status=GroupConflict.Status.ACTIVE)
        program = ProgramFactory(organization=organization)
        for index in range(5):
            person = ParticipantFactory(organization=organization)
            EnrollmentFactory(participant=person, program=program, assigned_worker=worker)
            GroupTieFactory(participant=person, group=rival if index % 2 else group)
    assert generate() == (queries, created + 30)


def test_a_missing_incident_is_nothing_to_do(db):
    assert response_services.generate_response_tasks(999_999) == 0


def test_manager_may_only_link_own_participants(org_a, org_b):
    outsider = ParticipantFactory(organization=org_b.organization)
    with pytest.raises(ServiceError, match="your organisation's participants"):
        response_services.record_incident(
            entered_by=org_a.manager,
            organization=org_a.organization,
            kind=Incident.Kind.SHOTS_FIRED,
            occurred_at=timezone.now() - timedelta(hours=1),
            participants={"witness": [outsider]},
        )
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"occurred_at": timezone.now() + timedelta(days=1)}, "future"),
        ({"kind": Incident.Kind.HOMICIDE, "victim_count": 0}, "at least one victim"),
        ({"organization": None}, "whole city"),
    ],
)
def test_bad_incidents_are_refused(org_a, kwargs, message):
    values = {
        "entered_by": org_a.manager,
        "organization": org_a.organization,
        "kind": Incident.Kind.SHOTS_FIRED,
        "occurred_at": timezone.now() - timedelta(hours=1),
        **kwargs,
    }
    with pytest.raises(ServiceError, match=message):
        response_services.record_incident(**values)
    assert not Incident.objects.exists()


def test_linking_groups_needs_the_permission(org_a):
    with pytest.raises(ServiceError, match="street groups"):
        response_services.record_incident(
            entered_by=org_a.manager,
            organization=org_a.organization,
            kind=Incident.Kind.SHOTS_FIRED,
            occurred_at=timezone.now() - timedelta(hours=1),
            groups=[StreetGroupFactory()],
        )


def test_worker_cannot_enter_incidents(org_a):
    with pytest.raises(ServiceError):
        response_services.record_incident(
            entered_by=org_a.worker,
            organization=org_a.organization,
            kind=Incident.Kind.SHOTS_FIRED,
            occurred_at=timezone.now() - timedelta(hours=1),
        )
    assert not IncidentParticipant.objects.exists()
    assert UserFactory  # factories import sanity
