"""Plans and incentives in a real browser at 360 px: a worker logs a session that meets a
milestone and requests an incentive for it, a manager approves it, finance marks it paid, and
the plan page shows the payment beside the milestone."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions.models.plans import IncentiveEntry, Milestone
from tests.browser.conftest import PHONE, log_in
from tests.factories import TEST_PASSWORD
from tests.plans.conftest import make_plan_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def new_phone(chromium, live_server):  # type: ignore[no-untyped-def]
    context = chromium.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def fits(page) -> bool:  # type: ignore[no-untyped-def]
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_session_milestone_incentive_approved_paid_and_shown(phone, chromium, live_server, org_a):
    world = make_plan_world(org_a)
    participant = world.enrollment.participant
    milestone = world.open[0]

    # The worker logs a session from the participant page and ticks the milestone as met.
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    phone.goto(reverse("participant_detail", args=[participant.pk]))
    assert "3 of 5" in phone.locator("#highlight-plan").inner_text()
    assert fits(phone)
    phone.locator("main").get_by_role("link", name="Log a session").click()
    phone.wait_for_load_state()
    phone.locator("#plan-step summary").click()
    phone.locator(f"#met-{milestone.pk}").check()
    # The button says what it will save ("Log 60 min mentoring with …").
    phone.locator("#session-submit").click()
    phone.wait_for_load_state()
    assert Milestone.objects.get(pk=milestone.pk).met_in_session is not None
    assert "4 of 5" in phone.locator("#highlight-plan").inner_text()

    # ...opens the plan and requests an incentive for it.
    phone.get_by_role("tab", name="Plan").click()
    assert "4 of 5" in phone.locator("#plans").inner_text()
    phone.locator("#plans").get_by_role("link", name=world.enrollment.program.name).click()
    phone.wait_for_load_state()
    assert fits(phone)
    phone.locator("#request-incentive").click()
    phone.wait_for_load_state()
    phone.get_by_label(milestone.description, exact=False).check()
    phone.get_by_label("Amount ($)").fill("250")
    phone.get_by_label("Funding source").select_option("public_grant")
    phone.get_by_role("button", name="Request").click()
    phone.wait_for_load_state()
    entry = IncentiveEntry.objects.get()
    assert entry.amount_cents == 25_000 and entry.status == "requested"

    # A manager approves it from the ledger.
    manager = new_phone(chromium, live_server)
    log_in(manager, org_a.manager.username, TEST_PASSWORD)
    manager.goto(reverse("ledger"))
    assert fits(manager)
    manager.locator(f"#entry-{entry.pk}").get_by_role("button", name="Approve").click()
    manager.wait_for_load_state()
    entry.refresh_from_db()
    assert entry.status == "approved"
    manager.context.close()

    # Finance marks it paid.
    finance = new_phone(chromium, live_server)
    log_in(finance, world.finance.username, TEST_PASSWORD)
    finance.goto(reverse("ledger"))
    finance.locator(f"#entry-{entry.pk}").get_by_role("link", name="Mark paid").click()
    finance.wait_for_load_state()
    finance.get_by_label("Method").select_option("check")
    finance.get_by_label("Reference").fill("1042")
    finance.get_by_role("button", name="Mark paid").click()
    finance.wait_for_load_state()
    entry.refresh_from_db()
    assert entry.status == "paid" and entry.payment_reference == "1042"
    assert "Paid" in finance.locator(f"#entry-{entry.pk}").inner_text()
    finance.context.close()

    # The plan page shows what was paid, for which milestone.
    phone.goto(reverse("plan_detail", args=[world.plan.pk]))
    assert "$250.00 paid" in phone.locator(f"#milestone-{milestone.pk}").inner_text()
    assert "Paid" in phone.locator(f"#incentive-{entry.pk}").inner_text()
    assert fits(phone)
