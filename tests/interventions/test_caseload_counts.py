"""The manager dashboard's kept counts (interventions/models/caseload.py): equal to a fresh
count after every kind of write and after a re-run; and the manager's pages in a fixed, exact
number of queries whatever the organisation's size."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db.models import Count, Q
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.models import (
    CaseloadCount,
    CaseloadFillState,
    Enrollment,
    Membership,
    Referral,
    Session,
)
from interventions.selectors import manager as manager_selectors
from interventions.services import case as services
from interventions.services.caseload import refresh_caseload_counts
from tests.conftest import OrgSetup
from tests.factories import (
    EnrollmentFactory,
    MembershipFactory,
    ProgramFactory,
    SessionFactory,
    UserFactory,
)

Status = Enrollment.Status


def kept(organization) -> dict:
    """The kept rows, keyed by scope and worker, as plain figures."""
    return {
        (row.scope, row.worker_id): (
            row.caseload,
            row.gone_cold,
            row.sessions_this_month,
            row.minutes_this_month,
            row.sessions_last_month,
            row.minutes_last_month,
            row.is_member,
            row.referrals_waiting,
            row.new_participants,
        )
        for row in CaseloadCount.objects.filter(organization=organization)
    }


def fresh(organization) -> dict:
    """The same figures counted now from the case tables."""
    figures = manager_selectors.dashboard_figures(organization)
    rows = {
        (CaseloadCount.Scope.ORGANIZATION, None): (
            figures.caseload_total,
            0,
            figures.sessions_this_month,
            figures.minutes_this_month,
            figures.sessions_last_month,
            figures.minutes_last_month,
            True,
            figures.referrals_waiting,
            figures.new_participants,
        ),
        (CaseloadCount.Scope.UNASSIGNED, None): (
            figures.unassigned.caseload,
            figures.unassigned.gone_cold,
            0,
            0,
            0,
            0,
            False,
            0,
            0,
        ),
    }
    for row in figures.workers:
        rows[(CaseloadCount.Scope.WORKER, row.worker.pk)] = (
            row.caseload,
            row.gone_cold,
            row.sessions_this_month,
            row.minutes_this_month,
            row.sessions_last_month,
            row.minutes_last_month,
            row.is_member,
            0,
            0,
        )
    return rows


def direct_caseloads(organization) -> dict[int | None, int]:
    """Each worker's caseload counted straight from the enrolments, not through the selector."""
    return {
        entry["assigned_worker"]: entry["n"]
        for entry in Enrollment.objects.filter(
            program__organization=organization, status__in=Enrollment.CASELOAD_STATUSES
        )
        .values("assigned_worker")
        .annotate(n=Count("participant", distinct=True))
        .order_by()
    }


def assert_kept_equals_fresh(organization) -> None:
    assert CaseloadFillState.objects.filter(organization=organization).exists()
    assert kept(organization) == fresh(organization)
    worker_rows = CaseloadCount.objects.filter(organization=organization, caseload__gt=0)
    assert {
        row.worker_id: row.caseload
        for row in worker_rows.filter(~Q(scope=CaseloadCount.Scope.ORGANIZATION))
    } == direct_caseloads(organization)


@pytest.fixture
def counted(org_a: OrgSetup) -> dict:
    """Org A with two workers, three active enrolments and a session, counts refreshed."""
    second = UserFactory(username="org-a-second")
    MembershipFactory(user=second, organization=org_a.organization)
    enrollments = [
        EnrollmentFactory(
            participant__organization=org_a.organization,
            program=org_a.program,
            assigned_worker=worker,
        )
        for worker in (org_a.worker, org_a.worker, second)
    ]
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=timezone.now() - timedelta(days=30),
        participants=[enrollments[0].participant],
    )
    refresh_caseload_counts(org_a.organization.pk)
    assert_kept_equals_fresh(org_a.organization)
    return {"second": second, "enrollments": enrollments}


def test_a_logged_session_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    before = kept(org_a.organization)
    participant = counted["enrollments"][0].participant
    with django_capture_on_commit_callbacks(execute=True):
        services.log_session(
            worker=org_a.worker,
            organization=org_a.organization,
            participants=[participant],
            kind=Session.Kind.MENTORING,
            occurred_at=timezone.now() - timedelta(minutes=5),
            duration_minutes=45,
            location=Session.Location.STREET,
        )
    after = kept(org_a.organization)
    assert after != before
    assert after[(CaseloadCount.Scope.WORKER, org_a.worker.pk)][2] >= 1
    assert_kept_equals_fresh(org_a.organization)


def test_a_status_change_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.change_enrollment_status(
            enrollment=counted["enrollments"][2], status=Status.INACTIVE, by=org_a.manager
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.WORKER, counted["second"].pk)][0] == 0
    assert_kept_equals_fresh(org_a.organization)


