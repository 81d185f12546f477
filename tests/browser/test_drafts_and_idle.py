"""Work is not lost when a session ends (issue 14, finding 5), in a real browser at 360 px: the
session and referral forms keep a draft on the device until saved, and two minutes before the
idle limit a "Stay signed in" button keeps the session."""

from __future__ import annotations

import time

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.urls import reverse

from interventions.audit.signals import LAST_SEEN_KEY
from interventions.models import Referral, Session
from tests.browser.conftest import log_in
from tests.caseloads import on_caseload
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DRAFT_KEYS = "Object.keys(localStorage).filter((key) => key.startsWith('gvr:draft:'))"


@pytest.fixture
def person(org_a):  # type: ignore[no-untyped-def]
    return on_caseload(org_a, first_name="Elena", last_name="Robles")


def _wait_for_draft(page) -> list[str]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 5
    while not (keys := page.evaluate(DRAFT_KEYS)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return keys


def test_session_form_draft_comes_back_until_the_session_is_saved(phone, org_a, person):
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("session_log"))
    phone.locator(f"#pick-{person.pk}").check()
    phone.locator("#id_duration_minutes").fill("45")
    phone.locator("#id_notes").fill("She wants to finish her GED this spring.")
    assert _wait_for_draft(phone) == [f"gvr:draft:{org_a.worker.pk}:{reverse('session_log')}"]

    # Away without saving (a call, a dropped connection), then back to the form.
    phone.goto(reverse("caseload"))
    phone.goto(reverse("session_log"))
    assert phone.locator("[data-draft-restored]").is_visible()
    assert phone.locator("#id_notes").input_value() == "She wants to finish her GED this spring."
    assert phone.locator("#id_duration_minutes").input_value() == "45"
    assert phone.locator(f"#pick-{person.pk}").is_checked()
    # The button names what came back, and the restored minutes' chip is the pressed one.
    assert phone.locator("#session-submit").inner_text() == (
        "Log 45 min street outreach with Elena R."
    )
    assert phone.locator("[data-duration='45']").get_attribute("aria-pressed") == "true"
    assert phone.locator("[data-duration='30']").get_attribute("aria-pressed") == "false"

    phone.locator("#session-submit").click()
    phone.wait_for_load_state()
    assert Session.objects.get().notes == "She wants to finish her GED this spring."
    assert phone.evaluate(DRAFT_KEYS) == []
    phone.goto(reverse("session_log"))
    assert phone.locator("[data-draft-restored]").count() == 0
    assert phone.locator("#id_notes").input_value() == ""


def test_referral_form_draft_survives_a_reload_and_goes_once_saved(phone, org_a, person):
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("participant_detail", args=[person.pk]))
    # The participant page links to the referral form, a page of its own.
    phone.get_by_role("link", name="Make a referral").first.click()
    phone.wait_for_url(f"**{reverse('referral_create', args=[person.pk])}")
    phone.locator("#id_service_category").select_option(Referral.ServiceCategory.HOUSING)
    phone.locator("#id_outside_provider").fill("Flood Ministries")
    phone.locator("#id_notes").fill("Needs a bed before Friday.")
    assert _wait_for_draft(phone) == [
        f"gvr:draft:{org_a.worker.pk}:{reverse('referral_create', args=[person.pk])}"
    ]

    phone.reload()
    assert phone.locator("[data-draft-restored]").is_visible()
    assert phone.locator("#id_notes").is_visible()
    assert phone.locator("#id_notes").input_value() == "Needs a bed before Friday."
    assert phone.locator("#id_outside_provider").input_value() == "Flood Ministries"
    assert phone.locator("#id_service_category").input_value() == (Referral.ServiceCategory.HOUSING)
    phone.get_by_role("button", name="Make referral").click()
    phone.wait_for_load_state()
    assert Referral.objects.get().notes == "Needs a bed before Friday."
    assert phone.evaluate(DRAFT_KEYS) == []


def _server_session(page) -> SessionStore:  # type: ignore[no-untyped-def]
    cookie = next(c for c in page.context.cookies() if c["name"] == "sessionid")
    return SessionStore(session_key=cookie["value"])


def test_idle_warning_offers_to_stay_signed_in_and_says_when_the_session_ended(
    phone, org_a, person, settings
):
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.clock.install()
    phone.goto(reverse("session_log"))
    phone.locator("#id_notes").fill("Half a note.")
    warning = phone.locator(".idle-warning")
    assert warning.count() == 0

    # Two minutes before the limit the warning appears, with the focus on its button.
    phone.clock.fast_forward("28:30")
    warning.wait_for()
    assert "signed out in 2 minutes" in warning.inner_text()
    stay = warning.get_by_role("button", name="Stay signed in")
    assert stay.evaluate("(button) => document.activeElement === button")
    assert warning.evaluate("(panel) => panel.getBoundingClientRect().right") <= 360

    # The server's idle clock is almost out; the button resets it.
    session = _server_session(phone)
    stale = int(time.time()) - (settings.GVR_SESSION_IDLE_MINUTES * 60 - 60)
    session[LAST_SEEN_KEY] = stale
    session.save()
    stay.click()
    warning.wait_for(state="detached")
    assert _server_session(phone)[LAST_SEEN_KEY] > stale + 60

    # Left alone past the limit, the page says so and how to get back; the note is kept.
    phone.clock.fast_forward("30:30")
    ended = phone.locator(".idle-warning")
    ended.wait_for()
    assert "Your session has ended" in ended.inner_text()
    login_link = ended.get_by_role("link", name="Log in again")
    assert login_link.get_attribute("href") == (
        f"{reverse('login')}?next={reverse('session_log').replace('/', '%2F')}"
    )
    assert phone.evaluate(DRAFT_KEYS)


def test_a_stale_form_gets_the_plain_csrf_page_and_the_draft_is_there_on_the_way_back(
    phone, org_a, person
):
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("session_log"))
    phone.locator(f"#pick-{person.pk}").check()
    phone.locator("#id_notes").fill("Typed before the form went stale.")
    assert _wait_for_draft(phone)
    # The form no longer matches the sign-in (as after signing in again in another tab).
    phone.locator("#session-form input[name='csrfmiddlewaretoken']").evaluate(
        "(input) => { input.value = 'a'.repeat(64); }"
    )
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()

    assert phone.locator("h1").inner_text() == "This form had expired, so nothing was saved"
    assert phone.locator("nav[aria-label='Main navigation']").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert not Session.objects.exists()
    phone.get_by_role("link", name="Go back to the form").click()
    phone.wait_for_load_state()
    assert phone.url.endswith(reverse("session_log"))
    assert phone.locator("[data-draft-restored]").is_visible()
    assert phone.locator("#id_notes").input_value() == "Typed before the form went stale."
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()
    assert Session.objects.get().notes == "Typed before the form went stale."
