"""The quarterly funder report: what it counts, small-count suppression for viewers outside the
organisation (complementary cells included), who may open it, its CSV and workbook, and a query
count that does not grow with the data."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from interventions.access import ANALYST_GROUP
from interventions.models import Enrollment, Session
from interventions.models.plans import Domain, FundingSource, Goal, IncentiveEntry, LifePlan
from interventions.selectors.funder_report import (
    SUPPRESSED,
    WITHHELD,
    Period,
    ReportScope,
    Table,
    build_report,
    suppress_table,
)
from interventions.selectors.outcomes import cohort_outcome_counts
from tests.conftest import logged_in
from tests.factories import (
    EnrollmentFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)
from tests.outcomes.factories import DemographicsFactory, OutcomeEventFactory
from tests.plans.factories import GoalFactory, LifePlanFactory

pytestmark = pytest.mark.django_db

QUARTER = {"start": "2026-01-01", "end": "2026-03-31"}
IN_QUARTER = timezone.make_aware(datetime(2026, 2, 10, 15, 0))


def table_of(response, title: str) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """A table of the rendered report, as {row label: [cells]}."""
    report = response.context["report"]
    for _, table in report.tables():
        if table.title == title:
            return {str(row[0]): [str(cell) for cell in row[1:]] for row in table.rows}
    raise AssertionError(f"no table {title}")


# Suppression -----------------------------------------------------------------------------------


def _one_column(values: list[int]) -> Table:
    rows = [[f"r{i}", v] for i, v in enumerate(values)] + [["Total", sum(values)]]
    n = len(values)
    return Table("t", ["", "People"], rows, frozenset({1}), [([(r, 1) for r in range(n)], (n, 1))])


def test_a_lone_small_count_takes_the_next_smallest_with_it():
    shown = suppress_table(_one_column([3, 40, 25, 0]))
    assert [row[1] for row in shown.rows] == [SUPPRESSED, 40, SUPPRESSED, 0, 68]


def test_a_manager_without_an_org_in_the_query_sees_only_their_own(manager_client, org_b):
    other = SessionFactory(organization=org_b.organization, occurred_at=IN_QUARTER)
    SessionParticipant = other.participants.through
    SessionParticipant.objects.create(
        session=other,
        participant=ParticipantFactory(organization=org_b.organization),
        occurred_at=IN_QUARTER,
    )
    response = manager_client.get(reverse("funder_report"), {**QUARTER, "org": ""})
    assert response.context["report"].scope.organizations is not None
    assert table_of(response, "Unduplicated people served")["Total"] == ["0"]


def test_two_small_counts_hide_each_other_and_nothing_more():
    shown = suppress_table(_one_column([3, 4, 25]))
    assert [row[1] for row in shown.rows] == [SUPPRESSED, SUPPRESSED, 25, 32]


def test_nothing_small_nothing_hidden_and_zero_is_shown():
    shown = suppress_table(_one_column([0, 11, 25]))
    assert [row[1] for row in shown.rows] == [0, 11, 25, 36]


def test_rows_and_columns_are_protected_together():
    # 2x2 with row and column totals: one small cell forces a second in its row and its column,
    # and then a fourth so that no row or column is left with one hidden cell.
    rows = [["a", 5, 20, 25], ["b", 30, 40, 70], ["Total", 35, 60, 95]]
    sums = [
        ([(0, 1), (0, 2)], (0, 3)),
        ([(1, 1), (1, 2)], (1, 3)),
        ([(0, 1), (1, 1)], (2, 1)),
        ([(0, 2), (1, 2)], (2, 2)),
    ]
    shown = suppress_table(Table("t", ["", "x", "y", "T"], rows, frozenset({1, 2, 3}), sums))
    assert shown.rows[0][1:3] == [SUPPRESSED, SUPPRESSED]
    assert shown.rows[1][1:3] == [SUPPRESSED, SUPPRESSED]
    assert shown.rows[2] == ["Total", 35, 60, 95]


# What it counts --------------------------------------------------------------------------------


@pytest.fixture
def quarter_data(org_a, org_b):  # type: ignore[no-untyped-def]
    """In org A during Q1 2026: 12 people in sessions (3 of them also seen in 2025), demographics
    for all of them, two referrals; one of org B's people in a session."""
    people = []
    for i in range(12):
        person = ParticipantFactory(organization=org_a.organization, identified_on=date(2025, 1, 1))
        DemographicsFactory(
            participant=person,
            gender="woman" if i < 3 else "man",
            race_ethnicity=["black", "hispanic"] if i == 0 else ["hispanic"],
        )
        people.append(person)
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=IN_QUARTER,
        duration_minutes=90,
        participants=people,
    )
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        kind=Session.Kind.HOSPITAL_VISIT,
        occurred_at=IN_QUARTER + timedelta(days=1),
        duration_minutes=30,
        participants=people[:2],
    )
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=timezone.make_aware(datetime(2025, 11, 3, 10)),
        participants=people[:3],
    )
    for person in people[:2]:
        ReferralFactory(participant=person, made_by=org_a.worker, made_on=date(2026, 2, 1))
    outsider = ParticipantFactory(organization=org_b.organization)
    SessionFactory(
        organization=org_b.organization,
        worker=org_b.worker,
        occurred_at=IN_QUARTER,
        participants=[outsider],
    )
    return people


