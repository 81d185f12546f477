"""The error summary in a real browser at 360 px (issue 14, finding 3): an invalid submit moves the
focus to the summary at the top, and each link takes the focus to its field."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = "document.activeElement.id || document.activeElement.name"


def test_invalid_session_form_focuses_the_summary_and_its_links_reach_the_fields(phone, org_a):
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("session_log"))
    phone.locator("#id_duration_minutes").fill("0")
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()

    assert phone.title().startswith("Error: Log a session")
    summary = phone.locator("#error-summary")
    assert phone.evaluate(FOCUSED) == "error-summary"
    assert summary.evaluate("(box) => box.getBoundingClientRect().top") < PHONE["height"] / 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    summary.get_by_role("link", name="Duration (minutes): Ensure this value").click()
    assert phone.evaluate(FOCUSED) == "id_duration_minutes"
    summary.get_by_role("link", name="Participants: Choose at least one participant.").click()
    assert phone.evaluate(FOCUSED) == "div_id_participants"
