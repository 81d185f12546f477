"""The plan and ledger pages: the whole path from a session to a paid incentive, the plan on
the participant page and the worker's home, the session form's optional step, the ledger and
its CSV."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.models import Session
from interventions.models.plans import Goal, IncentiveEntry, LifePlan, Milestone, MilestoneProgress
from tests.conftest import logged_in
from tests.plans.conftest import PLAN_NOTE
from tests.plans.factories import GoalFactory, MilestoneFactory

pytestmark = pytest.mark.django_db


def session_post(participant, **extra) -> dict:
    moment = timezone.localtime(timezone.now() - timedelta(hours=1))
    return {
        "participants": [participant.pk],
        "kind": Session.Kind.LIFE_COACHING,
        "occurred_at": moment.strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "45",
        "location": Session.Location.OFFICE,
        "notes": "",
        "follow_up_on": "",
        "client_key": str(uuid.uuid4()),
        **extra,
    }


def content(response) -> str:
    if hasattr(response, "streaming_content"):
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def test_from_a_session_to_a_paid_incentive_shown_on_the_plan(pw):
    participant = pw.enrollment.participant
    worker = logged_in(pw.org.worker)
    # The session form offers the person's open milestones in its optional step.
    form_page = worker.get(reverse("session_log"), {"participant": participant.pk})
    assert f'id="met-{pw.open[0].pk}"' in content(form_page)
    response = worker.post(
        reverse("session_log"),
        session_post(
            participant, milestones_met=[pw.open[0].pk], milestones_worked=[pw.open[1].pk]
        ),
    )
    assert response.status_code == 302
    session = Session.objects.get()
    met = Milestone.objects.get(pk=pw.open[0].pk)
    assert met.met_in_session == session and met.met_on
    assert MilestoneProgress.objects.filter(session=session).count() == 2

    response = worker.post(
        reverse("incentive_request", args=[pw.plan.pk]),
        {
            "milestones": [met.pk],
            "month": timezone.localdate().strftime("%Y-%m"),
            "amount": "250.50",
            "funding_source": "private_funds",
        },
    )
    assert response.status_code == 302, content(response)
    entry = IncentiveEntry.objects.get()
    assert (entry.amount_cents, entry.funding_source) == (25_050, "private_funds")

    manager = logged_in(pw.org.manager)
    assert manager.post(reverse("incentive_approve", args=[entry.pk])).status_code == 302
    finance = logged_in(pw.finance)
    response = finance.post(
        reverse("incentive_pay", args=[entry.pk]),
        {"paid_on": timezone.localdate().isoformat(), "method": "check", "reference": "1042"},
    )
    assert response.status_code == 302
    entry.refresh_from_db()
    assert entry.status == IncentiveEntry.Status.PAID

    page = content(worker.get(reverse("plan_detail", args=[pw.plan.pk])))
    assert "$250.50 paid" in page
    assert f'id="milestone-{met.pk}"' in page


def test_a_worker_cannot_approve_and_a_manager_cannot_approve_their_own(pw):
    entry_by_manager = IncentiveEntry.objects.create(
        enrollment=pw.enrollment,
        plan=pw.plan,
        month=timezone.localdate().replace(day=1),
        amount_cents=100,
        funding_source="public_grant",
        requested_by=pw.org.manager,
    )
    assert (
        logged_in(pw.org.worker)
        .post(reverse("incentive_approve", args=[entry_by_manager.pk]))
        .status_code
        == 403
    )
    logged_in(pw.org.manager).post(reverse("incentive_approve", args=[entry_by_manager.pk]))
    entry_by_manager.refresh_from_db()
    assert entry_by_manager.status == IncentiveEntry.Status.REQUESTED


def test_a_session_with_a_refused_tick_logs_nothing(pw, org_b):
    other = GoalFactory(
        plan__enrollment__participant__organization=pw.org.organization,
        plan__enrollment__program=pw.org.program,
    )
    stranger = MilestoneFactory(goal=other)
    response = logged_in(pw.org.worker).post(
        reverse("session_log"),
        session_post(pw.enrollment.participant, milestones_met=[stranger.pk]),
    )
    assert response.status_code == 200
    assert "not in the session" in content(response)
    assert not Session.objects.exists()


def test_session_milestones_partial_lists_only_what_the_user_reads(pw, org_b):
    url = reverse("session_milestones")
    mine = content(
        logged_in(pw.org.worker).get(url, {"participants": pw.enrollment.participant.pk})
    )
    assert pw.open[0].description in mine
    theirs = content(
        logged_in(org_b.worker).get(url, {"participants": pw.enrollment.participant.pk})
    )
    assert pw.open[0].description not in theirs


def test_participant_page_shows_the_plan_at_a_glance(pw):
    GoalFactory(plan=pw.plan, target_on=timezone.localdate() - timedelta(days=3))
    page = content(
        logged_in(pw.org.worker).get(
            reverse("participant_detail", args=[pw.enrollment.participant.pk]), {"tab": "plan"}
        )
    )
    assert "3 of 5</strong> milestones met" in page
    assert "Overdue:" in page and "Next:" in page
    assert reverse("plan_detail", args=[pw.plan.pk]) in page


def test_a_shared_participant_page_never_shows_another_organisations_plan(pw, org_b):
    from tests.access.conftest import ARecord, share

    record = ARecord(pw.enrollment.participant, pw.enrollment, None, None)  # type: ignore[arg-type]
    share(record, pw.org, org_b)
    client = logged_in(org_b.worker)
    url = reverse("participant_detail", args=[pw.enrollment.participant.pk])
    responses = [
        client.get(url, {"tab": tab}) for tab in ("activity", "details", "plan", "related")
    ]
    assert all(response.status_code == 200 for response in responses)
    page = "".join(content(response) for response in responses)
    assert "milestones met" not in page, "not even the plan's progress"
    assert PLAN_NOTE not in page and "Life plan" not in page
    assert logged_in(org_b.worker).get(reverse("plan_detail", args=[pw.plan.pk])).status_code == 404


def test_worker_home_lists_plans_due_for_review_and_goals_past_target(pw):
    LifePlan.objects.filter(pk=pw.plan.pk).update(
        reviewed_on=timezone.localdate() - timedelta(days=31)
    )
    Goal.objects.filter(plan=pw.plan).update(target_on=timezone.localdate() - timedelta(days=2))
    page = content(logged_in(pw.org.worker).get("/"))
    assert "review due" in page and "1 goal past target" in page
    with_settings = pytest.MonkeyPatch()
    with_settings.setattr("django.conf.settings.GVR_PLAN_REVIEW_DAYS", 60, raising=False)
    Goal.objects.filter(plan=pw.plan).update(target_on=timezone.localdate())
    try:
        assert "Plans to look at" not in content(logged_in(pw.org.worker).get("/"))
    finally:
        with_settings.undo()


def test_plan_approval_from_the_page(pw, org_a):
    from interventions.services import plans as plan_services

    new = plan_services.start_new_version(plan=pw.plan, by=org_a.worker)
    manager = logged_in(org_a.manager)
    page = content(manager.get(reverse("plan_detail", args=[new.pk])))
    assert 'id="approve-plan"' in page
    manager.post(reverse("plan_approve", args=[new.pk]))
    new.refresh_from_db()
    assert new.status == LifePlan.Status.APPROVED
    old_page = content(manager.get(reverse("plan_detail", args=[pw.plan.pk])))
    assert "kept read only" in old_page


def test_ledger_totals_keep_the_funding_sources_apart(pw):
    from interventions.services import plans as plan_services

    month = timezone.localdate().replace(day=1)
    for milestone, source in ((pw.met[0], "public_grant"), (pw.met[1], "private_funds")):
        entry = plan_services.request_incentive(
            milestones=[milestone],
            by=pw.org.worker,
            month=month,
            amount_cents=20_000 if source == "public_grant" else 30_000,
            funding_source=source,
        )
        plan_services.approve_incentive(entry=entry, by=pw.org.manager)
        plan_services.mark_incentive_paid(
            entry=entry, by=pw.finance, paid_on=timezone.localdate(), method="cash"
        )
    response = logged_in(pw.finance).get(reverse("ledger"))
    [row] = response.context["by_month"]
    assert (row["paid_public_grant"], row["paid_private_funds"]) == (20_000, 30_000)
    by_source = {r["funding_source"]: r["paid"] for r in response.context["by_source"]}
    assert by_source == {"public_grant": 20_000, "private_funds": 30_000}
    person = logged_in(pw.finance).get(
        reverse("ledger_participant", args=[pw.enrollment.participant.pk])
    )
    assert len(person.context["entries"]) == 2


def test_ledger_csv_defuses_formulas_and_holds_no_plan_text(pw):
    from interventions.services import plans as plan_services

    plan_services.request_incentive(
        milestones=[pw.met[0]],
        by=pw.org.worker,
        month=timezone.localdate(),
        amount_cents=12_345,
        funding_source="public_grant",
    )
    participant = pw.enrollment.participant
    participant.last_name = "=HYPERLINK(1)"
    participant.save()
    response = logged_in(pw.finance).get(reverse("ledger_export"))
    assert "no-store" in response["Cache-Control"]
    text = content(response)
    # Every CSV opens with a byte-order mark, so spreadsheets read it as UTF-8.
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0][:4] == ["entry", "kind", "reverses", "participant_code"]
    assert rows[1][5] == "'=HYPERLINK(1)" and rows[1][8] == "12345"
    assert PLAN_NOTE not in text and "Met step" not in text


def test_the_ledger_pages_show_no_plan_text(pw):
    from interventions.services import plans as plan_services

    plan_services.request_incentive(
        milestones=[pw.met[0]],
        by=pw.org.worker,
        month=timezone.localdate(),
        amount_cents=100,
        funding_source="public_grant",
    )
    for url in (
        reverse("ledger"),
        reverse("ledger_participant", args=[pw.enrollment.participant.pk]),
    ):
        page = content(logged_in(pw.finance).get(url))
        assert PLAN_NOTE not in page and "Met step" not in page


def _grow(plan: LifePlan, goals: int, milestones_per_goal: int) -> None:
    for g in range(goals):
        goal = Goal.objects.create(
            plan=plan, domain="education", description=f"Goal {g}", target_on=timezone.localdate()
        )
        Milestone.objects.bulk_create(
            Milestone(
                goal=goal,
                description=f"Milestone {g}.{m}",
                due_on=timezone.localdate() + timedelta(days=m - 3),
                met_on=timezone.localdate() if m % 2 else None,
            )
            for m in range(milestones_per_goal)
        )


# The participant page with a plan: the page's usual queries plus four for the plan (plans,
# goals, milestones, their payments), whatever the plan's size.
PARTICIPANT_PAGE_WITH_PLAN_QUERIES = 21


def test_participant_and_plan_page_query_counts_do_not_grow_with_the_plan(pw):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = logged_in(pw.org.worker)
    urls = [
        reverse("participant_detail", args=[pw.enrollment.participant.pk]),
        reverse("plan_detail", args=[pw.plan.pk]),
    ]

    def count(url: str) -> int:
        client.get(url)  # warm the session and caches
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    small = {url: count(url) for url in urls}
    _grow(pw.plan, goals=9, milestones_per_goal=6)
    assert max(small.values()) <= PARTICIPANT_PAGE_WITH_PLAN_QUERIES
    for url in urls:
        assert count(url) == small[url], url
    assert Milestone.objects.filter(goal__plan=pw.plan).count() == 59


def test_a_double_submitted_goal_or_milestone_is_saved_once(pw):
    worker = logged_in(pw.org.worker)
    token = str(uuid.uuid4())
    goal = {
        "domain": "housing",
        "description": "A room of my own",
        "target_on": (timezone.localdate() + timedelta(days=60)).isoformat(),
        "form_token": token,
    }
    for _ in range(2):
        assert worker.post(reverse("goal_add", args=[pw.plan.pk]), goal).status_code == 302
    [added] = Goal.objects.filter(plan=pw.plan, description="A room of my own")
    milestone = {
        "description": "Visit the housing office",
        "due_on": timezone.localdate().isoformat(),
        "form_token": str(uuid.uuid4()),
    }
    for _ in range(2):
        worker.post(reverse("milestone_add", args=[added.pk]), milestone)
    assert added.milestones.count() == 1
