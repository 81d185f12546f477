"""The participant page: highlights, then tabs, only the open tab read and drawn.

Each tab is a link (?tab=…) that works without JavaScript; htmx asks for the tab area alone. Every
tab is a view of the participant in the audit trail. Each tab's query count is exact and does
not grow with the person's sessions, referrals, goals or milestones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from interventions.audit.models import AuditEvent
from interventions.views.worker import PARTICIPANT_TABS
from tests.factories import ReferralFactory, SessionFactory
from tests.plans.conftest import make_plan_world
from tests.plans.factories import GoalFactory, MilestoneFactory
from tests.queries import assert_fixed_queries

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "participant-tabs"}


@pytest.fixture
def world(org_a):  # type: ignore[no-untyped-def]
    return make_plan_world(org_a)


def _url(world) -> str:  # type: ignore[no-untyped-def]
    return reverse("participant_detail", args=[world.enrollment.participant.pk])


def test_activity_is_the_first_tab_and_the_default(world, worker_client) -> None:  # type: ignore[no-untyped-def]
    SessionFactory(
        organization=world.org.organization,
        worker=world.org.worker,
        participants=[world.enrollment.participant],
    )
    response = worker_client.get(_url(world))
    page = response.content.decode()
    assert PARTICIPANT_TABS[0] == "activity" and response.context["tab"] == "activity"
    assert 'role="tablist"' in page and 'id="tab-activity"' in page
    assert 'id="timeline"' in page
    # Only the open tab is drawn: the others' contents (and their forms) are not on the page.
    assert 'id="profile-heading"' not in page and 'id="plans"' not in page
    assert reverse("enrollment_exit", args=[world.enrollment.pk]) not in page
    # Each tab is a plain link too, for a page without JavaScript and for a link to a tab.
    for tab in PARTICIPANT_TABS:
        assert f'href="?tab={tab}"' in page


@pytest.mark.parametrize(
    ("tab", "shown"),
    [
        ("details", 'id="profile-heading"'),
        ("plan", "3 of 5</strong> milestones met"),
        ("related", 'id="sharing"'),
    ],
)
def test_each_tab_is_reachable_by_its_address(world, worker_client, tab, shown) -> None:  # type: ignore[no-untyped-def]
    page = worker_client.get(_url(world), {"tab": tab}).content.decode()
    assert shown in page
    assert f'id="tab-{tab}" role="tab"' in page
    assert 'aria-selected="true"' in page.split(f'id="tab-{tab}"')[1].split(">")[0]
    assert 'id="timeline"' not in page


def test_an_unknown_tab_shows_activity(world, worker_client) -> None:  # type: ignore[no-untyped-def]
    response = worker_client.get(_url(world), {"tab": "<script>"})
    assert response.status_code == 200 and response.context["tab"] == "activity"


def test_htmx_gets_the_tab_area_alone(world, worker_client) -> None:  # type: ignore[no-untyped-def]
    response = worker_client.get(_url(world), {"tab": "plan"}, **HTMX)
    page = response.content.decode()
    assert page.lstrip().startswith('<div id="participant-tabs">')
    assert "<html" not in page and 'id="highlights"' not in page
    assert "milestones met" in page


def test_the_highlights_show_what_the_page_knows(world, worker_client) -> None:  # type: ignore[no-untyped-def]
    page = worker_client.get(_url(world), {"tab": "related"}).content.decode()
    highlights = page.split('id="highlights"')[1].split("</section>")[0]
    assert world.enrollment.program.name in highlights
    assert "3 of 5 milestones met" in highlights
    assert "Open tasks" in highlights and "Next follow-up" in highlights
    # Registered today and not yet met: a first contact is due, the person is not cold.
    assert "First contact due by" in highlights and "Gone cold" not in highlights


def test_the_highlights_say_gone_cold(world, worker_client) -> None:  # type: ignore[no-untyped-def]
    SessionFactory(
        organization=world.org.organization,
        worker=world.org.worker,
        participants=[world.enrollment.participant],
        occurred_at=timezone.now() - timedelta(days=30),
    )
    page = worker_client.get(_url(world)).content.decode()
    highlights = page.split('id="highlights"')[1].split("</section>")[0]
    assert "Gone cold" in highlights and "First contact due" not in highlights


@pytest.mark.parametrize("tab", PARTICIPANT_TABS)
@pytest.mark.parametrize("htmx", [False, True])
def test_every_tab_is_a_view_in_the_audit_trail(world, worker_client, tab, htmx) -> None:  # type: ignore[no-untyped-def]
    participant = world.enrollment.participant
    before = AuditEvent.objects.filter(
        action="view", object_type="participant", object_id=participant.pk
    ).count()
    worker_client.get(_url(world), {"tab": tab}, **(HTMX if htmx else {}))
    after = AuditEvent.objects.filter(
        action="view", object_type="participant", object_id=participant.pk
    ).count()
    assert after == before + 1


@pytest.mark.parametrize("htmx", [False, True])
def test_each_tabs_query_count_does_not_grow_with_sessions_goals_or_milestones(
    world, worker_client, htmx
) -> None:  # type: ignore[no-untyped-def]
    participant = world.enrollment.participant
    url = _url(world)
    headers = HTMX if htmx else {}
    requests = [
        lambda tab=tab: worker_client.get(url, {"tab": tab}, **headers) for tab in PARTICIPANT_TABS
    ]

    def grow() -> None:
        for _ in range(25):
            SessionFactory(
                organization=world.org.organization,
                worker=world.org.worker,
                participants=[participant],
                follow_up_on=timezone.localdate() + timedelta(days=2),
            )
            ReferralFactory(participant=participant, made_by=world.org.worker)
        for _ in range(9):
            goal = GoalFactory(plan=world.plan)
            for _ in range(6):
                MilestoneFactory(goal=goal)

    counts = {}
    for tab, request in zip(PARTICIPANT_TABS, requests, strict=True):
        counts[tab] = assert_fixed_queries(request, lambda: None)
    assert_fixed_queries(requests, grow)
    # The pinned counts, so a tab that starts reading more is seen here first.
    expected = PINNED_HTMX if htmx else PINNED
    assert counts == expected


# Queries per tab, measured: the request's own (session, user, roles, two-step check, the audit
# record), the participant with its contact facts, and what the tab shows; the full page adds the
# highlights (enrolments, open tasks, plan progress) and the navigation's.
PINNED = {"activity": 14, "details": 11, "plan": 15, "related": 14}
PINNED_HTMX = {"activity": 9, "details": 7, "plan": 11, "related": 10}