def test_the_manager_sees_their_own_organisation_unsuppressed(manager_client, quarter_data):
    response = manager_client.get(reverse("funder_report"), QUARTER)
    assert response.status_code == 200
    served = table_of(response, "Unduplicated people served")
    assert served == {"New in the period": ["9"], "Continuing from before": ["3"], "Total": ["12"]}
    gender = table_of(response, "Gender")
    assert gender["Woman / girl"] == ["3"] and gender["Man / boy"] == ["9"]
    race = table_of(response, "Race and ethnicity")
    assert race["Hispanic or Latino"] == ["12"] and race["Black or African American"] == ["1"]
    sessions = table_of(response, "Sessions and contact hours by kind")
    assert sessions["Mentoring"] == ["1", "1.5"]
    assert sessions["Hospital visit"] == ["1", "0.5"]
    assert sessions["Total"] == ["2", "2.0"]
    assert SUPPRESSED not in response.content.decode()


def test_the_city_sees_every_organisation_with_small_counts_suppressed(
    admin_client_city, quarter_data
):
    response = admin_client_city.get(reverse("funder_report"), QUARTER)
    assert response.status_code == 200
    served = table_of(response, "Unduplicated people served")
    # 10 new (9 of A's, 1 of B's) and 3 continuing: both small, total 13 shown.
    assert served == {
        "New in the period": [SUPPRESSED],
        "Continuing from before": [SUPPRESSED],
        "Total": ["13"],
    }
    gender = table_of(response, "Gender")
    assert gender["Woman / girl"] == [SUPPRESSED]
    assert gender["Man / boy"] == [SUPPRESSED], "the complementary cell"
    assert "suppression-note" in response.content.decode()


def test_the_city_can_choose_one_organisation(admin_client_city, quarter_data, org_a):
    response = admin_client_city.get(reverse("funder_report"), {**QUARTER, "org": "org-a"})
    assert table_of(response, "Unduplicated people served")["Total"] == ["12"]
    assert response.context["report"].scope.label == org_a.organization.name


def test_an_analyst_with_aggregates_sees_the_suppressed_report(quarter_data):
    analyst = UserFactory(username="analyst")
    analyst.groups.add(Group.objects.get(name=ANALYST_GROUP))
    response = logged_in(analyst).get(reverse("funder_report"), QUARTER)
    assert response.status_code == 200
    assert response.context["report"].scope.suppress_small_counts


def test_a_worker_is_refused_and_another_managers_organisation_is_not_found(
    worker_client, org_b, quarter_data
):
    assert worker_client.get(reverse("funder_report")).status_code == 403
    other = logged_in(org_b.manager)
    for name in ("funder_report", "funder_report_csv", "funder_report_xlsx"):
        assert other.get(reverse(name), {"org": "org-a"}).status_code == 404


def test_a_bad_period_is_a_form_error(manager_client, quarter_data):
    response = manager_client.get(
        reverse("funder_report"), {"start": "2026-03-01", "end": "2026-01-01"}
    )
    assert response.status_code == 400
    assert "on or after the first" in response.content.decode()


