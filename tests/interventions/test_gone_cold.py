"""Finding 8 of issue 14: "gone cold" counts calendar days in local time, and someone
registered a moment ago is not cold but has a first contact due."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import Participant
from interventions.selectors import manager as manager_selectors
from interventions.selectors import worker as worker_selectors
from tests.factories import SessionFactory
from tests.interventions.test_worker_views import in_caseload

pytestmark = pytest.mark.django_db


def local_moment(days_ago: int, at: time) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, at))


def seen(org, participant: Participant, moment: datetime) -> None:
    SessionFactory(
        organization=org.organization,
        worker=org.worker,
        occurred_at=moment,
        participants=[participant],
    )


def registered(participant: Participant, days_ago: int) -> None:
    Participant.objects.filter(pk=participant.pk).update(
        created_at=local_moment(days_ago, time(9, 0))
    )


def cold_names(org) -> dict[str, bool]:
    return {p.last_name: p.is_cold for p in worker_selectors.caseload_for(org.worker)}


def test_last_seen_fourteen_calendar_days_ago_is_cold_whatever_the_hour(org_a, settings):
    settings.GVR_COLD_AFTER_DAYS = 14
    late = in_caseload(org_a, last_name="Late")
    early = in_caseload(org_a, last_name="Early")
    for person in (late, early):
        registered(person, 60)
    # Late in the evening 14 local days ago: fewer than 14 x 24 hours have passed, still cold.
    seen(org_a, late, local_moment(14, time(23, 59)))
    # First thing 13 local days ago: more hours than that, perhaps, but not yet 14 days.
    seen(org_a, early, local_moment(13, time(0, 1)))
    assert cold_names(org_a) == {"Late": True, "Early": False}
    assert worker_selectors.caseload_for(org_a.worker).get(pk=late.pk).days_since_last_contact == 14


def test_someone_registered_minutes_ago_is_not_cold_but_first_contact_due(
    org_a, worker_client, settings
):
    settings.GVR_COLD_AFTER_DAYS = 14
    new = in_caseload(org_a, last_name="Newcomer")
    overdue = in_caseload(org_a, last_name="Overdue")
    registered(overdue, 14)
    assert cold_names(org_a) == {"Newcomer": False, "Overdue": True}
    due = timezone.localdate() + timedelta(days=13)
    assert new.first_contact_due_on == due

    content = worker_client.get(reverse("caseload")).content.decode()
    assert content.count("cold-flag") == 1
    assert f"First contact due by {due:%a} {due.day} {due:%b}" in content


def test_manager_list_and_dashboard_count_the_same_days(org_a, manager_client, settings):
    settings.GVR_COLD_AFTER_DAYS = 14
    new = in_caseload(org_a, last_name="Newcomer")
    late = in_caseload(org_a, last_name="Late")
    registered(late, 60)
    seen(org_a, late, local_moment(14, time(23, 59)))

    figures = manager_selectors.dashboard_figures(org_a.organization)
    assert {row.worker.username: row.gone_cold for row in figures.workers}[
        org_a.worker.username
    ] == 1
    response = manager_client.get(reverse("org_participants"), {"cold": "yes"})
    listed = {p.pk for p in response.context["page_obj"].object_list}
    assert listed == {late.pk}
    response = manager_client.get(reverse("org_participants"))
    assert "first contact due by" in response.content.decode()
    assert new.pk in {p.pk for p in response.context["page_obj"].object_list}
