"""Issue 14 in a real browser: on a 360 px phone, what the session form will save (the person,
the kind, the minutes and the place) is on the first screen and named on the button; back then
submit again logs once; registration suggests a likely match as the name is typed."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions.models import Session
from tests.browser.conftest import log_in
from tests.factories import TEST_PASSWORD, ParticipantFactory
from tests.interventions.test_session_form import last_session_was_a_group
from tests.interventions.test_worker_views import in_caseload

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# A small phone's first screen: 360 x 640 CSS pixels, smaller than the suite's usual phone.
FIRST_SCREEN = {"width": 360, "height": 640}


def test_kind_minutes_and_place_are_on_the_first_screen_and_named_on_the_button(phone, org_a):
    cristian = in_caseload(org_a, first_name="Cristian", last_name="Sanchez")
    # The worker's last session was a group session: the form starts from it, in plain view.
    last_session_was_a_group(org_a)
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.set_viewport_size(FIRST_SCREEN)
    phone.goto(f"{reverse('session_log')}?participant={cristian.pk}")

    # Visible means above the submit button, which stays at the bottom of the screen.
    visible_to = phone.locator("#session-submit").bounding_box()["y"]
    assert visible_to <= phone.evaluate("window.innerHeight")
    for selector in (
        f"label[for='pick-{cristian.pk}']",
        "#kind-chips",
        "#duration-chips",
        "#id_location",
    ):
        box = phone.locator(selector).bounding_box()
        assert box is not None, selector
        assert box["y"] >= 0 and box["y"] + box["height"] <= visible_to, (selector, box, visible_to)
    assert phone.evaluate("document.documentElement.scrollWidth") <= FIRST_SCREEN["width"]

    submit = phone.locator("#session-submit")
    assert submit.inner_text() == "Log 60 min group session with Cristian S."
    assert phone.locator("#id_location").input_value() == Session.Location.OFFICE

    # Two taps change what will be saved, and the button says so before the third sends it.
    phone.locator("#kind-chips label", has_text="Mentoring").click()
    phone.locator("[data-duration='30']").click()
    assert submit.inner_text() == "Log 30 min mentoring with Cristian S."
    submit.click()
    phone.wait_for_load_state()
    saved = Session.objects.filter(worker=org_a.worker).latest("created_at")
    assert (saved.kind, saved.duration_minutes) == (Session.Kind.MENTORING, 30)
    assert list(saved.participants.all()) == [cristian]


def test_back_then_submit_again_keeps_the_key_and_logs_once(phone, org_a):
    """Issue 14, finding 2: the page drawn again by the back button sends the key it was first
    drawn with, so the resend is answered with the session already saved."""
    dana = in_caseload(org_a, first_name="Dana", last_name="Ortiz")
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(f"{reverse('session_log')}?participant={dana.pk}")
    phone.locator("#session-submit").click()
    phone.wait_for_url(f"**{reverse('participant_detail', args=[dana.pk])}")
    first = Session.objects.get()

    phone.go_back()
    phone.wait_for_load_state()
    assert phone.locator("#id_client_key").input_value() == str(first.client_key)
    phone.locator("#session-submit").click()
    phone.wait_for_url(f"**{reverse('participant_detail', args=[dana.pk])}")
    assert Session.objects.count() == 1


def test_registration_suggests_a_likely_match_as_the_name_is_typed(phone, org_a):
    """Issue 14, finding 4: "Jose Tapya" is typed; "Jose Tapia", already registered, is offered."""
    ParticipantFactory(organization=org_a.organization, first_name="Jose", last_name="Tapia")
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("participant_register"))
    phone.locator("#id_first_name").fill("Jose")
    phone.locator("#id_last_name").press_sequentially("Tapya")
    hint = phone.locator("#name-match-list")
    hint.wait_for()
    assert "Jose Tapia" in hint.inner_text()
