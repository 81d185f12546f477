"""The response pages: permissions, scoping (404 outside it), completing a task by linking or
logging a session, the overdue list, the review (renders, records, prints) and query counts."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from interventions.models import (
    Incident,
    ResponseTask,
    ReviewDecision,
    Session,
    ShootingReview,
)
from tests.conftest import logged_in
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    GroupTieFactory,
    IncidentFactory,
    MembershipFactory,
    ParticipantFactory,
    ResponseTaskFactory,
    SessionFactory,
    StreetGroupFactory,
    UserFactory,
)
from tests.queries import assert_fixed_queries


def grant_street_intelligence(user):
    user.user_permissions.add(Permission.objects.get(codename="view_street_intelligence"))


@pytest.fixture
def task(org_a):
    person = ParticipantFactory(organization=org_a.organization, first_name="Dario")
    incident = IncidentFactory(occurred_at=timezone.now() - timedelta(hours=30))
    return ResponseTaskFactory(incident=incident, participant=person, assigned_worker=org_a.worker)


# Scoping and permissions ------------------------------------------------------------------


def test_other_organisations_get_404(task, org_b):
    for user in (org_b.worker, org_b.manager):
        client = logged_in(user)
        assert client.get(reverse("incident_detail", args=[task.incident_id])).status_code == 404
        assert client.get(reverse("response_task_complete", args=[task.pk])).status_code == 404


def test_a_worker_sees_only_their_own_tasks(task, org_a):
    colleague = UserFactory()
    org_a.organization.memberships.create(user=colleague, role="outreach_worker")
    client = logged_in(colleague)
    assert client.get(reverse("response_task_complete", args=[task.pk])).status_code == 404
    page = client.get(reverse("incident_detail", args=[task.incident_id]))
    assert page.status_code == 200
    assert "Dario" not in page.content.decode()
    own = logged_in(org_a.worker).get(reverse("response_tasks"))
    assert "Dario" in own.content.decode()


def test_manager_sees_the_organisations_tasks_and_the_city_sees_everything(
    task, org_a, admin_client_city
):
    for client in (logged_in(org_a.manager), admin_client_city):
        page = client.get(reverse("incident_detail", args=[task.incident_id]))
        assert page.status_code == 200
        assert "Dario" in page.content.decode()


def test_incident_list_shows_only_incidents_that_concern_us(task, org_b):
    IncidentFactory(location_description="Unrelated corner")
    page = logged_in(org_b.manager).get(reverse("incident_list"))
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0


def test_street_groups_need_the_permission(org_a, city_admin):
    group = StreetGroupFactory(name="East Side Crew")
    person = ParticipantFactory(organization=org_a.organization, last_name="Tiedperson")
    GroupTieFactory(participant=person, group=group)
    url = reverse("streetgroup_detail", args=[group.pk])
    assert logged_in(org_a.manager).get(url).status_code == 404
    assert logged_in(org_a.manager).get(reverse("streetgroup_list")).status_code == 404
    grant_street_intelligence(org_a.manager)
    manager = type(org_a.manager).objects.get(pk=org_a.manager.pk)  # fresh permission cache
    page = logged_in(manager).get(url)
    assert page.status_code == 200
    assert "Tiedperson" in page.content.decode()
    assert logged_in(city_admin).get(url).status_code == 200


def test_a_tie_to_another_organisations_participant_stays_hidden(org_a, org_b):
    group = StreetGroupFactory()
    GroupTieFactory(
        participant=ParticipantFactory(organization=org_b.organization, last_name="Hidden"),
        group=group,
    )
    grant_street_intelligence(org_a.manager)
    page = logged_in(org_a.manager).get(reverse("streetgroup_detail", args=[group.pk]))
    assert "Hidden" not in page.content.decode()


@pytest.mark.parametrize(
    "name",
    [
        "incident_new",
        "response_overdue",
        "shooting_review",
        "response_reach",
        "notification_funnel",
        "callin_new",
        "custom_notification_new",
    ],
)
def test_manager_pages_refuse_workers(org_a, name):
    assert logged_in(org_a.worker).get(reverse(name)).status_code == 403
    assert logged_in(org_a.manager).get(reverse(name)).status_code == 200


def test_pages_need_a_login(client, task):
    response = client.get(reverse("incident_detail", args=[task.incident_id]))
    assert response.status_code == 302
    assert "login" in response["Location"]


# Entering an incident ------------------------------------------------------------------------


def test_manager_enters_an_incident_and_the_worker_gets_the_task(
    org_a, django_capture_on_commit_callbacks
):
    person = ParticipantFactory(organization=org_a.organization, first_name="Marcus")
    EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)
    when = timezone.localtime() - timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        response = logged_in(org_a.manager).post(
            reverse("incident_new"),
            {
                "kind": "nonfatal_shooting",
                "occurred_at": when.strftime("%Y-%m-%dT%H:%M"),
                "organization": org_a.organization.pk,
                "victim_count": 1,
                "victims": [person.pk],
            },
        )
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("incident_detail", args=[incident.pk])
    task = ResponseTask.objects.get()
    assert (task.participant, task.assigned_worker, task.kind) == (
        person,
        org_a.worker,
        ResponseTask.Kind.HOSPITAL_VISIT,
    )
    home = logged_in(org_a.worker).get(reverse("response_tasks"))
    assert "Marcus" in home.content.decode()
    assert reverse("response_task_complete", args=[task.pk]) in home.content.decode()


def test_a_bad_incident_keeps_what_was_typed(org_a):
    future = timezone.localtime() + timedelta(days=2)
    response = logged_in(org_a.manager).post(
        reverse("incident_new"),
        {
            "kind": "homicide",
            "occurred_at": future.strftime("%Y-%m-%dT%H:%M"),
            "organization": org_a.organization.pk,
            "victim_count": 1,
            "location_description": "Corner of 4th and Main",
        },
    )
    assert response.status_code == 200
    assert "cannot be in the future" in response.content.decode()
    assert "Corner of 4th and Main" in response.content.decode()
    assert not Incident.objects.exists()


# Completing a task ----------------------------------------------------------------------------


def test_completing_a_task_by_linking_a_session(task, org_a):
    session = SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=task.incident.occurred_at + timedelta(hours=4),
        participants=[task.participant],
    )
    before = SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=task.incident.occurred_at - timedelta(hours=4),
        participants=[task.participant],
    )
    client = logged_in(org_a.worker)
    url = reverse("response_task_complete", args=[task.pk])
    page = client.get(url)
    assert list(page.context["link_form"].fields["session"].queryset) == [session]
    refused = client.post(url, {"action": "link", "session": before.pk})
    assert refused.status_code == 200
    task.refresh_from_db()
    assert task.status == ResponseTask.Status.OPEN
    response = client.post(url, {"action": "link", "session": session.pk})
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == ResponseTask.Status.DONE
    assert task.completed_session == session
    assert task.completed_by == org_a.worker
    assert task.completed_at is not None


def test_logging_the_contact_completes_the_task_once(task, org_a):
    client = logged_in(org_a.worker)
    url = reverse("response_task_complete", args=[task.pk])
    data = {
        "action": "log",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": 25,
        "location": "hospital",
        "notes": "",
        "client_key": str(uuid.uuid4()),
    }
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 200  # the task is done; nothing more
    task.refresh_from_db()
    session = Session.objects.get()
    assert task.status == ResponseTask.Status.DONE
    assert task.completed_session == session
    assert list(session.participants.all()) == [task.participant]


def test_a_manager_cancels_a_task_with_confirmation(task, org_a):
    page = logged_in(org_a.manager).get(reverse("response_task_complete", args=[task.pk]))
    assert "data-confirm" in page.content.decode()
    logged_in(org_a.manager).post(reverse("response_task_cancel", args=[task.pk]))
    task.refresh_from_db()
    assert task.status == ResponseTask.Status.CANCELLED


def test_a_worker_cannot_cancel(task, org_a):
    assert (
        logged_in(org_a.worker).post(reverse("response_task_cancel", args=[task.pk])).status_code
        == 403
    )


# Lists and their query counts -------------------------------------------------------------------


def _tasks(org, incident, n: int, *, worker=None) -> None:
    """`n` tasks for people of `org`, each assigned to its own new worker (or `worker`), each
    person in their own area and tied to their own group."""
    for _ in range(n):
        assignee = worker
        if assignee is None:
            assignee = UserFactory()
            MembershipFactory(user=assignee, organization=org.organization)
        person = ParticipantFactory(organization=org.organization, area=AreaFactory())
        GroupTieFactory(participant=person)
        ResponseTaskFactory(incident=incident, participant=person, assigned_worker=assignee)


def test_overdue_lists_unassigned_tasks(org_a, org_b):
    incident = IncidentFactory(occurred_at=timezone.now() - timedelta(days=3))
    for _ in range(5):
        ResponseTaskFactory(
            incident=incident, participant=ParticipantFactory(organization=org_a.organization)
        )
    ResponseTaskFactory(
        incident=incident, participant=ParticipantFactory(organization=org_b.organization)
    )
    client = logged_in(org_a.manager)
    page = client.get(reverse("response_overdue"))
    assert len(page.context["tasks"]) == 5
    assert "Unassigned" in page.content.decode()


def test_response_pages_query_counts_are_exact_as_tasks_workers_areas_and_incidents_grow(org_a):
    incident = IncidentFactory(occurred_at=timezone.now() - timedelta(days=3))
    _tasks(org_a, incident, 1)
    client = logged_in(org_a.manager)

    def grow() -> None:
        _tasks(org_a, incident, 8)
        for _ in range(3):
            other = IncidentFactory(
                occurred_at=timezone.now() - timedelta(days=2), area=AreaFactory()
            )
            _tasks(org_a, other, 2)
            _tasks(org_a, other, 2, worker=org_a.worker)

    pages = [
        lambda name=name: client.get(reverse(name))
        for name in ("response_overdue", "response_tasks", "incident_list", "response_reach")
    ]
    pages.append(lambda: client.get(reverse("incident_detail", args=[incident.pk])))
    assert_fixed_queries(pages, grow)


@pytest.mark.parametrize("count", [1, 6])
def test_the_home_include_costs_a_fixed_number_of_queries(org_a, count, django_assert_num_queries):
    incident = IncidentFactory()
    for _ in range(count):
        ResponseTaskFactory(
            incident=incident,
            participant=ParticipantFactory(organization=org_a.organization),
            assigned_worker=org_a.worker,
        )
    request = RequestFactory().get("/")
    request.user = org_a.worker
    template = Template('{% include "response/_my_open_tasks.html" %}')
    with django_assert_num_queries(1):
        html = template.render(Context({"request": request}))
    assert html.count("Log the contact") == count


# The weekly review --------------------------------------------------------------------------


def test_review_renders_prints_and_shows_only_our_people(task, org_a, org_b):
    ResponseTaskFactory(
        incident=task.incident,
        participant=ParticipantFactory(organization=org_b.organization, first_name="Outsider"),
    )
    page = logged_in(org_a.manager).get(reverse("shooting_review"))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'media="print"' in html and "css/print.css" in html
    assert "Dario" in html
    assert "Outsider" not in html
    assert [t.pk for t in page.context["not_reached"]] == [task.pk]


def test_review_records_decisions_and_follow_ups(org_a, org_b):
    start = timezone.localdate() - timedelta(days=6)
    end = timezone.localdate()
    data = {
        "organization": org_a.organization.pk,
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "decisions": "Mediation between the two groups this week.",
        "followup-TOTAL_FORMS": "3",
        "followup-INITIAL_FORMS": "0",
        "followup-MIN_NUM_FORMS": "0",
        "followup-MAX_NUM_FORMS": "10",
        "followup-0-assigned_to": org_a.worker.pk,
        "followup-0-description": "Visit the family",
        "followup-0-due_on": end.isoformat(),
    }
    client = logged_in(org_a.manager)
    outsider = {**data, "followup-0-assigned_to": org_b.worker.pk}
    assert client.post(reverse("shooting_review"), outsider).status_code == 200
    assert not ShootingReview.objects.exists()
    assert client.post(reverse("shooting_review"), data).status_code == 302
    review = ShootingReview.objects.get()
    assert review.organization == org_a.organization
    assert list(ReviewDecision.objects.values_list("assigned_to", "description")) == [
        (org_a.worker.pk, "Visit the family")
    ]
    page = client.get(reverse("shooting_review"), {"start": start, "end": end})
    assert "Visit the family" in page.content.decode()


def test_funnel_page_renders(org_a):
    ParticipantFactory(organization=org_a.organization, identified_on=timezone.localdate())
    page = logged_in(org_a.manager).get(reverse("notification_funnel"))
    assert page.status_code == 200
    assert page.context["totals"]["identified"] == 1


def test_reach_page_renders(task, org_a):
    page = logged_in(org_a.manager).get(reverse("response_reach"))
    assert page.status_code == 200
    assert page.context["rows"][0]["connected"] == 1
