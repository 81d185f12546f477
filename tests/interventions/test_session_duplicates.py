"""Issue 14, finding 2: a session that looks like one just logged (same worker, same people,
same kind, within ten minutes) is not saved until the worker says so; a resend of the same
form (the same client key) is the same session."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import Session
from tests.factories import SessionFactory, UserFactory
from tests.interventions.test_worker_views import in_caseload, session_post

pytestmark = pytest.mark.django_db


def logged(org, people, *, minutes_ago: float, kind=Session.Kind.MENTORING, worker=None):
    session = SessionFactory(
        organization=org.organization,
        worker=worker or org.worker,
        kind=kind,
        participants=people,
    )
    Session.objects.filter(pk=session.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes_ago)
    )
    return session


def test_same_people_and_kind_a_minute_ago_warns_then_logs_anyway(org_a, worker_client):
    cristian = in_caseload(org_a, first_name="Cristian")
    logged(org_a, [cristian], minutes_ago=1.5)
    data = session_post([cristian])

    warned = worker_client.post(reverse("session_log"), data)
    assert warned.status_code == 200
    content = warned.content.decode()
    assert "was logged 1 minute ago" in content
    assert f'href="{reverse("participant_detail", args=[cristian.pk])}">View it</a>' in content
    assert 'name="log_anyway" value="1"' in content
    # What was typed is kept, the same key included, so "log anyway" sends the same form.
    assert "Talked about the job fair." in content
    assert f'value="{data["client_key"]}"' in content
    assert Session.objects.count() == 1

    anyway = worker_client.post(reverse("session_log"), {**data, "log_anyway": "1"})
    assert anyway.status_code == 302
    assert Session.objects.count() == 2


@pytest.mark.parametrize(
    "difference", ["other kind", "fewer people", "more people", "eleven minutes", "other worker"]
)
def test_no_warning_when_it_is_not_the_same_contact(org_a, worker_client, difference):
    first, second = in_caseload(org_a), in_caseload(org_a)
    people, minutes, kind, worker = [first], 1, Session.Kind.MENTORING, org_a.worker
    if difference == "other kind":
        kind = Session.Kind.FAMILY_CONTACT
    elif difference == "fewer people":
        people = [first, second]
    elif difference == "more people":
        people = [second]
    elif difference == "eleven minutes":
        minutes = 11
    else:
        worker = UserFactory()
    logged(org_a, people, minutes_ago=minutes, kind=kind, worker=worker)
    response = worker_client.post(reverse("session_log"), session_post([first]))
    assert response.status_code == 302, difference
    assert Session.objects.count() == 2


def test_a_group_with_the_same_people_warns(org_a, worker_client):
    first, second = in_caseload(org_a), in_caseload(org_a)
    logged(org_a, [first, second], minutes_ago=9, kind=Session.Kind.GROUP_SESSION)
    response = worker_client.post(
        reverse("session_log"), session_post([second, first], kind=Session.Kind.GROUP_SESSION)
    )
    assert response.status_code == 200
    assert "was logged 9 minutes ago" in response.content.decode()


def test_the_same_key_again_is_the_same_session_without_a_warning(org_a, worker_client):
    cristian = in_caseload(org_a)
    data = session_post([cristian])
    assert worker_client.post(reverse("session_log"), data).status_code == 302
    again = worker_client.post(reverse("session_log"), data)
    assert again.status_code == 302
    assert Session.objects.count() == 1
