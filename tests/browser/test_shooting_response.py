"""Issue 6 in a real browser at 360 px: a manager enters a shooting involving a participant; the
participant's worker finds the response task at the top of their home page, logs the contact
that completes it, and the task shows as done."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import Enrollment, ResponseTask
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, EnrollmentFactory, ParticipantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_enters_an_incident_and_the_worker_completes_the_task(
    phone, chromium, live_server, org_a
):
    person = ParticipantFactory(
        organization=org_a.organization, first_name="Marisol", last_name="Quintero"
    )
    EnrollmentFactory(
        participant=person,
        program=org_a.program,
        assigned_worker=org_a.worker,
        status=Enrollment.Status.ACTIVE,
    )

    # The manager enters the incident on their phone.
    manager_page = chromium.new_context(
        viewport=PHONE, base_url=live_server.url, is_mobile=True
    ).new_page()
    log_in(manager_page, org_a.manager.username, TEST_PASSWORD)
    manager_page.goto(reverse("incident_new"))
    two_hours_ago = timezone.localtime() - timedelta(hours=2)
    manager_page.locator("#id_kind").select_option("nonfatal_shooting")
    manager_page.locator("#id_occurred_at").fill(two_hours_ago.strftime("%Y-%m-%dT%H:%M"))
    manager_page.locator("#id_location_description").fill("Corner of two streets")
    manager_page.locator("#id_victim_count").fill("1")
    manager_page.locator("#id_victims").select_option(str(person.pk))
    manager_page.get_by_role("button", name="Save the incident").click()
    manager_page.wait_for_load_state()
    task = ResponseTask.objects.get(participant=person)
    assert task.assigned_worker == org_a.worker
    manager_page.context.close()

    # The worker sees it at the top of the home page and logs the contact.
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("home"))
    tasks = phone.locator("#my-response-tasks")
    assert "Marisol Quintero" in tasks.inner_text()
    first_heading = phone.locator("main h1, main h2").first
    assert first_heading.get_attribute("id") == "response-tasks-heading"
    tasks.get_by_role("link", name="Log the contact").click()
    phone.wait_for_load_state()
    form = phone.locator("#quick-contact-form")
    form.locator("select[name=location]").select_option("hospital")
    form.locator("textarea[name=notes]").fill("Bedside visit; family present.")
    form.get_by_role("button", name="Log and complete").click()
    phone.wait_for_load_state()

    task.refresh_from_db()
    assert task.status == ResponseTask.Status.DONE and task.completed_session is not None
    assert "was reached" in phone.locator(".alert").first.inner_text()
    phone.goto(reverse("response_task_complete", args=[task.pk]))
    assert "This task is done" in phone.locator("main").inner_text()
    phone.goto(reverse("home"))
    assert phone.locator("#my-response-tasks").count() == 0
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