def test_an_assignment_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_worker(
            enrollments=counted["enrollments"][:2], worker=counted["second"], by=org_a.manager
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.WORKER, counted["second"].pk)][0] == 3
    assert_kept_equals_fresh(org_a.organization)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign_worker(enrollments=counted["enrollments"][:1], worker=None, by=None)
    assert kept(org_a.organization)[(CaseloadCount.Scope.UNASSIGNED, None)][0] == 1
    assert_kept_equals_fresh(org_a.organization)


def test_an_exit_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.exit_enrollment(
            enrollment=counted["enrollments"][0],
            reason=Enrollment.ExitReason.GRADUATED,
            by=org_a.manager,
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.ORGANIZATION, None)][0] == 2
    assert_kept_equals_fresh(org_a.organization)


def test_an_enrolment_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    participant = counted["enrollments"][0].participant
    program = ProgramFactory(organization=org_a.organization, slug="second-program")
    with django_capture_on_commit_callbacks(execute=True):
        services.enroll_participant(
            participant=participant, program=program, by=org_a.manager, worker=counted["second"]
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.WORKER, counted["second"].pk)][0] == 2
    assert_kept_equals_fresh(org_a.organization)


def test_a_referral_made_and_moved_on_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    participant = counted["enrollments"][0].participant
    with django_capture_on_commit_callbacks(execute=True):
        referral = services.make_referral(
            participant=participant,
            made_by=org_a.worker,
            organization=org_a.organization,
            service_category=Referral.ServiceCategory.values[0],
            outside_provider="Job Center",
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.ORGANIZATION, None)][7] == 1
    assert_kept_equals_fresh(org_a.organization)
    with django_capture_on_commit_callbacks(execute=True):
        services.advance_referral(
            referral=referral, status=Referral.Status.COMPLETED, by=org_a.worker
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.ORGANIZATION, None)][7] == 0
    assert_kept_equals_fresh(org_a.organization)


