"""The everyday path in a real browser at 360 px (issue 3): a worker logs a group session for two
participants and finds it on both timelines; the manager sees the hours on the dashboard and
exports the caseload; a worker of another organisation gets the not-found page."""

from __future__ import annotations

import csv
import io

import pytest
from django.urls import reverse

from interventions.models import Enrollment, Session
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, EnrollmentFactory, ParticipantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_group_session_reaches_timelines_dashboard_and_export_but_not_outsiders(
    phone, chromium, live_server, org_a, org_b
):
    people = [
        ParticipantFactory(organization=org_a.organization, first_name=first, last_name="Ybarra")
        for first in ("Adrian", "Brianna")
    ]
    for person in people:
        EnrollmentFactory(
            participant=person,
            program=org_a.program,
            assigned_worker=org_a.worker,
            status=Enrollment.Status.ACTIVE,
        )

    # The worker logs a 90-minute group session for both.
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("session_log"))
    for person in people:
        phone.locator(f"#pick-{person.pk}").check()
    phone.locator("#kind-chips label", has_text="Group session").click()
    phone.locator("#id_location").select_option(Session.Location.OFFICE)
    phone.locator("#id_duration_minutes").fill("90")
    phone.locator("#id_notes").fill("Peer circle in the office.")
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()
    assert Session.objects.get().attendance.count() == 2
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    for person in people:
        phone.goto(reverse("participant_detail", args=[person.pk]))
        assert "Group session" in phone.locator("main").inner_text()

    # The manager sees the 1.5 hours and exports the caseload.
    manager_page = chromium.new_context(
        viewport=PHONE, base_url=live_server.url, is_mobile=True
    ).new_page()
    log_in(manager_page, org_a.manager.username, TEST_PASSWORD)
    manager_page.goto(reverse("manager_dashboard"))
    hours = manager_page.locator('[data-figure="hours-this-month"]').first.inner_text()
    assert hours.strip().startswith("1.5"), hours
    manager_page.goto(reverse("org_participants"))
    with manager_page.expect_download() as download_info:
        manager_page.get_by_role("link", name="Export CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("caseload-")
    with open(download.path(), encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(io.StringIO(handle.read())))
    assert {row["participant_code"] for row in rows} == {p.participant_code for p in people}
    manager_page.context.close()

    # A worker of another organisation cannot open them.
    outsider_page = chromium.new_context(
        viewport=PHONE, base_url=live_server.url, is_mobile=True
    ).new_page()
    log_in(outsider_page, org_b.worker.username, TEST_PASSWORD)
    for person in people:
        response = outsider_page.goto(reverse("participant_detail", args=[person.pk]))
        assert response is not None and response.status == 404
        assert "Not found" in outsider_page.locator("h1").inner_text()
        assert "Ybarra" not in outsider_page.content()
    outsider_page.context.close()