def test_enrolments_and_referrals_are_counted(manager_client, org_a, quarter_data):
    EnrollmentFactory(
        participant=quarter_data[0],
        program=org_a.program,
        referred_on=date(2026, 1, 5),
        enrolled_on=date(2026, 1, 5),
        active_on=date(2026, 1, 5),
    )
    response = manager_client.get(reverse("funder_report"), QUARTER)
    enrolments = table_of(response, "Enrolments by status")
    assert enrolments["Active"] == ["1", "1"]
    referrals = table_of(response, "Referrals made in the period, by category and status now")
    assert referrals["Total"][-1] == "2"


# Outcome measures ------------------------------------------------------------------------------


def test_outcome_windows_count_only_people_whose_window_has_closed(org_a):
    start = date(2025, 1, 1)
    early = EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        referred_on=start,
        enrolled_on=start,
        active_on=start,
    )
    late = EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        referred_on=date(2025, 9, 1),
        enrolled_on=date(2025, 9, 1),
        active_on=date(2025, 9, 1),
    )
    OutcomeEventFactory(participant=early.participant, kind="arrest", occurred_on=date(2025, 3, 1))
    OutcomeEventFactory(
        participant=early.participant, kind="employment_started", occurred_on=date(2025, 10, 1)
    )
    OutcomeEventFactory(participant=late.participant, kind="arrest", occurred_on=date(2025, 10, 1))
    # Before enrolment: not "new".
    OutcomeEventFactory(
        participant=early.participant, kind="credential_earned", occurred_on=date(2024, 6, 1)
    )
    counts = cohort_outcome_counts(None, date(2025, 1, 1), date(2025, 12, 31), date(2026, 4, 1))
    assert counts["enrolled"] == 2
    assert (counts["observed_6"], counts["arrest_6"]) == (2, 2)
    assert (counts["observed_12"], counts["arrest_12"], counts["job_12"]) == (1, 1, 1)
    assert counts["job_6"] == 0 and counts["credential_12"] == 0


def test_shares_sit_beside_their_counts_and_are_withheld_when_counts_are_hidden(org_a):
    enrollment = EnrollmentFactory(
        participant__organization=org_a.organization,
        program=org_a.program,
        referred_on=date(2025, 1, 2),
        enrolled_on=date(2025, 1, 2),
        active_on=date(2025, 1, 2),
    )
    OutcomeEventFactory(
        participant=enrollment.participant, kind="arrest", occurred_on=date(2025, 2, 1)
    )
    period = Period(date(2025, 1, 1), date(2025, 3, 31), date(2026, 4, 1))
    own = build_report(ReportScope(None, "x", False), period)
    outcome_rows = {
        row[0]: row for _, t in own.tables() if t.title.startswith("Outcomes") for row in t.rows
    }
    assert outcome_rows["A new arrest within 6 months"][1:] == [1, 1, 100.0]
    city = build_report(ReportScope(None, "x", True), period)
    outcome_rows = {
        row[0]: row for _, t in city.tables() if t.title.startswith("Outcomes") for row in t.rows
    }
    assert outcome_rows["A new arrest within 6 months"][1:] == [SUPPRESSED, SUPPRESSED, "withheld"]


# Life plans and incentives --------------------------------------------------------------------


def _approved_plan(enrollment, *, approved: datetime, superseded: datetime | None = None):  # type: ignore[no-untyped-def]
    """A plan of the enrolment approved at `approved` (and superseded at `superseded`)."""
    drafter, approver = UserFactory(), UserFactory()
    return LifePlanFactory(
        enrollment=enrollment,
        drafted_by=drafter,
        status=LifePlan.Status.SUPERSEDED if superseded else LifePlan.Status.APPROVED,
        approved_by=approver,
        approved_at=approved,
        superseded_at=superseded,
    )


def _paid(plan, cents: int, source: str, on: date, reverses=None) -> IncentiveEntry:  # type: ignore[no-untyped-def]
    """An entry of the plan's enrolment, requested, approved and marked paid on `on`."""
    requester, decider = UserFactory(), UserFactory()
    moment = timezone.make_aware(datetime.combine(on, datetime.min.time()))
    return IncentiveEntry.objects.create(
        enrollment=plan.enrollment,
        plan=plan,
        kind=IncentiveEntry.Kind.REVERSAL if reverses else IncentiveEntry.Kind.PAYMENT,
        reverses=reverses,
        month=on.replace(day=1),
        amount_cents=cents,
        funding_source=source,
        status=IncentiveEntry.Status.PAID,
        requested_by=requester,
        decided_by=decider,
        decided_at=moment,
        paid_by=decider,
        paid_on=on,
        payment_method=IncentiveEntry.Method.CHECK,
        paid_recorded_at=moment,
    )


