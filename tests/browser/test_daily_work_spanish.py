"""The worker's day at 360 px in Spanish (issue 14): a worker whose saved language is Spanish
signs in from a phone whose browser asks for English, and walks home -> caseload -> log a
session -> the participant's page, all in Spanish, none wider than the screen. The English walk
is test_daily_work.py."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions.models import Enrollment, ReminderPreference, Session
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, EnrollmentFactory, ParticipantFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _in_spanish_and_fits(page) -> str:  # type: ignore[no-untyped-def]
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    return page.locator("body").inner_text()


def test_a_spanish_speaking_workers_day_on_a_phone(phone, org_a):
    ReminderPreference.objects.create(user=org_a.worker, language="es")
    person = ParticipantFactory(
        organization=org_a.organization, first_name="Cristian", last_name="Solis"
    )
    EnrollmentFactory(
        participant=person,
        program=org_a.program,
        assigned_worker=org_a.worker,
        status=Enrollment.Status.ACTIVE,
    )

    # The browser asks for English (the login page is English); the saved choice wins after.
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    home = _in_spanish_and_fits(phone)
    assert "Registrar una sesión" in home and "Español" in home

    phone.goto(reverse("caseload"))
    caseload = _in_spanish_and_fits(phone)
    assert "Solis" in caseload and "Mis casos" in caseload

    phone.goto(reverse("session_log"))
    form = _in_spanish_and_fits(phone)
    assert "Mentoría" in form and "Sesión de grupo" in form  # the kinds, as in the glossary
    phone.locator(f"#pick-{person.pk}").check()
    phone.locator("#kind-chips label", has_text="Mentoría").click()
    phone.locator("#id_duration_minutes").fill("30")
    # What the scripts write is in Spanish too (templates/includes/js_text.html).
    phone.locator("#id_notes").fill("Hola")
    assert phone.locator("#id_notes-counter").inner_text() == "4 de 5,000 caracteres"
    # The button names the choice in Spanish as it changes (session_form.js), not in English.
    label = phone.locator("#session-submit").inner_text()
    assert label.startswith("Registrar 30 min mentoría con "), label
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()
    session = Session.objects.get()
    assert session.kind == Session.Kind.MENTORING and session.duration_minutes == 30

    phone.goto(reverse("participant_detail", args=[person.pk]))
    detail = _in_spanish_and_fits(phone)
    assert "Mentoría" in detail and "Registrar una sesión" in detail
    assert "Mentoring" not in detail
