"""The participant page on a phone: highlights, then tabs that work (Activity first), and tables
that become labelled cards below 576 px."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD, SessionFactory
from tests.plans.conftest import make_plan_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tabs_open_the_plan_and_activity_comes_first(phone, org_a) -> None:  # type: ignore[no-untyped-def]
    world = make_plan_world(org_a)
    participant = world.enrollment.participant
    SessionFactory(organization=org_a.organization, worker=org_a.worker, participants=[participant])
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("participant_detail", args=[participant.pk]))

    tabs = phone.get_by_role("tab")
    assert tabs.first.inner_text().strip() == "Activity"
    assert tabs.first.get_attribute("aria-selected") == "true"
    assert phone.locator("#timeline").is_visible()
    assert phone.locator("#highlights").is_visible()

    phone.get_by_role("tab", name="Plan").click()
    phone.locator("#plans").wait_for()
    assert "3 of 5" in phone.locator("#plans").inner_text()
    assert phone.get_by_role("tab", name="Plan").get_attribute("aria-selected") == "true"
    assert phone.locator("#timeline").count() == 0
    assert phone.url.endswith("?tab=plan"), "the address names the tab, for a link or a reload"
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    phone.get_by_role("tab", name="Details").click()
    phone.locator("#profile-heading").wait_for()
    phone.go_back()
    phone.locator("#plans").wait_for()


def test_tabs_work_without_javascript(chromium, live_server, org_a) -> None:  # type: ignore[no-untyped-def]
    world = make_plan_world(org_a)
    context = chromium.new_context(
        viewport=PHONE, base_url=live_server.url, is_mobile=True, java_script_enabled=False
    )
    page = context.new_page()
    try:
        log_in(page, org_a.worker.username, TEST_PASSWORD)
        page.goto(reverse("participant_detail", args=[world.enrollment.participant.pk]))
        page.get_by_role("tab", name="Related").click()
        page.locator("#sharing").wait_for()
        assert page.url.endswith("?tab=related")
    finally:
        context.close()


def test_a_table_becomes_labelled_cards_on_a_phone(phone, org_a) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        make_plan_world(org_a, prefix=f"p{_}")
    log_in(phone, org_a.manager.username, TEST_PASSWORD)
    phone.goto(reverse("org_participants"))
    table = phone.locator("main table.table").first
    table.wait_for()
    assert "table-cards" in (table.get_attribute("class") or "")
    headings = [
        text.strip() for text in table.locator("thead th").all_inner_texts() if text.strip()
    ]
    cell = table.locator("tbody tr").first.locator("td[data-label]").first
    label = cell.get_attribute("data-label")
    assert label in headings
    # The label is drawn before the value (CSS generated content), and the row is a block.
    drawn = cell.evaluate("(td) => getComputedStyle(td, '::before').content")
    assert drawn.strip('"') == label
    assert table.locator("tbody tr").first.evaluate("(tr) => getComputedStyle(tr).display") == (
        "block"
    )
    assert table.locator("thead").evaluate("(thead) => thead.getBoundingClientRect().height") <= 1
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Wider than a phone, the same table is a table again.
    phone.set_viewport_size({"width": 1024, "height": 780})
    assert table.locator("tbody tr").first.evaluate("(tr) => getComputedStyle(tr).display") == (
        "table-row"
    )
