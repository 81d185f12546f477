"""Issue 14, finding 1: the session form shows what it will save before the fold: the chosen
people as chips, then kind and minutes as chips, then the place; the others behind "add
people"; the button names the choice."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from interventions.models import Session
from tests.factories import SessionFactory
from tests.interventions.test_worker_views import in_caseload

pytestmark = pytest.mark.django_db


def last_session_was_a_group(org) -> None:
    """The worker's latest session: a 60-minute group session in the office."""
    SessionFactory(
        organization=org.organization,
        worker=org.worker,
        kind=Session.Kind.GROUP_SESSION,
        location=Session.Location.OFFICE,
        duration_minutes=60,
    )


def test_chosen_person_then_kind_minutes_and_place_then_the_rest(org_a, worker_client):
    cristian = in_caseload(org_a, first_name="Cristian", last_name="Sanchez")
    other = in_caseload(org_a, first_name="Dana", last_name="Ortiz")
    last_session_was_a_group(org_a)
    response = worker_client.get(reverse("session_log"), {"participant": cristian.pk})
    content = response.content.decode()
    order = [
        f'id="pick-{cristian.pk}" checked',
        'id="kind-chips"',
        'id="duration-chips"',
        'id="id_location"',
        'id="id_occurred_at"',
        'id="id_notes"',
    ]
    positions = [content.index(marker) for marker in order]
    assert positions == sorted(positions)
    # The others wait, closed, behind "add people"; the chosen person is not listed twice.
    assert re.search(r'<details class="add-people" id="add-people">', content)
    assert "+ Add people" in content
    assert content.count(f'id="pick-{cristian.pk}"') == 1
    assert f'id="pick-{other.pk}"' in content
    # Last session's kind and minutes are the chips already pressed, and the button says so.
    assert re.search(r'value="group_session" id="id_kind_\d+" autocomplete="off" checked', content)
    assert re.search(r'class="[^"]*active"\s+aria-pressed="true"\s+data-duration="60"', content)
    assert ">Log 60 min group session with Cristian S.</button>" in content


def test_with_nobody_chosen_the_picker_is_open_and_the_button_names_no_one(org_a, worker_client):
    in_caseload(org_a)
    content = worker_client.get(reverse("session_log")).content.decode()
    assert '<details class="add-people" id="add-people" open>' in content
    assert "Choose people" in content
    assert ">Log 30 min street outreach</button>" in content


def test_a_group_is_named_by_its_first_person_and_a_count(org_a, worker_client):
    people = [in_caseload(org_a, first_name=n, last_name="Ybarra") for n in ("Ana", "Ben", "Cy")]
    data = {
        "participants": [p.pk for p in people],
        "kind": Session.Kind.MENTORING,
        "duration_minutes": "0",  # refused, so the form is drawn again with the choice
        "location": Session.Location.STREET,
        "occurred_at": "",
        "client_key": "6f1c1e8e-6a43-4a0c-9d51-2a7f0c8d1e11",
    }
    content = worker_client.post(reverse("session_log"), data).content.decode()
    assert ">Log 0 min mentoring with Ana Y. and 2 others</button>" in content
    # Everyone picked comes back as a chip, none of them in the picker below.
    for person in people:
        assert content.count(f'id="pick-{person.pk}"') == 1
        assert f'name="chosen" value="{person.pk}"' in content


def test_search_leaves_out_the_people_already_chosen(org_a, worker_client):
    marcus = in_caseload(org_a, first_name="Marcus")
    marco = in_caseload(org_a, first_name="Marco")
    response = worker_client.get(
        reverse("participant_search"), {"q": "marc", "chosen": [marcus.pk]}
    )
    assert [p.pk for p in response.context["choices"]] == [marco.pk]
