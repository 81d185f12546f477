"""The plan and ledger pages in the role matrix: another organisation gets 404, an analyst
nothing, finance the ledger and nothing else (no plan page, no participant page, no plan text),
outreach workers no ledger."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from interventions.access import ANALYST_GROUP
from interventions.services import plans as plan_services
from tests.conftest import logged_in
from tests.factories import UserFactory
from tests.plans.conftest import PLAN_NOTE, make_finance

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(pw):
    return plan_services.request_incentive(
        milestones=[pw.met[0]],
        by=pw.org.worker,
        month=timezone.localdate(),
        amount_cents=10_000,
        funding_source="public_grant",
    )


def plan_urls(pw) -> list[str]:
    goal = pw.plan.goals.get()
    return [
        reverse("plan_detail", args=[pw.plan.pk]),
        reverse("goal_add", args=[pw.plan.pk]),
        reverse("goal_edit", args=[goal.pk]),
        reverse("milestone_add", args=[goal.pk]),
        reverse("incentive_request", args=[pw.plan.pk]),
        reverse("plan_start", args=[pw.enrollment.pk]),
        reverse("participant_detail", args=[pw.enrollment.participant.pk]),
    ]


def ledger_urls(pw, entry) -> list[str]:
    return [
        reverse("ledger"),
        reverse("ledger_export"),
        reverse("ledger_participant", args=[pw.enrollment.participant.pk]),
        reverse("incentive_pay", args=[entry.pk]),
    ]


def body(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_finance_reads_the_ledger_and_nothing_else(pw, entry):
    finance = logged_in(pw.finance)
    for url in ledger_urls(pw, entry):
        response = finance.get(url)
        assert response.status_code == 200, url
        assert PLAN_NOTE not in body(response)
    for url in plan_urls(pw):
        assert finance.get(url).status_code == 403, url
    assert finance.get(reverse("caseload")).status_code == 403
    assert finance.get("/")["Location"] == reverse("ledger")


def test_finance_of_another_organisation_sees_none_of_it(pw, entry, org_b):
    finance_b = logged_in(make_finance(org_b, "b-finance"))
    for url in ledger_urls(pw, entry)[2:]:
        assert finance_b.get(url).status_code == 404, url
    for url in ledger_urls(pw, entry)[:2]:
        text = body(finance_b.get(url))
        assert pw.enrollment.participant.participant_code not in text
    assert finance_b.post(reverse("incentive_approve", args=[entry.pk])).status_code == 404


def test_another_organisation_gets_404_for_plans_and_entries(pw, entry, org_b):
    for user in (org_b.worker, org_b.manager):
        client = logged_in(user)
        for url in plan_urls(pw)[:6]:
            assert client.get(url).status_code == 404, url
        for name in ("incentive_approve", "incentive_decline", "incentive_reverse"):
            assert client.post(reverse(name, args=[entry.pk])).status_code in (403, 404)
    manager_b = logged_in(org_b.manager)
    assert (
        manager_b.get(
            reverse("ledger_participant", args=[entry.enrollment.participant_id])
        ).status_code
        == 404
    )
    assert pw.enrollment.participant.participant_code not in body(
        manager_b.get(reverse("ledger_export"))
    )


def test_an_analyst_has_no_plan_or_ledger_page(pw, entry):
    analyst = UserFactory(username="analyst")
    analyst.groups.add(Group.objects.get(name=ANALYST_GROUP))
    client = logged_in(analyst)
    for url in [*plan_urls(pw), *ledger_urls(pw, entry), reverse("session_milestones")]:
        assert client.get(url).status_code == 403, url


def test_outreach_workers_have_no_ledger(pw, entry):
    worker = logged_in(pw.org.worker)
    for url in ledger_urls(pw, entry):
        assert worker.get(url).status_code == 403, url


def test_the_admin_never_lists_or_searches_plan_text(pw, admin_client_city):
    for model in ("lifeplan", "goal", "milestone", "incentiveentry", "planchange"):
        response = admin_client_city.get(f"/admin/interventions/{model}/", {"q": "license"})
        assert PLAN_NOTE not in body(response), model
    for model in ("goal", "milestone", "planchange", "milestoneprogress"):
        assert admin_client_city.get(f"/admin/interventions/{model}/").status_code == 404


def test_every_page_but_the_ledger_refuses_finance(pw, entry):
    """Every GET route outside the ledger, the account pages and the health check: 403 or 404
    for a finance member of the record's own organisation (the admin: its login page)."""
    from tests.test_scoping import ROUTES

    ids = {
        "participant_id": pw.enrollment.participant_id,
        "enrollment_id": pw.enrollment.pk,
        "plan_id": pw.plan.pk,
        "goal_id": pw.plan.goals.get().pk,
        "milestone_id": pw.met[0].pk,
        "entry_id": entry.pk,
    }
    client = logged_in(pw.finance)
    # The installable app's service worker and manifest are files of the site, not case pages.
    theirs = ("accounts/", "healthz", "ledger/", "sw.js", "manifest.webmanifest")
    checked = 0
    for route in ROUTES:
        if route.route == "" or route.route.startswith(theirs):
            continue
        kwargs = {name: ids.get(name, 1) for name in route.kwargs}
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code in {403, 404, 405}, (route.route, response.status_code)
        checked += 1
    assert checked > 30
