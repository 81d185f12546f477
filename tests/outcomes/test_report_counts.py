"""The funder report's kept session counts (models.report_counts) stay equal to the sessions
through every kind of write, a fill from empty rebuilds them, and the report's own SQL counts
exactly what its definitions say, with or without the kept counts. Its query count does not
grow with the data."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse
from django.utils import timezone

from interventions.models import (
    Enrollment,
    Session,
    SessionDayCount,
    SessionDayCountFillState,
    SessionParticipant,
)
from interventions.selectors.funder_report import (
    Period,
    ReportScope,
    build_report,
    served_people,
)
from interventions.services.case import change_enrollment_status, exit_enrollment, log_session
from interventions.services.report_counts import fill_session_day_counts
from tests.factories import (
    EnrollmentFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    SessionFactory,
)
from tests.queries import assert_fixed_queries, spread

pytestmark = pytest.mark.django_db

QUARTER = Period(date(2026, 1, 1), date(2026, 3, 31), date(2026, 11, 1))


def local(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


def kept() -> dict[tuple[int, date, str], tuple[int, int]]:
    return {
        (row.organization_id, row.day, row.kind): (row.sessions, row.minutes)
        for row in SessionDayCount.objects.all()
    }


def counted_from_sessions() -> dict[tuple[int, date, str], tuple[int, int]]:
    """The same counts, from the sessions, in Python's idea of the local day."""
    counts: dict[tuple[int, date, str], list[int]] = {}
    for session in Session.objects.all():
        key = (session.organization_id, timezone.localdate(session.occurred_at), session.kind)
        entry = counts.setdefault(key, [0, 0])
        entry[0] += 1
        entry[1] += session.duration_minutes
    return {key: (n, minutes) for key, (n, minutes) in counts.items()}


def dosage(report) -> dict[str, list[object]]:  # type: ignore[no-untyped-def]
    for _, table in report.tables():
        if table.title == "Sessions and contact hours by kind":
            return {str(row[0]): row[1:] for row in table.rows}
    raise AssertionError("no dosage table")


def people(report) -> dict[str, list[object]]:  # type: ignore[no-untyped-def]
    for _, table in report.tables():
        if table.title == "Unduplicated people served":
            return {str(row[0]): row[1:] for row in table.rows}
    raise AssertionError("no people table")


def dosage_from_sessions(period: Period, organizations=None) -> dict[str, list[object]]:  # type: ignore[no-untyped-def]
    sessions = Session.objects.filter(
        occurred_at__gte=period.start_at, occurred_at__lt=period.end_before
    )
    if organizations is not None:
        sessions = sessions.filter(organization__in=organizations)
    by_kind = {
        row["kind"]: row
        for row in sessions.values("kind").annotate(n=Count("pk"), minutes=Sum("duration_minutes"))
    }
    rows = {
        label: [
            by_kind.get(value, {}).get("n", 0),
            round((by_kind.get(value, {}).get("minutes") or 0) / 60, 1),
        ]
        for value, label in Session.Kind.choices
    }
    total_minutes = sum(row["minutes"] for row in by_kind.values())
    rows["Total"] = [sum(row["n"] for row in by_kind.values()), round(total_minutes / 60, 1)]
    return rows


@pytest.fixture
def filled(db: None) -> None:
    fill_session_day_counts()