@pytest.fixture
def plan_data(org_a, org_b):  # type: ignore[no-untyped-def]
    """In org A: two people with plans approved before the quarter (one employment goal
    achieved, one not; a housing goal in progress), a plan superseded before the quarter, a
    draft; public-grant and private payments in the quarter, one reversed, and one paid before
    it. Org B: a plan and a payment of its own."""
    in_quarter = timezone.make_aware(datetime(2026, 1, 5, 9))

    def enrolment(org):  # type: ignore[no-untyped-def]
        person = ParticipantFactory(organization=org.organization)
        return EnrollmentFactory(participant=person, program=org.program)

    first = _approved_plan(enrolment(org_a), approved=in_quarter)
    GoalFactory(plan=first, domain=Domain.EMPLOYMENT, status=Goal.Status.ACHIEVED)
    GoalFactory(plan=first, domain=Domain.HOUSING, status=Goal.Status.IN_PROGRESS)
    second = _approved_plan(enrolment(org_a), approved=in_quarter - timedelta(days=60))
    GoalFactory(plan=second, domain=Domain.EMPLOYMENT)
    old = _approved_plan(
        enrolment(org_a),
        approved=in_quarter - timedelta(days=200),
        superseded=in_quarter - timedelta(days=40),
    )
    GoalFactory(plan=old, domain=Domain.EDUCATION, status=Goal.Status.ACHIEVED)
    draft = LifePlanFactory(enrollment=enrolment(org_a))
    GoalFactory(plan=draft, domain=Domain.LEGAL)
    theirs = _approved_plan(enrolment(org_b), approved=in_quarter)
    GoalFactory(plan=theirs, domain=Domain.EMPLOYMENT, status=Goal.Status.ACHIEVED)

    public, private = FundingSource.PUBLIC_GRANT, FundingSource.PRIVATE_FUNDS
    _paid(first, 100_000, public, date(2026, 2, 10))
    _paid(first, 25_000, private, date(2026, 3, 5))
    wrong = _paid(second, 50_000, public, date(2026, 2, 11))
    _paid(second, -50_000, public, date(2026, 3, 1), reverses=wrong)
    _paid(second, 70_000, public, date(2025, 12, 30))
    _paid(theirs, 90_000, public, date(2026, 2, 10))
    return first, second


def test_plans_count_people_with_goals_set_and_achieved_by_domain(manager_client, plan_data):
    response = manager_client.get(reverse("funder_report"), QUARTER)
    plans = table_of(response, "Plans with goals set and achieved by domain")
    # Org A's two plans in force; the superseded one, the draft and org B's are not counted.
    assert plans["Employment"] == ["2", "1", "50.0"]
    assert plans["Housing"] == ["1", "0", "0.0"]
    assert plans["Education"] == ["0", "0", "None"]
    assert plans["Legal and court"] == ["0", "0", "None"]
    assert plans["Any domain"] == ["2", "1", "50.0"]


def test_incentives_are_paid_by_funding_source_net_of_reversals_never_added_together(
    manager_client, plan_data
):
    response = manager_client.get(reverse("funder_report"), QUARTER)
    money = table_of(response, "Incentives paid by funding source")
    assert money == {
        "Public grant": ["2", "1500.00", "500.00", "1000.00"],
        "Private funds": ["1", "250.00", "0.00", "250.00"],
    }, "the payment of December and org B's are not in it; no row adds the two sources"


def test_outside_the_organisation_people_are_suppressed_and_money_is_not(
    admin_client_city, plan_data
):
    response = admin_client_city.get(reverse("funder_report"), {**QUARTER, "org": "org-a"})
    money = table_of(response, "Incentives paid by funding source")
    assert money["Public grant"] == [SUPPRESSED, "1500.00", "500.00", "1000.00"]
    assert money["Private funds"] == [SUPPRESSED, "250.00", "0.00", "250.00"]
    plans = table_of(response, "Plans with goals set and achieved by domain")
    assert plans["Employment"] == [SUPPRESSED, SUPPRESSED, WITHHELD]
    assert plans["Education"] == ["0", "0", "None"]


