"""The funder report and a participant's outcomes page in a real browser at 360 px: the pages
fit the phone, the report prints without its form and buttons, and its workbook downloads."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from interventions.models.outcomes import OutcomeEvent
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, EnrollmentFactory, ParticipantFactory, SessionFactory
from tests.outcomes.factories import DemographicsFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_funder_report_on_a_phone_prints_and_downloads(phone, org_a):
    people = [ParticipantFactory(organization=org_a.organization) for _ in range(14)]
    for person in people:
        DemographicsFactory(participant=person)
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=timezone.make_aware(datetime(2026, 2, 3, 10)),
        participants=people,
    )

    log_in(phone, org_a.manager.username, TEST_PASSWORD)
    phone.goto(reverse("funder_report") + "?quarter=2026-Q1")
    assert phone.locator("#report-period").inner_text() == "Jan 1, 2026 to Mar 31, 2026"
    served = phone.locator("table", has_text="Unduplicated people served")
    assert served.locator("tr", has_text="Total").inner_text().split() == ["Total", "14"]
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    phone.emulate_media(media="print")
    assert not phone.locator("#report-form").is_visible()
    assert not phone.locator("#download-xlsx").is_visible()
    assert phone.locator("table", has_text="Gender").is_visible()
    phone.emulate_media(media="screen")

    with phone.expect_download() as download_info:
        phone.locator("#download-xlsx").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:
        workbook = load_workbook(io.BytesIO(file.read()))
    assert "Gender" in workbook.sheetnames and len(workbook.sheetnames) == 12
    assert "Incentives paid by funding source"[:31] in workbook.sheetnames  # names of 31 at most


def test_a_worker_records_an_outcome_on_a_phone(phone, org_a):
    person = ParticipantFactory(organization=org_a.organization, first_name="Marisol")
    EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)

    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("participant_detail", args=[person.pk]))
    phone.locator("#outcomes-link").click()
    phone.get_by_label("What happened").select_option("employment_started")
    phone.get_by_label("Learnt from").first.select_option("employer")
    phone.get_by_role("button", name="Record outcome").click()
    phone.wait_for_load_state()
    assert "Employment started recorded." in phone.content()
    assert phone.locator("#outcome-events li").count() == 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert OutcomeEvent.objects.get(participant=person).source == "employer"
