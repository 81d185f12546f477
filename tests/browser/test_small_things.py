"""Small things at 360 px (issue 14, finding 11): every button, menu link and table link is at least
44 px high (WCAG 2.5.5; links inside a sentence are exempt); a note over 5,000 characters is
refused with a message, never cut; the two-step code field brings up the number pad."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions.models import Session
from tests.browser.conftest import PHONE, log_in
from tests.caseloads import on_caseload
from tests.factories import (
    TEST_PASSWORD,
    ReferralFactory,
    SessionFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What a finger presses: buttons, folding headers, pager and menu links, and links in tables.
SMALL_TARGETS = """() => Array.from(document.querySelectorAll(
  "main .btn, main button, main summary, main .page-link, main td a, main th a, .navbar .nav-link"
)).filter((node) => {
  const box = node.getBoundingClientRect();
  return box.width > 0 && box.height > 0 && box.height < 44;
}).map((node) => `${node.tagName.toLowerCase()} "${node.textContent.trim().slice(0, 40)}" `
  + `${Math.round(node.getBoundingClientRect().height)}px`)"""


def test_everything_pressed_on_the_everyday_pages_is_44_px_high(chromium, live_server, org_a):
    person = on_caseload(org_a)
    SessionFactory(organization=org_a.organization, worker=org_a.worker, participants=[person])
    ReferralFactory(participant=person, made_by=org_a.worker)
    pages = {
        org_a.worker: [
            reverse("home"),
            reverse("caseload"),
            reverse("session_log"),
            reverse("participant_detail", args=[person.pk]),
            reverse("participant_detail", args=[person.pk]) + "?tab=details",
            reverse("participant_detail", args=[person.pk]) + "?tab=related",
            reverse("referral_list"),
        ],
        org_a.manager: [
            reverse("manager_dashboard"),
            reverse("org_participants"),
            reverse("org_sessions"),
            reverse("org_referrals"),
        ],
    }
    small = {}
    for user, urls in pages.items():
        context = chromium.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
        page = context.new_page()
        log_in(page, user.username, TEST_PASSWORD)
        for url in urls:
            page.goto(url)
            # Open every folded form, as a worker would, to measure what is inside.
            page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
            if page.locator(".navbar-toggler").is_visible():
                page.locator(".navbar-toggler").click()
                page.locator("#main-nav.show").wait_for()
            if found := page.evaluate(SMALL_TARGETS):
                small[url] = found
        context.close()
    assert small == {}, "\n".join(f"{url}: {found}" for url, found in small.items())


def test_a_note_over_the_limit_is_refused_with_a_message_and_kept_whole(phone, org_a):
    person = on_caseload(org_a)
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("session_log"))
    notes = phone.locator("#id_notes")
    counter = phone.locator("#id_notes-counter")
    notes.fill("Short note.")
    assert counter.inner_text() == "11 of 5,000 characters"

    pasted = "a" * 5_010
    phone.locator(f"#pick-{person.pk}").check()
    notes.fill(pasted)
    assert counter.inner_text() == (
        "Too long by 10 characters: shorten it to 5,000 or fewer to save."
    )
    phone.locator("#session-submit").click()
    assert phone.url.endswith(reverse("session_log"))
    assert phone.evaluate("document.activeElement.id") == "id_notes"
    assert notes.input_value() == pasted  # nothing cut
    assert not Session.objects.exists()

    notes.fill("a" * 5_000)
    assert counter.inner_text() == "5,000 of 5,000 characters"
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()
    assert len(Session.objects.get().notes) == 5_000


def test_two_step_code_field_brings_up_the_number_pad_and_allows_a_backup_code(phone, org_a):
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.create(user=org_a.manager, name="Phone", confirmed=True)
    phone.goto(reverse("login"))
    phone.get_by_label("Username").fill(org_a.manager.username)
    phone.get_by_label("Password").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_url("**/accounts/two-factor/**")
    code = phone.get_by_label("Code")
    assert code.get_attribute("inputmode") == "numeric"
    assert code.get_attribute("autocomplete") == "one-time-code"
    phone.get_by_role("button", name="Use a backup code").click()
    assert code.get_attribute("inputmode") == "text"
    assert phone.evaluate("document.activeElement.name") == "code"
