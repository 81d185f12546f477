"""Offline logging in a real browser at 360 px (issue 14): the worker's phone keeps the home page,
caseload and session form; sessions logged without a connection wait on the phone and are saved
exactly once when it returns; a refused one keeps what was typed; logout leaves nothing behind."""

from __future__ import annotations

import time

import pytest
from django.urls import reverse

from interventions.models import Session
from tests.browser.conftest import PHONE, log_in
from tests.caseloads import on_caseload
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KEPT_URLS = """async () => {
  const urls = [];
  for (const name of await caches.keys()) {
    if (!name.startsWith("gvr-offline-")) continue;
    const cache = await caches.open(name);
    for (const request of await cache.keys()) urls.push(new URL(request.url).pathname);
  }
  return urls;
}"""

DEVICE_STORE = """async () => ({
  databases: (await indexedDB.databases()).map((db) => db.name),
  caches: await caches.keys(),
  workers: (await navigator.serviceWorker.getRegistrations()).length,
  drafts: Object.keys(localStorage).filter((key) => key.startsWith("gvr:draft:")),
})"""


def _caseload(org, *names):  # type: ignore[no-untyped-def]
    return [on_caseload(org, first_name=first, last_name="Quintero") for first in names]


def _wait_until(check, timeout: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _ready_for_offline(page) -> None:  # type: ignore[no-untyped-def]
    """Signed in, the service worker running and the three pages kept."""
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    wanted = {reverse("home"), reverse("caseload"), reverse("session_log")}
    assert _wait_until(lambda: wanted <= set(page.evaluate(KEPT_URLS))), page.evaluate(KEPT_URLS)
    # A page loaded now is controlled by the worker.
    page.reload()
    assert page.evaluate("Boolean(navigator.serviceWorker.controller)")


def _log_offline(page, person, note: str) -> None:  # type: ignore[no-untyped-def]
    """As a person would: the person, the kind chip, the minutes chip, the place, a note, and
    the button that names the choice."""
    page.locator(f"#pick-{person.pk}").check()
    page.locator("#kind-chips label", has_text=str(Session.Kind.MENTORING.label)).click()
    page.locator("[data-duration='30']").click()
    page.locator("#id_location").select_option(Session.Location.STREET)
    page.locator("#id_notes").fill(note)
    submit = page.locator("#session-submit")
    assert submit.inner_text() == f"Log 30 min mentoring with {person.first_name} Q."
    submit.click()


def _queue_one_offline(page, org, person, note: str) -> None:  # type: ignore[no-untyped-def]
    """Signed in with the phone ready, the connection gone, one session logged and waiting."""
    log_in(page, org.worker.username, TEST_PASSWORD)
    _ready_for_offline(page)
    page.goto(reverse("session_log"))
    page.context.set_offline(True)
    _log_offline(page, person, note)
    page.locator("#offline-status").get_by_text("1 session waiting to send").wait_for()


def test_two_sessions_logged_offline_are_saved_once_each_when_the_connection_returns(phone, org_a):
    adrian, brianna = _caseload(org_a, "Adrian", "Brianna")
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    _ready_for_offline(phone)
    # Opening a participant page keeps nothing of it on the phone.
    phone.goto(reverse("participant_detail", args=[adrian.pk]))
    assert not [url for url in phone.evaluate(KEPT_URLS) if url.startswith("/participants/")]

    phone.goto(reverse("session_log"))
    phone.context.set_offline(True)
    _log_offline(phone, adrian, "Talked about the job fair.")
    status = phone.locator("#offline-status")
    status.get_by_text("1 session waiting to send").wait_for()
    assert "Saved on this phone: Mentoring, 30 min, with Adrian Quintero" in status.inner_text()
    _log_offline(phone, brianna, "Walked her to the clinic.")
    status.get_by_text("2 sessions waiting to send").wait_for()

    # Reloaded without a connection, the form still opens and the queue is still there.
    phone.reload()
    assert phone.locator("#session-form").is_visible()
    # offline.js adds the notice once it has read the kept copy: wait for it, not a race.
    phone.locator("main").get_by_text("No connection:").first.wait_for()
    status.get_by_text("2 sessions waiting to send").wait_for()
    phone.goto(reverse("caseload"))
    assert "Brianna Quintero" in phone.locator("main").inner_text()
    phone.goto(reverse("session_log"))
    assert Session.objects.count() == 0

    phone.context.set_offline(False)
    status.get_by_text("2 sessions sent and saved").wait_for()
    phone.reload()
    phone.wait_for_load_state()
    assert "waiting to send" not in phone.locator("main").inner_text()

    sessions = list(Session.objects.prefetch_related("attendance"))
    assert sorted(s.notes for s in sessions) == [
        "Talked about the job fair.",
        "Walked her to the clinic.",
    ]
    assert {s.notes: [a.participant_id for a in s.attendance.all()] for s in sessions} == {
        "Talked about the job fair.": [adrian.pk],
        "Walked her to the clinic.": [brianna.pk],
    }
    assert all(s.worker_id == org_a.worker.pk and s.duration_minutes == 30 for s in sessions)
    assert all(
        (s.kind, s.location) == (Session.Kind.MENTORING, Session.Location.STREET) for s in sessions
    )
    assert len({s.client_key for s in sessions}) == 2


def test_a_session_the_server_refuses_keeps_what_was_typed_with_the_reason(phone, org_a, org_b):
    (carlos,) = _caseload(org_a, "Carlos")
    _queue_one_offline(phone, org_a, carlos, "Carlos asked about tattoo removal.")

    # Meanwhile the person moved to another organisation, which shares nothing with this one.
    carlos.organization = org_b.organization
    carlos.save()
    phone.context.set_offline(False)

    refused = phone.locator("[data-refused]")
    refused.wait_for()
    assert "Choose participants from your organisation." in refused.inner_text()
    assert refused.locator("textarea").input_value() == "Carlos asked about tattoo removal."
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert Session.objects.count() == 0
    # Still there after a reload: nothing typed is lost until the worker discards it.
    phone.reload()
    assert phone.locator("[data-refused] textarea").input_value() == (
        "Carlos asked about tattoo removal."
    )


def test_logout_clears_the_queue_the_kept_pages_and_the_drafts(phone, org_a):
    (dora,) = _caseload(org_a, "Dora")
    _queue_one_offline(phone, org_a, dora, "Queued, never sent.")
    phone.locator("#id_notes").fill("A draft of the next one.")
    # The connection returns but sending fails, so the session is still waiting at logout.
    phone.route("**/offline/sessions/", lambda route: route.abort())
    phone.context.set_offline(False)
    before = phone.evaluate(DEVICE_STORE)
    assert "gvr-offline" in before["databases"]
    assert before["caches"] and before["workers"] == 1
    assert _wait_until(lambda: phone.evaluate(DEVICE_STORE)["drafts"])

    phone.locator(".navbar-toggler").click()
    phone.locator("#main-nav.show").wait_for()
    with phone.expect_navigation(url="**/accounts/login/", timeout=30_000):
        phone.get_by_role("button", name="Log out").click()
    assert "You have logged out." in phone.locator("main").inner_text()
    after = phone.evaluate(DEVICE_STORE)
    assert after == {"databases": [], "caches": [], "workers": 0, "drafts": []}
    assert Session.objects.count() == 0


def test_sessions_queued_when_the_session_ends_wait_for_the_same_worker_to_log_in_again(
    phone, org_a
):
    from django.contrib.sessions.backends.db import SessionStore

    (elias,) = _caseload(org_a, "Elias")
    _queue_one_offline(phone, org_a, elias, "Logged in the hospital basement.")
    status = phone.locator("#offline-status")

    # The session ends on the server (idle limit) before the connection returns.
    cookie = next(c for c in phone.context.cookies() if c["name"] == "sessionid")
    SessionStore(session_key=cookie["value"]).delete()
    phone.context.set_offline(False)
    status.get_by_text("Your session has ended").wait_for()
    assert Session.objects.count() == 0

    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    status.get_by_text("1 session sent and saved").wait_for()
    assert Session.objects.get().notes == "Logged in the hospital basement."


def test_another_person_signing_in_on_the_device_never_sends_or_sees_the_queue(phone, org_a):
    from django.contrib.sessions.backends.db import SessionStore

    from interventions.models import Membership
    from tests.factories import MembershipFactory, UserFactory

    (flor,) = _caseload(org_a, "Flor")
    colleague = UserFactory(username="org-a-colleague")
    MembershipFactory(
        user=colleague, organization=org_a.organization, role=Membership.Role.OUTREACH_WORKER
    )
    _queue_one_offline(phone, org_a, flor, "Only mine to send.")
    phone.locator("#id_notes").fill("My unsaved draft.")
    assert _wait_until(lambda: phone.evaluate(DEVICE_STORE)["drafts"])
    # The first worker's session ends without a logout; a colleague picks up the phone.
    cookie = next(c for c in phone.context.cookies() if c["name"] == "sessionid")
    SessionStore(session_key=cookie["value"]).delete()
    phone.context.set_offline(False)

    log_in(phone, colleague.username, TEST_PASSWORD)
    assert _wait_until(lambda: "gvr-offline" not in phone.evaluate(DEVICE_STORE)["databases"])
    assert phone.evaluate(DEVICE_STORE)["drafts"] == []
    assert "waiting to send" not in phone.locator("main").inner_text()
    assert "Only mine to send." not in phone.content()
    assert Session.objects.count() == 0