def test_a_registration_is_counted_after_commit(
    org_a: OrgSetup, counted: dict, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        services.register_participant(
            organization=org_a.organization,
            first_name="New",
            last_name="Person",
            registered_by=org_a.worker,
        )
    assert kept(org_a.organization)[(CaseloadCount.Scope.ORGANIZATION, None)][8] == 1
    assert_kept_equals_fresh(org_a.organization)


def test_a_write_that_rolls_back_asks_for_no_refresh(org_a: OrgSetup, counted: dict) -> None:
    from interventions.outbox.models import OutboxMessage

    before = OutboxMessage.objects.count()
    with pytest.raises(services.ServiceError):
        services.exit_enrollment(enrollment=counted["enrollments"][0], reason="", by=None)
    assert OutboxMessage.objects.count() == before


def test_a_rerun_leaves_the_same_rows(org_a: OrgSetup, counted: dict) -> None:
    first = kept(org_a.organization)
    assert refresh_caseload_counts(org_a.organization.pk) == len(first)
    assert kept(org_a.organization) == first
    assert_kept_equals_fresh(org_a.organization)


def test_only_the_organisations_own_counts_are_rebuilt(
    org_a: OrgSetup, org_b: OrgSetup, counted: dict
) -> None:
    EnrollmentFactory(
        participant__organization=org_b.organization,
        program=org_b.program,
        assigned_worker=org_b.worker,
    )
    refresh_caseload_counts(org_b.organization.pk)
    assert_kept_equals_fresh(org_a.organization)
    assert_kept_equals_fresh(org_b.organization)
    assert kept(org_b.organization)[(CaseloadCount.Scope.WORKER, org_b.worker.pk)][0] == 1


# The pages at two organisation sizes ------------------------------------------------------------


def build(org: OrgSetup, *, workers: int, programs: int, per_worker: int) -> None:
    """`workers` more workers, `programs` more programs, each worker with `per_worker` people
    spread over the programs and a session with one of them."""
    all_programs = [org.program] + [
        ProgramFactory(organization=org.organization, slug=f"extra-program-{index}")
        for index in range(programs)
    ]
    for index in range(workers):
        worker = UserFactory(username=f"size-worker-{index}", first_name=f"W{index:03d}")
        MembershipFactory(
            user=worker, organization=org.organization, role=Membership.Role.OUTREACH_WORKER
        )
        participants = [
            EnrollmentFactory(
                participant__organization=org.organization,
                program=all_programs[(index + number) % len(all_programs)],
                assigned_worker=worker,
            ).participant
            for number in range(per_worker)
        ]
        SessionFactory(
            organization=org.organization,
            worker=worker,
            occurred_at=timezone.now() - timedelta(days=index % 40),
            participants=participants[:1],
        )
    refresh_caseload_counts(org.organization.pk)


SIZES = [
    pytest.param({"workers": 2, "programs": 0, "per_worker": 2}, id="small"),
    pytest.param({"workers": 14, "programs": 3, "per_worker": 6}, id="larger"),
]

# Each count is for the whole request: session and user (2), the organisations the manager
# manages (1), the user's permissions (2, the navigation), the outbox banner (1), and the page's
# own reads. The dashboard's: fill state, totals and unassigned row, the first workers, the
# number of workers (and one more for the request's set-up).
DASHBOARD_QUERIES = 11
PARTICIPANT_LIST_QUERIES = 14
WORKER_LIST_QUERIES = 9


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_queries_do_not_grow_with_the_organisation(
    org_a: OrgSetup, manager_client: Client, django_assert_num_queries, size: dict
) -> None:
    build(org_a, **size)
    with django_assert_num_queries(DASHBOARD_QUERIES):
        response = manager_client.get(reverse("manager_dashboard"))
    assert response.status_code == 200
    shown = re.findall(r'<tr data-worker="(\d+)"', response.content.decode())
    assert len(shown) == min(size["workers"] + 1, manager_selectors.DASHBOARD_WORKERS)


# Sorted, filtered (as bench/pages.py filters, the people built here being in contact), searched
# (every code starts "T-") and a later page: each with rows, so the rows' own queries count.
PARTICIPANT_LISTS = [
    pytest.param({"sort": "-days_since"}, id="by-days-since"),
    pytest.param({"status": "active", "cold": "no", "sort": "-days_since"}, id="filtered"),
    pytest.param({"q": "t-", "sort": "last_contact"}, id="searched"),
    pytest.param({"sort": "worker", "page": "2"}, id="page-2"),
]


@pytest.mark.parametrize("params", PARTICIPANT_LISTS)
@pytest.mark.parametrize("size", SIZES)
def test_participant_list_queries_do_not_grow_with_the_organisation(
    org_a: OrgSetup, manager_client: Client, django_assert_num_queries, size: dict, params: dict
) -> None:
    build(org_a, **size)
    with django_assert_num_queries(PARTICIPANT_LIST_QUERIES):
        response = manager_client.get(reverse("org_participants"), params)
    assert response.status_code == 200
    assert 'data-participant="T-' in response.content.decode()


@pytest.mark.parametrize(
    "params", [{"sort": "-caseload"}, {"q": "size-worker", "sort": "attention"}], ids=str
)
@pytest.mark.parametrize("size", SIZES)
def test_worker_list_queries_do_not_grow_with_the_organisation(
    org_a: OrgSetup, manager_client: Client, django_assert_num_queries, size: dict, params: dict
) -> None:
    build(org_a, **size)
    with django_assert_num_queries(WORKER_LIST_QUERIES):
        response = manager_client.get(reverse("org_workers"), params)
    assert response.status_code == 200
    # The organisation's own worker and the ones built; a search finds the built ones.
    listed = size["workers"] if params.get("q") else size["workers"] + 1
    assert f"{listed} workers" in response.content.decode()


def test_worker_list_searches_sorts_and_pages(org_a: OrgSetup, manager_client: Client) -> None:
    build(org_a, workers=55, programs=0, per_worker=0)
    page = manager_client.get(reverse("org_workers"), {"sort": "name"}).content.decode()
    assert "56 workers" in page
    assert len(re.findall(r'<tr data-worker="\d+"', page)) == 50
    second = manager_client.get(reverse("org_workers"), {"sort": "name", "page": 2})
    assert len(re.findall(r'<tr data-worker="\d+"', second.content.decode())) == 6
    found = manager_client.get(reverse("org_workers"), {"q": "size-worker-7"}).content.decode()
    assert "1 worker" in found and "W007" in found


def test_dashboard_puts_the_workers_needing_attention_first(
    org_a: OrgSetup, manager_client: Client
) -> None:
    build(org_a, workers=12, programs=0, per_worker=1)
    heavy = UserFactory(username="heavy", first_name="Zed")
    MembershipFactory(user=heavy, organization=org_a.organization)
    for _ in range(manager_selectors.CASELOAD_GUIDELINE_MAX + 1):
        EnrollmentFactory(
            participant__organization=org_a.organization,
            program=org_a.program,
            assigned_worker=heavy,
        )
    refresh_caseload_counts(org_a.organization.pk)
    page = manager_client.get(reverse("manager_dashboard")).content.decode()
    shown = re.findall(r'<tr data-worker="(\d+)"', page)
    assert shown[0] == str(heavy.pk)
    assert len(shown) == manager_selectors.DASHBOARD_WORKERS
    assert "all 14 workers" in page


def test_outsiders_do_not_see_another_organisations_workers(
    org_a: OrgSetup, org_b: OrgSetup
) -> None:
    refresh_caseload_counts(org_a.organization.pk)
    refresh_caseload_counts(org_b.organization.pk)
    from tests.conftest import logged_in

    page = logged_in(org_b.manager).get(reverse("org_workers")).content.decode()
    assert f'data-worker="{org_a.worker.pk}"' not in page
    assert f'data-worker="{org_b.worker.pk}"' in page
    assert logged_in(org_b.manager).get(reverse("org_workers"), {"org": "org-a"}).status_code == 404