def test_the_counts_follow_every_write_to_the_sessions(filled, org_a, org_b):
    person = ParticipantFactory(organization=org_a.organization)
    # A service write, a factory write and a bulk insert.
    logged = log_session(
        worker=org_a.worker,
        organization=org_a.organization,
        participants=[person],
        kind=Session.Kind.LIFE_COACHING,
        occurred_at=local(2026, 2, 3, 23, 30),  # late in the local day: still 3 February
        duration_minutes=45,
        location=Session.Location.STREET,
    )
    other = SessionFactory(
        organization=org_b.organization, occurred_at=local(2026, 2, 3, 0, 5), duration_minutes=20
    )
    Session.objects.bulk_create(
        Session(
            organization=org_a.organization,
            worker=org_a.worker,
            kind=Session.Kind.MENTORING,
            occurred_at=local(2026, 3, 1, 12) + timedelta(minutes=minute),
            duration_minutes=10 + minute,
            location=Session.Location.OFFICE,
        )
        for minute in range(5)
    )
    assert kept() == counted_from_sessions()
    assert kept()[(org_a.organization.pk, date(2026, 2, 3), "life_coaching")] == (1, 45)

    # Edits: the kind, the duration, the day, the organisation, one at a time and all at once.
    logged.kind = Session.Kind.MENTORING
    logged.save()
    assert kept() == counted_from_sessions()
    Session.objects.filter(pk=logged.pk).update(duration_minutes=90)
    assert kept() == counted_from_sessions()
    logged.refresh_from_db()
    logged.occurred_at = local(2026, 2, 4, 0, 30)
    logged.save()
    assert kept() == counted_from_sessions()
    Session.objects.filter(pk=other.pk).update(
        organization=org_a.organization, kind=Session.Kind.CRISIS_RESPONSE, duration_minutes=5
    )
    assert kept() == counted_from_sessions()
    Session.objects.filter(kind=Session.Kind.MENTORING).update(duration_minutes=30)
    assert kept() == counted_from_sessions()

    # Deletes: one (its attendance first, as Django cascades), then many; an emptied group goes.
    logged.delete()
    assert kept() == counted_from_sessions()
    assert (org_a.organization.pk, date(2026, 2, 4), "mentoring") not in kept()
    Session.objects.filter(kind=Session.Kind.MENTORING).delete()
    assert kept() == counted_from_sessions()
    assert set(kept()) == {(org_a.organization.pk, date(2026, 2, 3), "crisis_response")}


def test_a_fill_from_empty_rebuilds_the_counts_and_a_second_changes_nothing(org_a):
    SessionDayCountFillState.objects.all().delete()
    SessionDayCount.objects.all().delete()
    # Without a fill state the triggers leave the counts alone...
    for day in (1, 1, 2):
        SessionFactory(
            organization=org_a.organization, occurred_at=local(2026, 1, day, 9), duration_minutes=30
        )
    assert kept() == {}
    # ...and the report counts the sessions themselves.
    report = build_report(ReportScope(None, "all", False), QUARTER)
    assert dosage(report)["Mentoring"] == [3, 1.5]

    assert fill_session_day_counts() == 2
    first = kept()
    assert first == counted_from_sessions()
    assert first[(org_a.organization.pk, date(2026, 1, 1), "mentoring")] == (2, 60)
    assert SessionDayCountFillState.objects.get().time_zone == timezone.get_default_timezone_name()
    fill_session_day_counts()
    assert kept() == first
    SessionFactory(organization=org_a.organization, occurred_at=local(2026, 1, 2, 10))
    assert kept() == counted_from_sessions()


def test_the_dosage_is_the_same_from_the_counts_from_the_sessions_and_in_another_time_zone(
    filled, org_a, org_b
):
    # Both edges of the quarter, in local time, and one just outside each.
    for moment, minutes in (
        (local(2025, 12, 31, 23, 59), 7),
        (local(2026, 1, 1, 0, 0), 11),
        (local(2026, 3, 31, 23, 59), 13),
        (local(2026, 4, 1, 0, 0), 17),
        (local(2026, 2, 14, 12, 0), 19),
    ):
        SessionFactory(
            organization=org_a.organization, occurred_at=moment, duration_minutes=minutes
        )
    SessionFactory(
        organization=org_b.organization,
        kind=Session.Kind.STREET_OUTREACH,
        occurred_at=local(2026, 2, 1, 8),
        duration_minutes=120,
    )
    assert SessionDayCount.objects.exists()
    for organizations in (None, org_a.organization.__class__.objects.filter(slug="org-a")):
        scope = ReportScope(organizations, "x", False)
        assert dosage(build_report(scope, QUARTER)) == dosage_from_sessions(QUARTER, organizations)
    assert dosage(build_report(ReportScope(None, "x", False), QUARTER))["Mentoring"] == [3, 0.7]
    # Days of another time zone are not the counts' days: the report counts the sessions.
    with timezone.override("UTC"):
        period = Period(date(2026, 1, 1), date(2026, 3, 31), date(2026, 11, 1))
        shown = dosage(build_report(ReportScope(None, "x", False), period))
        assert shown == dosage_from_sessions(period)
    assert shown["Mentoring"] != [3, 0.7], "the edges fall elsewhere in UTC"


