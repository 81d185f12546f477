"""The manager's pages: access, dashboard figures and their links, the participant list,
assigning workers, and the streamed CSV exports."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.dates import local_midnight, month_start, previous_month
from interventions.models import (
    Enrollment,
    Membership,
    Participant,
    Referral,
    Session,
    SessionParticipant,
)
from interventions.selectors import manager as manager_selectors
from interventions.services.caseload import refresh_caseload_counts
from tests.conftest import OrgSetup, logged_in
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    ProgramFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)
from tests.queries import assert_fixed_queries, spread

MANAGER_PAGES = [
    "manager_dashboard",
    "org_participants",
    "org_sessions",
    "org_referrals",
    "export_caseload",
    "export_sessions",
]

Status = Enrollment.Status


def body(response) -> str:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode("utf-8-sig")
    return response.content.decode()


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response))))


def this_month_moment():
    """A moment in the past that is in the current month, whatever the day."""
    now = timezone.now()
    start = local_midnight(month_start(timezone.localdate()))
    return max(now - timedelta(minutes=1), start + timedelta(seconds=1))


def last_month_moment():
    return local_midnight(previous_month(timezone.localdate())) + timedelta(days=2)


def populate(org: OrgSetup, count: int, *, worker=None, prefix: str = "BULK") -> list:
    """`count` participants with an active enrolment and one session each, in bulk."""
    today = timezone.localdate()
    worker = worker or org.worker
    participants = Participant.objects.bulk_create(
        Participant(
            organization=org.organization,
            participant_code=f"{prefix}-{index:05d}",
            first_name=f"Bulk{index}",
            last_name=f"Person{index:05d}",
            identified_on=today - timedelta(days=300),
        )
        for index in range(count)
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            participant=participant,
            program=org.program,
            status=Status.ACTIVE,
            assigned_worker=worker,
            referred_on=today - timedelta(days=200),
            enrolled_on=today - timedelta(days=200),
            active_on=today - timedelta(days=200),
        )
        for participant in participants
    )
    now = timezone.now()
    sessions = Session.objects.bulk_create(
        Session(
            organization=org.organization,
            program=org.program,
            worker=worker,
            kind=Session.Kind.MENTORING,
            occurred_at=now - timedelta(days=index % 40, hours=1),
            duration_minutes=45,
            location=Session.Location.STREET,
            notes=f"Narrative note {index}",
        )
        for index in range(count)
    )
    SessionParticipant.objects.bulk_create(
        SessionParticipant(
            session=session, participant=participant, occurred_at=session.occurred_at
        )
        for session, participant in zip(sessions, participants, strict=True)
    )
    return participants


# Access ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_manager_pages_open_for_a_manager(manager_client: Client, name: str) -> None:
    assert manager_client.get(reverse(name)).status_code == 200


@pytest.mark.parametrize("name", [*MANAGER_PAGES, "assign_workers"])
def test_a_worker_gets_403(worker_client: Client, name: str) -> None:
    method = worker_client.post if name == "assign_workers" else worker_client.get
    assert method(reverse(name)).status_code == 403


@pytest.mark.parametrize("name", MANAGER_PAGES)
def test_anonymous_is_sent_to_log_in(client: Client, db: None, name: str) -> None:
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_city_admin_without_membership_gets_403(admin_client_city: Client) -> None:
    assert admin_client_city.get(reverse("manager_dashboard")).status_code == 403


def test_org_switch_is_limited_to_the_managers_own(
    org_a: OrgSetup, org_b: OrgSetup, manager_client: Client
) -> None:
    ParticipantFactory(organization=org_b.organization, last_name="Outsiderson")
    response = manager_client.get(reverse("org_participants"), {"org": org_b.organization.slug})
    assert response.status_code == 404
    assert "Outsiderson" not in body(response)


def test_a_manager_of_two_organisations_switches_between_them(
    org_a: OrgSetup, org_b: OrgSetup
) -> None:
    MembershipFactory(
        user=org_a.manager, organization=org_b.organization, role=Membership.Role.MANAGER
    )
    ParticipantFactory(organization=org_a.organization, last_name="Alphaperson")
    ParticipantFactory(organization=org_b.organization, last_name="Betaperson")
    client = logged_in(org_a.manager)
    page_a = body(client.get(reverse("org_participants"), {"org": "org-a"}))
    page_b = body(client.get(reverse("org_participants"), {"org": "org-b"}))
    assert "Alphaperson" in page_a and "Betaperson" not in page_a
    assert "Betaperson" in page_b and "Alphaperson" not in page_b
    assert 'name="org"' in page_a  # the switch is offered


def test_an_inactive_manager_membership_gives_403(org_a: OrgSetup) -> None:
    Membership.objects.filter(user=org_a.manager).update(is_active=False)
    assert logged_in(org_a.manager).get(reverse("manager_dashboard")).status_code == 403


def test_manager_pages_are_not_cached(manager_client: Client) -> None:
    response = manager_client.get(reverse("manager_dashboard"))
    assert "no-store" in response["Cache-Control"]


# Dashboard ------------------------------------------------------------------------------------


@pytest.fixture
def busy_org(org_a: OrgSetup) -> dict:
    """Org A with two workers, an unassigned enrolment, sessions this and last month, a
    participant gone cold, a waiting referral and an exited enrolment."""
    other_worker = UserFactory(username="org-a-second", first_name="Second", last_name="Worker")
    MembershipFactory(user=other_worker, organization=org_a.organization)
    warm = EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        assigned_worker=org_a.worker,
        participant__last_name="Warmperson",
    ).participant
    cold = EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        assigned_worker=org_a.worker,
        status=Status.ENGAGED,
        enrolled_on=None,
        active_on=None,
        engaged_on=timezone.localdate() - timedelta(days=150),
        participant__last_name="Coldperson",
    ).participant
    unassigned = EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        assigned_worker=None,
        participant__last_name="Nobodysperson",
        participant__identified_on=timezone.localdate(),
        referred_on=timezone.localdate(),
    ).participant
    EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        assigned_worker=other_worker,
        status=Status.EXITED,
        exited_on=timezone.localdate(),
        exit_reason=Enrollment.ExitReason.GRADUATED,
        participant__last_name="Graduateperson",
    )
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=this_month_moment(),
        duration_minutes=90,
        participants=[warm],
    )
    SessionFactory(
        organization=org_a.organization,
        worker=other_worker,
        occurred_at=this_month_moment(),
        duration_minutes=30,
        participants=[warm],
    )
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=last_month_moment(),
        duration_minutes=120,
        participants=[cold],
    )
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=timezone.now() - timedelta(days=70),
        duration_minutes=60,
        participants=[cold],
    )
    ReferralFactory(participant=warm, made_by=org_a.worker)
    ReferralFactory(
        participant=warm,
        made_by=org_a.worker,
        status=Referral.Status.COMPLETED,
        closed_on=timezone.localdate(),
    )
    return {
        "warm": warm,
        "cold": cold,
        "unassigned": unassigned,
        "other_worker": other_worker,
    }


def test_dashboard_figures_are_counted_right(org_a: OrgSetup, busy_org: dict) -> None:
    # Something in another organisation that must not be counted.
    EnrollmentFactory(participant__organization=ProgramFactory().organization)
    figures = manager_selectors.dashboard_figures(org_a.organization)
    assert figures.caseload_total == 3
    by_status = {status: count for status, _label, count in figures.by_status}
    assert by_status[Status.ACTIVE] == 2
    assert by_status[Status.ENGAGED] == 1
    assert by_status[Status.INACTIVE] == 0
    workers = {row.worker.username: row for row in figures.workers}
    first = workers["org-a-worker"]
    assert (first.caseload, first.gone_cold, first.caseload_flag) == (2, 1, "under")
    assert (first.sessions_this_month, first.minutes_this_month) == (1, 90)
    assert (first.sessions_last_month, first.minutes_last_month) == (1, 120)
    second = workers["org-a-second"]
    assert (second.caseload, second.sessions_this_month, second.hours_this_month) == (0, 1, 0.5)
    # The manager is not an outreach worker and carries no caseload: not a row.
    assert "org-a-manager" not in workers
    assert figures.unassigned.caseload == 1
    assert figures.referrals_waiting == 1
    assert figures.new_participants == 1
    assert (figures.sessions_this_month, figures.hours_this_month) == (2, 2.0)
    assert (figures.sessions_last_month, figures.hours_last_month) == (1, 2.0)


def test_caseload_flags_against_the_guideline(org_a: OrgSetup) -> None:
    heavy = UserFactory(username="heavy")
    MembershipFactory(user=heavy, organization=org_a.organization)
    populate(org_a, 21, worker=heavy, prefix="HV")
    populate(org_a, 15, prefix="OK")
    rows = {
        row.worker.username: row
        for row in manager_selectors.dashboard_figures(org_a.organization).workers
    }
    assert (rows["heavy"].caseload, rows["heavy"].caseload_flag) == (21, "over")
    assert (rows["org-a-worker"].caseload, rows["org-a-worker"].caseload_flag) == (15, "")


def test_a_former_workers_caseload_stays_on_the_dashboard(org_a: OrgSetup) -> None:
    leaver = UserFactory(username="leaver")
    membership = MembershipFactory(user=leaver, organization=org_a.organization)
    populate(org_a, 3, worker=leaver, prefix="LV")
    membership.is_active = False
    membership.save(update_fields=["is_active"])
    rows = {
        row.worker.username: row
        for row in manager_selectors.dashboard_figures(org_a.organization).workers
    }
    assert rows["leaver"].caseload == 3
    assert rows["leaver"].is_member is False


FIGURE_LINK = re.compile(
    r'<a href="(?P<href>[^"]+)" data-figure="(?P<figure>[^"]+)"[^>]*>(?P<n>\d+)</a>'
)


def test_every_dashboard_number_links_to_a_list_of_that_many(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    page = body(manager_client.get(reverse("manager_dashboard")))
    links = FIGURE_LINK.findall(page)
    assert len(links) >= 12
    for href, figure, number in links:
        listing = manager_client.get(unescape(href))
        assert listing.status_code == 200, href
        count = re.search(r'data-figure="count">(\d+) ', body(listing))
        assert count is not None, href
        assert count.group(1) == number, f"{figure}: {href} lists {count.group(1)}, not {number}"
    # The big cards link too.
    for target in ("status=caseload", "identified_from=", "org_referrals", "occurred_from="):
        assert target.replace("org_referrals", reverse("org_referrals")) in page


def test_dashboard_query_count_is_exact_as_workers_programs_areas_and_organisations_grow(
    org_a: OrgSetup, manager_client: Client
) -> None:
    spread(org_a, 1, prefix="small")
    populate(org_a, 5, prefix="QC")
    # The page reads the kept counts (tests/interventions/test_caseload_counts.py); they are
    # rebuilt after each change of the world, as the outbox does after a write.
    refresh_caseload_counts(org_a.organization.pk)

    def grow() -> None:
        spread(org_a, 6, prefix="large")
        for index in range(3):
            extra = UserFactory(username=f"extra-{index}")
            MembershipFactory(user=extra, organization=org_a.organization)
            populate(org_a, 100, worker=extra, prefix=f"X{index}")
        populate(org_a, 200, prefix="QD")
        refresh_caseload_counts(org_a.organization.pk)

    assert_fixed_queries(lambda: manager_client.get(reverse("manager_dashboard")), grow)


# The participant list -------------------------------------------------------------------------


def listed(response) -> list[str]:
    return re.findall(r'data-participant="([^"]+)"', body(response))


def test_participant_filters(org_a: OrgSetup, busy_org: dict, manager_client: Client) -> None:
    url = reverse("org_participants")
    other_program = ProgramFactory(organization=org_a.organization, name="Mentoring")
    area = AreaFactory(name="East Bakersfield")
    warm, cold = busy_org["warm"], busy_org["cold"]
    Participant.objects.filter(pk=warm.pk).update(area=area, aliases="Lucky")
    EnrollmentFactory(participant=cold, program=other_program, assigned_worker=None)

    def codes(**params) -> set[str]:
        response = manager_client.get(url, params)
        assert response.status_code == 200
        return set(listed(response))

    everyone = {"warm", "cold", "unassigned"}
    everyone_codes = {busy_org[key].participant_code for key in everyone}
    assert everyone_codes <= codes()
    assert codes(area=area.pk) == {warm.participant_code}
    assert codes(q="lucky") == {warm.participant_code}
    assert codes(q=cold.participant_code) == {cold.participant_code}
    assert codes(program=other_program.pk) == {cold.participant_code}
    assert codes(status=Status.ENGAGED) == {cold.participant_code}
    # Unassigned was registered today: first contact due, not cold.
    assert codes(cold="yes", status="caseload") == {cold.participant_code}
    in_contact = codes(cold="no")
    assert {warm.participant_code, busy_org["unassigned"].participant_code} <= in_contact
    assert cold.participant_code not in in_contact
    assert codes(worker=org_a.worker.pk, status="caseload") == {
        warm.participant_code,
        cold.participant_code,
    }
    # Worker and program describe the same enrolment: cold's Mentoring enrolment is
    # unassigned, their worker's enrolment is in the other program.
    assert codes(worker=org_a.worker.pk, program=other_program.pk) == set()
    assert codes(worker="none", program=other_program.pk) == {cold.participant_code}


def test_bad_filter_input_shows_an_error_and_no_rows(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    response = manager_client.get(reverse("org_participants"), {"status": "bogus"})
    assert response.status_code == 200
    assert listed(response) == []
    assert "not valid" in body(response)


def test_sorting(org_a: OrgSetup, busy_org: dict, manager_client: Client) -> None:
    url = reverse("org_participants")
    warm, cold, unassigned = (busy_org[k].participant_code for k in ("warm", "cold", "unassigned"))

    def order(sort: str) -> list[str]:
        return [
            code
            for code in listed(manager_client.get(url, {"sort": sort}))
            if code in {warm, cold, unassigned}
        ]

    # Never contacted first, then the longest since the last contact.
    assert order("-days_since") == [unassigned, cold, warm]
    assert order("last_contact") == [unassigned, cold, warm]
    assert order("-last_contact") == [warm, cold, unassigned]
    # Lifecycle order: engaged (cold) before active.
    assert order("status")[0] == cold
    assert order("-status")[-1] == cold
    # Unassigned last in a sort by worker.
    assert order("worker")[-1] == unassigned
    names = order("name")
    assert names == sorted(
        names, key=lambda code: Participant.objects.get(participant_code=code).last_name
    )


def test_pagination_is_50_a_page(org_a: OrgSetup, manager_client: Client) -> None:
    populate(org_a, 120)
    url = reverse("org_participants")
    first = manager_client.get(url)
    third = manager_client.get(url, {"page": 3})
    assert len(listed(first)) == 50
    assert len(listed(third)) == 20
    assert "120 participants" in body(first)
    assert "page=2" in body(first)


LIST_QUERIES = ({}, {"sort": "worker", "cold": "yes"}, {"status": "caseload", "sort": "status"})


@pytest.mark.parametrize("params", LIST_QUERIES, ids=["plain", "cold-by-worker", "by-status"])
def test_participant_list_query_count_is_exact_as_the_organisation_grows(
    org_a: OrgSetup, manager_client: Client, params: dict[str, str]
) -> None:
    spread(org_a, 1, prefix="small")
    populate(org_a, 20)  # sessions 0 to 19 days ago: some have gone cold

    def grow() -> None:
        spread(org_a, 6, prefix="large")
        populate(org_a, 480, prefix="MORE")

    url = reverse("org_participants")
    assert_fixed_queries(lambda: manager_client.get(url, params), grow)
    response = manager_client.get(url, params)
    assert len(listed(response)) == 50 or params.get("cold")


@pytest.mark.parametrize("page", ["org_sessions", "org_referrals"])
def test_sessions_and_referrals_query_counts_are_exact_as_the_organisation_grows(
    org_a: OrgSetup, manager_client: Client, page: str
) -> None:
    def add(rows: int, prefix: str) -> None:
        participants = populate(org_a, rows, prefix=prefix)
        Referral.objects.bulk_create(
            Referral(
                participant=participant,
                organization=org_a.organization,
                made_by=org_a.worker,
                service_category=Referral.ServiceCategory.HOUSING,
                outside_provider="Housing Authority",
                made_on=timezone.localdate(),
            )
            for participant in participants
        )

    spread(org_a, 1, prefix="small")
    add(5, "SMALL")

    def grow() -> None:
        spread(org_a, 6, prefix="large")
        add(495, "LARGE")

    assert_fixed_queries(lambda: manager_client.get(reverse(page)), grow)


# Assigning workers ----------------------------------------------------------------------------


def test_bulk_assignment(org_a: OrgSetup, busy_org: dict, manager_client: Client) -> None:
    new_worker = busy_org["other_worker"]
    ids = list(
        Enrollment.objects.filter(
            participant__in=[busy_org["cold"], busy_org["unassigned"]]
        ).values_list("pk", flat=True)
    )
    next_url = f"{reverse('org_participants')}?status=caseload"
    response = manager_client.post(
        reverse("assign_workers"),
        {"enrollments": ids, "worker": new_worker.pk, "next": next_url},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == next_url
    assert "Assigned 2 enrolments to Second Worker." in body(response)
    assert set(Enrollment.objects.filter(pk__in=ids).values_list("assigned_worker", flat=True)) == {
        new_worker.pk
    }


def test_single_reassignment(org_a: OrgSetup, busy_org: dict, manager_client: Client) -> None:
    enrollment = busy_org["warm"].enrollments.get()
    response = manager_client.post(
        reverse("assign_workers"),
        {"enrollments": [enrollment.pk], "worker": busy_org["other_worker"].pk},
        follow=True,
    )
    assert "Assigned 1 enrolment to" in body(response)
    enrollment.refresh_from_db()
    assert enrollment.assigned_worker == busy_org["other_worker"]


def test_an_exited_enrolment_refuses_the_whole_batch(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    exited = Enrollment.objects.get(status=Status.EXITED)
    open_one = busy_org["warm"].enrollments.get()
    response = manager_client.post(
        reverse("assign_workers"),
        {"enrollments": [exited.pk, open_one.pk], "worker": busy_org["other_worker"].pk},
        follow=True,
    )
    assert "cannot be reassigned" in body(response)
    open_one.refresh_from_db()
    assert open_one.assigned_worker == org_a.worker


def test_assignment_needs_a_worker_and_a_tick(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    page = body(manager_client.post(reverse("assign_workers"), {}, follow=True))
    assert "Tick at least one enrolment" in page
    assert "Choose the worker" in page


def test_assignment_cannot_reach_another_organisation(
    org_a: OrgSetup, org_b: OrgSetup, busy_org: dict
) -> None:
    theirs = busy_org["warm"].enrollments.get()
    client_b = logged_in(org_b.manager)
    response = client_b.post(
        reverse("assign_workers"),
        {"enrollments": [theirs.pk], "worker": org_b.worker.pk},
        follow=True,
    )
    assert "not in your organisation" in body(response)
    theirs.refresh_from_db()
    assert theirs.assigned_worker == org_a.worker
    # Nor can a manager give their participants to another organisation's worker.
    client_a = logged_in(org_a.manager)
    response = client_a.post(
        reverse("assign_workers"),
        {"enrollments": [theirs.pk], "worker": org_b.worker.pk},
        follow=True,
    )
    assert "not a member of your organisation" in body(response)
    theirs.refresh_from_db()
    assert theirs.assigned_worker == org_a.worker


def test_next_cannot_send_the_manager_elsewhere(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    response = manager_client.post(
        reverse("assign_workers"),
        {
            "enrollments": [busy_org["warm"].enrollments.get().pk],
            "worker": org_a.worker.pk,
            "next": "https://evil.example/org_participants",
        },
    )
    assert response["Location"].startswith(reverse("org_participants"))


# Sessions and referrals -----------------------------------------------------------------------


def test_sessions_list_filters_by_worker_and_dates(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    url = reverse("org_sessions")
    this_month = month_start(timezone.localdate())
    response = manager_client.get(
        url,
        {
            "worker": org_a.worker.pk,
            "occurred_from": this_month.isoformat(),
            "occurred_to": timezone.localdate().isoformat(),
        },
    )
    assert re.search(r'data-figure="count">1 session', body(response))
    assert re.search(r'data-figure="count">4 sessions', body(manager_client.get(url)))
    assert "Narrative" not in body(manager_client.get(url))


def test_referrals_list_shows_waiting_by_default(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    page = body(manager_client.get(reverse("org_referrals")))
    assert re.search(r'data-figure="count">1 referral', page)
    page = body(manager_client.get(reverse("org_referrals"), {"status": ""}))
    assert re.search(r'data-figure="count">2 referrals', page)


# CSV exports ----------------------------------------------------------------------------------


def test_caseload_export_streams_every_filtered_row(
    org_a: OrgSetup, manager_client: Client
) -> None:
    populate(org_a, 3)
    spread(org_a, 1, prefix="small")

    def export() -> object:
        return manager_client.get(reverse("export_caseload"), {"status": "active"})

    def grow() -> None:
        # Within one chunk of the streamed export (a chunk's prefetch is one query per
        # thousands of rows, not per row).
        populate(org_a, 1897, prefix="MORE")
        spread(org_a, 6, prefix="large")

    assert_fixed_queries(export, grow)
    response = export()
    assert isinstance(response, StreamingHttpResponse)
    rows = csv_rows(response)
    bulk = [row for row in rows if row["participant_code"].startswith(("BULK", "MORE"))]
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    assert len(bulk) == 1900
    assert {row["status"] for row in rows} == {"Active"}
    assert bulk[0]["participant_code"] == "BULK-00000"


def test_caseload_export_uses_the_list_filters(
    org_a: OrgSetup, busy_org: dict, manager_client: Client
) -> None:
    # Registered a month ago and never contacted: cold (someone registered today is not).
    Participant.objects.filter(pk=busy_org["unassigned"].pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    rows = csv_rows(
        manager_client.get(reverse("export_caseload"), {"cold": "yes", "status": "caseload"})
    )
    assert {row["last_name"] for row in rows} == {"Coldperson", "Nobodysperson"}
    unassigned = next(row for row in rows if row["last_name"] == "Nobodysperson")
    assert unassigned["assigned_worker"] == ""
    assert unassigned["gone_cold"] == "yes"
    # The participant with no matching enrolment criteria still gets one row per enrolment.
    everyone = csv_rows(manager_client.get(reverse("export_caseload")))
    assert len(everyone) == 4


def test_exports_defuse_formulas(org_a: OrgSetup, manager_client: Client) -> None:
    EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        participant__first_name='=HYPERLINK("http://x")',
        participant__last_name="@SUM(A1)",
        participant__aliases="+1",
    )
    ProgramFactory(organization=org_a.organization)
    org_a.program.name = "-Program"
    org_a.program.save(update_fields=["name"])
    row = csv_rows(manager_client.get(reverse("export_caseload")))[0]
    assert row["first_name"] == '\'=HYPERLINK("http://x")'
    assert row["last_name"] == "'@SUM(A1)"
    assert row["aliases"] == "'+1"
    assert row["program"] == "'-Program"


def test_session_export_has_the_grant_columns_and_no_notes(
    org_a: OrgSetup, org_b: OrgSetup, manager_client: Client
) -> None:
    one = ParticipantFactory(organization=org_a.organization, participant_code="GA-00002")
    two = ParticipantFactory(organization=org_a.organization, participant_code="GA-00001")
    SessionFactory(
        organization=org_a.organization,
        program=org_a.program,
        worker=org_a.worker,
        kind=Session.Kind.GROUP_SESSION,
        location=Session.Location.SCHOOL,
        duration_minutes=75,
        notes="He talked about his cousin",
        participants=[one, two],
    )
    SessionFactory(organization=org_b.organization, worker=org_b.worker, notes="other org")
    response = manager_client.get(reverse("export_sessions"))
    text = body(response)
    assert "cousin" not in text and "other org" not in text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    assert set(rows[0]) == {
        "date",
        "time",
        "worker",
        "kind",
        "duration_minutes",
        "location",
        "participant_codes",
        "program",
    }
    assert rows[0]["participant_codes"] == "GA-00001; GA-00002"
    assert rows[0]["kind"] == "Group session"
    assert rows[0]["duration_minutes"] == "75"
    assert rows[0]["program"] == org_a.program.name


def test_session_export_streams_a_date_range(org_a: OrgSetup, manager_client: Client) -> None:
    today = timezone.localdate()
    start = today - timedelta(days=9)

    def export() -> object:
        return manager_client.get(
            reverse("export_sessions"),
            {"occurred_from": start.isoformat(), "occurred_to": today.isoformat()},
        )

    populate(org_a, 40, prefix="FEW")
    spread(org_a, 1, prefix="small")

    def grow() -> None:
        populate(org_a, 4000)  # sessions spread over the last 40 days, 100 a day
        spread(org_a, 6, prefix="large")

    assert_fixed_queries(export, grow)
    expected = Session.objects.filter(
        organization=org_a.organization,
        occurred_at__gte=local_midnight(month_start(start)).replace(day=start.day),
    ).count()
    response = export()
    assert isinstance(response, StreamingHttpResponse)
    rows = csv_rows(response)
    assert len(rows) == expected
    assert 900 <= expected <= 1120
    assert all(start.isoformat() <= row["date"] <= today.isoformat() for row in rows)
    assert start.isoformat() in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("page", "labels"),
    [
        ("org_participants", ["Program", "Status", "Worker"]),
        ("org_sessions", ["Worker", "Kind", "Program"]),
        ("org_referrals", ["Status", "Made by"]),
    ],
)
def test_every_filter_has_a_real_label(
    org_a: OrgSetup, manager_client: Client, page: str, labels: list[str]
) -> None:
    """Issue 14, finding 9: filters with a method were labelled "[invalid name]"."""
    content = body(manager_client.get(reverse(page)))
    assert "[invalid name]" not in content
    for label in labels:
        assert re.search(rf"<label[^>]*>\s*{re.escape(label)}\s*</label>", content), label