def test_the_downloads_hold_the_plans_and_incentives(manager_client, plan_data):
    response = manager_client.get(reverse("funder_report_csv"), QUARTER)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert ["Life plans", "Plans with goals set and achieved by domain"] in rows
    assert ["Incentives", "Incentives paid by funding source"] in rows
    assert ["Public grant", "2", "1500.00", "500.00", "1000.00"] in rows
    workbook = load_workbook(
        io.BytesIO(manager_client.get(reverse("funder_report_xlsx"), QUARTER).content)
    )
    sheet = workbook["Incentives paid by funding source"[:31]]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert ["Private funds", 1, 250, 0, 250] in values


# Downloads -------------------------------------------------------------------------------------


def test_the_csv_holds_every_table(manager_client, quarter_data):
    response = manager_client.get(reverse("funder_report_csv"), QUARTER)
    assert response["Content-Disposition"].endswith('.csv"')
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.reader(io.StringIO(text)))
    section_titles = {row[0] for row in rows if len(row) == 2 and row[0] != "Note"}
    assert {
        "People served and who they are",
        "Enrolments",
        "Services and dosage",
        "Referrals",
        "Life plans",
        "Incentives",
        "Outcomes in people's lives",
        "Shooting response",
    } <= section_titles
    assert ["Total", "12"] in rows
    assert ["Scope", "Org A"] in rows


def test_the_workbook_has_a_sheet_per_table_and_defuses_formulas(org_a, quarter_data):
    organization = org_a.organization
    organization.name = '=HYPERLINK("http://evil","x")'
    organization.save()
    response = logged_in(org_a.manager).get(reverse("funder_report_xlsx"), QUARTER)
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(response.content))
    assert len(workbook.sheetnames) == 12
    assert "Gender" in workbook.sheetnames
    sheet = workbook["Gender"]
    values = [cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None]
    scope_cell = next(v for v in values if isinstance(v, str) and "HYPERLINK" in v)
    assert scope_cell.startswith("'=")
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_an_export_is_audited(manager_client, quarter_data):
    from interventions.audit.models import AuditEvent

    manager_client.get(reverse("funder_report_xlsx"), QUARTER)
    event = AuditEvent.objects.filter(action="export").latest("id")
    assert event.object_type == "funder_report"


# Queries ---------------------------------------------------------------------------------------


# The page's queries: the session, the user, the viewer's roles, the organisations to choose
# from, the report's savepoint, SET LOCAL and release, and one per section. A new section adds
# its own here; a query per row would make the two sizes differ. Plus the background-work
# banner's one query (city admins and managers see it). 16: the life plans and the incentives
# sections added one query each to the 14 before them.
REPORT_QUERIES = 16


def _report_queries(client) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("funder_report"), QUARTER).status_code == 200
    return len(queries)


def test_the_report_query_count_does_not_grow_with_the_rows(admin_client_city, org_a):
    def add(n: int) -> None:
        for _ in range(n):
            organization = PartnerOrganizationFactory()
            person = ParticipantFactory(organization=organization, identified_on=date(2025, 1, 1))
            DemographicsFactory(participant=person)
            EnrollmentFactory(
                participant=person,
                status=Enrollment.Status.ACTIVE,
                referred_on=date(2026, 1, 3),
                enrolled_on=date(2026, 1, 3),
                active_on=date(2026, 1, 3),
            )
            SessionFactory(organization=organization, occurred_at=IN_QUARTER, participants=[person])
            ReferralFactory(participant=person, made_on=date(2026, 1, 4))
            OutcomeEventFactory(participant=person, occurred_on=date(2026, 2, 1))
            plan = _approved_plan(
                Enrollment.objects.get(participant=person),
                approved=timezone.make_aware(datetime(2026, 1, 5)),
            )
            GoalFactory(plan=plan, status=Goal.Status.ACHIEVED)
            _paid(plan, 10_000, FundingSource.PUBLIC_GRANT, date(2026, 2, 2))

    add(2)
    small = _report_queries(admin_client_city)
    add(20)
    large = _report_queries(admin_client_city)
    assert (small, large) == (REPORT_QUERIES, REPORT_QUERIES)