def test_people_served_match_their_definition_after_sessions_and_enrolment_changes(
    filled, org_a, org_b
):
    def check() -> None:
        for organizations in (None, org_a.organization.__class__.objects.filter(slug="org-a")):
            scope = ReportScope(organizations, "x", False)
            shown = people(build_report(scope, QUARTER))
            served = served_people(scope, QUARTER).count()
            assert shown["Total"] == [served]

    before, during, after = local(2025, 11, 1, 10), local(2026, 2, 1, 10), local(2026, 5, 1, 10)
    seen = [ParticipantFactory(organization=org_a.organization) for _ in range(4)]
    SessionFactory(organization=org_a.organization, occurred_at=during, participants=seen[:3])
    SessionFactory(organization=org_a.organization, occurred_at=before, participants=seen[:1])
    SessionFactory(organization=org_a.organization, occurred_at=after, participants=seen[3:])
    SessionFactory(
        organization=org_b.organization,
        occurred_at=during,
        participants=[ParticipantFactory(organization=org_b.organization), seen[3]],
    )
    # The quarter's first and last moments, and the last one before it.
    for moment in (
        local(2026, 1, 1, 0, 0),
        local(2026, 3, 31, 23, 59),
        local(2025, 12, 31, 23, 59),
    ):
        SessionFactory(
            organization=org_a.organization,
            occurred_at=moment,
            participants=[ParticipantFactory(organization=org_a.organization)],
        )
    check()
    enrolled = [ParticipantFactory(organization=org_a.organization) for _ in range(3)]
    enrollments = [
        EnrollmentFactory(
            participant=person,
            program=org_a.program,
            status=Enrollment.Status.ENROLLED,
            referred_on=date(2025, 10, 1),
            enrolled_on=day,
        )
        for person, day in zip(
            enrolled, (date(2025, 10, 2), date(2026, 1, 15), date(2026, 4, 2)), strict=True
        )
    ]
    check()
    exit_enrollment(
        enrollment=enrollments[0],
        reason=Enrollment.ExitReason.MOVED,
        by=org_a.manager,
        on=date(2025, 12, 20),
    )
    check()
    change_enrollment_status(
        enrollment=enrollments[1], status=Enrollment.Status.ACTIVE, by=org_a.manager
    )
    Enrollment.objects.filter(pk=enrollments[2].pk).update(enrolled_on=date(2026, 3, 30))
    check()
    SessionParticipant.objects.filter(participant=seen[0], occurred_at=before).delete()
    check()
    shown = people(build_report(ReportScope(None, "x", False), QUARTER))
    # seen[0..2] in A's session, seen[3] and B's person in B's, the two seen at the quarter's
    # edges, enrolled[1] and enrolled[2]; not enrolled[0], who left before the quarter, nor the
    # one seen a minute before it.
    assert shown["Total"] == [9]


def test_the_report_query_count_is_fixed_for_the_city_and_for_a_manager(
    filled, admin_client_city, manager_client, org_a
):
    url = reverse("funder_report")
    quarter = {"start": "2026-01-01", "end": "2026-03-31"}

    def grow() -> None:
        spread(org_a, 4, prefix="grown")
        for index in range(4):
            organization = PartnerOrganizationFactory()
            person = ParticipantFactory(organization=organization)
            SessionFactory(
                organization=organization,
                occurred_at=local(2026, 2, 1 + index, 10),
                participants=[person],
            )

    assert_fixed_queries(
        [
            lambda: admin_client_city.get(url, quarter),
            lambda: admin_client_city.get(url, {**quarter, "org": "org-a"}),
            lambda: manager_client.get(url, quarter),
        ],
        grow,
    )


def test_a_statement_writing_many_sessions_updates_each_count_once(filled, org_a):
    worker = org_a.worker
    Session.objects.bulk_create(
        Session(
            organization=org_a.organization,
            worker=worker,
            kind=kind,
            occurred_at=local(2026, 1, 5, 9) + timedelta(hours=hour),
            duration_minutes=15,
            location=Session.Location.STREET,
        )
        for hour in range(6)
        for kind in (Session.Kind.MENTORING, Session.Kind.FAMILY_CONTACT)
    )
    rows = Counter(
        (row.kind, row.sessions, row.minutes)
        for row in SessionDayCount.objects.filter(organization=org_a.organization)
    )
    assert rows == Counter({("mentoring", 6, 90): 1, ("family_contact", 6, 90): 1})
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'interventions_session'::regclass"
            " AND tgname LIKE 'session_day_count_%%'"
        )
        assert cursor.fetchone()[0] == 3
