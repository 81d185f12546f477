"""The activity rollup: right numbers, computed in the database, idempotent, crash-safe, and
refreshed after sessions are logged (through the outbox, coalesced)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import F
from django.utils import timezone

from interventions.dates import local_month_of
from interventions.models import Enrollment, PartnerOrganization, Referral, Session
from interventions.outbox.models import OutboxMessage
from interventions.outbox.services import relay_pending
from interventions.services.case import log_session
from metrics import services, tasks
from metrics.models import ActivityRollup, RollupFillState
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    ReferralFactory,
    SessionFactory,
)
from tests.queries import count_queries

LA = ZoneInfo("America/Los_Angeles")


def at(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=LA)


def table() -> list[tuple]:
    return list(
        ActivityRollup.objects.order_by(
            "month", "organization_id", "program_kind", "area_id"
        ).values_list(
            "month",
            "organization_id",
            "program_kind",
            "area_id",
            "sessions",
            "contact_minutes",
            "participants_served",
            "new_enrollments",
            "exits",
            "referrals_made",
            "referrals_completed",
        )
    )


@pytest.fixture
def activity(org_a, org_b):  # type: ignore[no-untyped-def]
    """A small, hand-countable set of case records in March-April 2024."""
    city = AreaFactory(name="Bakersfield", slug="bakersfield")
    east = AreaFactory(name="East Bakersfield", slug="east", parent=city)
    south = AreaFactory(name="South Bakersfield", slug="south", parent=city)
    org, program = org_a.organization, org_a.program
    identified = date(2023, 1, 1)
    p1 = ParticipantFactory(organization=org, area=east, identified_on=identified)
    p2 = ParticipantFactory(organization=org, area=east, identified_on=identified)
    p3 = ParticipantFactory(organization=org, area=south, identified_on=identified)
    p4 = ParticipantFactory(organization=org, area=None, identified_on=identified)
    worker = org_a.worker
    # A group session: p1 recorded first, so the session counts in p1's area (east).
    SessionFactory(
        organization=org,
        program=program,
        worker=worker,
        occurred_at=at(2024, 3, 5),
        duration_minutes=60,
        participants=[p1, p3],
    )
    SessionFactory(
        organization=org,
        program=program,
        worker=worker,
        occurred_at=at(2024, 3, 20),
        duration_minutes=30,
        participants=[p1],
    )
    # 23:30 on 31 March in Bakersfield is already 1 April in UTC: it belongs to March.
    SessionFactory(
        organization=org,
        program=None,
        worker=worker,
        occurred_at=at(2024, 3, 31, 23, 30),
        duration_minutes=45,
        participants=[p2],
    )
    SessionFactory(
        organization=org,
        program=program,
        worker=worker,
        occurred_at=at(2024, 4, 2),
        duration_minutes=15,
        participants=[p4],
    )
    # Another organisation's session stays in its own rows.
    other = ParticipantFactory(organization=org_b.organization, area=east, identified_on=identified)
    SessionFactory(
        organization=org_b.organization,
        program=org_b.program,
        worker=org_b.worker,
        occurred_at=at(2024, 3, 6),
        duration_minutes=20,
        participants=[other],
    )
    EnrollmentFactory(
        participant=p1,
        program=program,
        referred_on=date(2024, 3, 1),
        enrolled_on=date(2024, 3, 10),
        active_on=date(2024, 3, 10),
    )
    EnrollmentFactory(
        participant=p3,
        program=program,
        status=Enrollment.Status.EXITED,
        referred_on=date(2024, 2, 1),
        enrolled_on=date(2024, 2, 1),
        active_on=date(2024, 2, 1),
        exited_on=date(2024, 4, 15),
        exit_reason=Enrollment.ExitReason.MOVED,
    )
    ReferralFactory(
        participant=p1,
        made_by=worker,
        made_on=date(2024, 3, 3),
        status=Referral.Status.COMPLETED,
        closed_on=date(2024, 4, 10),
    )
    ReferralFactory(participant=p3, made_by=worker, made_on=date(2024, 3, 25))
    return {"org_a": org.pk, "org_b": org_b.organization.pk, "east": east.pk, "south": south.pk}


def expected(ids: dict[str, int]) -> list[tuple]:
    a, b, east, south = ids["org_a"], ids["org_b"], ids["east"], ids["south"]
    gi = "gang_intervention"
    rows = [
        # month, org, kind, area, sessions, minutes, served, enrolled, exits, ref made, ref done
        (date(2024, 2, 1), a, gi, south, 0, 0, 0, 1, 0, 0, 0),
        (date(2024, 3, 1), a, gi, east, 2, 90, 1, 1, 0, 0, 0),
        (date(2024, 3, 1), a, gi, south, 0, 0, 1, 0, 0, 0, 0),
        (date(2024, 3, 1), a, "unspecified", east, 1, 45, 1, 0, 0, 1, 0),
        (date(2024, 3, 1), a, "unspecified", south, 0, 0, 0, 0, 0, 1, 0),
        (date(2024, 3, 1), b, gi, east, 1, 20, 1, 0, 0, 0, 0),
        (date(2024, 4, 1), a, gi, None, 1, 15, 1, 0, 0, 0, 0),
        (date(2024, 4, 1), a, gi, south, 0, 0, 0, 0, 1, 0, 0),
        (date(2024, 4, 1), a, "unspecified", east, 0, 0, 0, 0, 0, 0, 1),
    ]
    return sorted(rows, key=lambda r: (r[0], r[1], r[2], r[3] if r[3] is not None else 10**12))


def test_rollup_matches_hand_counted_numbers(activity) -> None:  # type: ignore[no-untyped-def]
    services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))
    assert table() == expected(activity)
    filled = list(RollupFillState.objects.values_list("month", flat=True))
    assert filled == [date(2024, m, 1) for m in range(1, 7)]


def test_distinct_participants_count_each_person_once(org_a) -> None:  # type: ignore[no-untyped-def]
    person = ParticipantFactory(organization=org_a.organization, identified_on=date(2023, 1, 1))
    for day in (1, 2, 3):
        SessionFactory(
            organization=org_a.organization,
            program=org_a.program,
            worker=org_a.worker,
            occurred_at=at(2024, 5, day),
            participants=[person],
        )
    services.refresh_rollups(start_month=date(2024, 5, 1), end_month=date(2024, 5, 1))
    row = ActivityRollup.objects.get()
    assert (row.sessions, row.contact_minutes, row.participants_served) == (3, 180, 1)
    assert row.contact_hours == 3.0


def test_refresh_twice_gives_the_same_table(activity) -> None:  # type: ignore[no-untyped-def]
    services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))
    first = table()
    services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))
    assert table() == first
    services.refresh_rollups()  # every month
    assert table() == first


def test_partial_range_leaves_other_months_alone(activity) -> None:  # type: ignore[no-untyped-def]
    services.refresh_rollups()
    whole = table()
    services.refresh_rollups(start_month=date(2024, 3, 1), end_month=date(2024, 3, 1))
    assert table() == whole


def test_crash_half_way_leaves_the_previous_table_and_a_rerun_fixes_it(
    activity, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))
    before = table()
    fill_before = list(RollupFillState.objects.values_list("month", "refreshed_at"))
    # New activity arrives, then the refresh dies after deleting and inserting, before the
    # fill-state rows are written.
    Session.objects.filter(duration_minutes=15).update(duration_minutes=25)

    def crash(*args: object) -> None:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(services, "_mark_filled", crash)
    with pytest.raises(RuntimeError):
        services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))
    assert table() == before
    assert list(RollupFillState.objects.values_list("month", "refreshed_at")) == fill_before

    monkeypatch.undo()
    services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))
    after = table()
    assert [r for r in after if r[5] == 25] and len(after) == len(before)


def test_one_organisations_month_is_rebuilt_alone_once_the_month_is_filled(activity) -> None:  # type: ignore[no-untyped-def]
    services.refresh_rollups()
    whole = table()
    march = date(2024, 3, 1)
    # Both organisations' March activity changes; only org A's rows are asked for again.
    Session.objects.filter(
        occurred_at__gte=at(2024, 3, 1, 0), occurred_at__lt=at(2024, 4, 1, 0)
    ).update(duration_minutes=F("duration_minutes") + 5)
    # A session with nobody recorded and a group session with people in two areas: counted
    # once each, in the first attendee's area.
    org_a = PartnerOrganization.objects.get(pk=activity["org_a"])
    SessionFactory(organization=org_a, occurred_at=at(2024, 3, 20), duration_minutes=7)
    SessionFactory(
        organization=org_a,
        occurred_at=at(2024, 3, 21),
        duration_minutes=11,
        participants=[
            ParticipantFactory(organization=org_a, area_id=activity["south"]),
            ParticipantFactory(organization=org_a, area_id=activity["east"]),
        ],
    )
    services.refresh_rollups(start_month=march, end_month=march, organization_id=activity["org_a"])
    after = table()
    changed = {row for row in after if row not in whole}
    assert changed and {row[1] for row in changed} == {activity["org_a"]}
    assert [row for row in after if row[1] == activity["org_b"]] == [
        row for row in whole if row[1] == activity["org_b"]
    ]
    # Org A's rows are what a whole rebuild gives them.
    services.refresh_rollups()
    assert [row for row in table() if row[1] == activity["org_a"]] == [
        row for row in after if row[1] == activity["org_a"]
    ]
    assert RollupFillState.objects.filter(month=march).count() == 1


def test_a_month_never_filled_is_rebuilt_whole_even_for_one_organisation(activity) -> None:  # type: ignore[no-untyped-def]
    march = date(2024, 3, 1)
    services.refresh_rollups(start_month=march, end_month=march, organization_id=activity["org_b"])
    services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 2, 1))
    services.refresh_rollups(start_month=date(2024, 4, 1), end_month=date(2024, 6, 1))
    assert table() == expected(activity)
    assert RollupFillState.objects.filter(month=march).exists()


def test_stale_rows_disappear(activity) -> None:  # type: ignore[no-untyped-def]
    services.refresh_rollups()
    assert ActivityRollup.objects.filter(organization_id=activity["org_b"]).exists()
    Session.objects.filter(organization_id=activity["org_b"]).delete()
    services.refresh_rollups(start_month=date(2024, 3, 1), end_month=date(2024, 3, 1))
    assert not ActivityRollup.objects.filter(organization_id=activity["org_b"]).exists()


def test_management_command_and_task_run_the_same_refresh(activity) -> None:  # type: ignore[no-untyped-def]
    call_command("refresh_rollups", "--from", "2024-01", "--to", "2024-06")
    by_command = table()
    ActivityRollup.objects.all().delete()
    tasks.refresh_rollups.delay("2024-01", "2024-06")
    assert table() == by_command == expected(activity)


def test_refresh_is_one_insert_select_not_a_loop(activity) -> None:  # type: ignore[no-untyped-def]
    # Lock, 2 deletes, the INSERT ... SELECT, the fill-state insert, and the savepoint work:
    # the same whatever the number of organisations, areas, program kinds and sessions.
    def refresh() -> None:
        services.refresh_rollups(start_month=date(2024, 1, 1), end_month=date(2024, 6, 1))

    before = count_queries(refresh)
    for kind in ("mentoring", "street_outreach", "hospital_violence"):
        organization = PartnerOrganizationFactory()
        program = ProgramFactory(organization=organization, kind=kind)
        person = ParticipantFactory(
            organization=organization, area=AreaFactory(), identified_on=date(2023, 1, 1)
        )
        EnrollmentFactory(participant=person, program=program)
        for day in (3, 17):
            SessionFactory(
                organization=organization,
                program=program,
                occurred_at=at(2024, 4, day),
                participants=[person],
            )
    assert count_queries(refresh) == before
    assert ActivityRollup.objects.values("organization").distinct().count() >= 4


def _log(org_a, minutes_ago: int = 1) -> Session:  # type: ignore[no-untyped-def]
    person = ParticipantFactory(
        organization=org_a.organization, identified_on=timezone.localdate() - timedelta(days=30)
    )
    return log_session(
        worker=org_a.worker,
        organization=org_a.organization,
        participants=[person],
        program=org_a.program,
        kind=Session.Kind.MENTORING,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        duration_minutes=40,
        location=Session.Location.STREET,
    )


def test_logging_a_session_refreshes_its_month_after_commit(
    org_a, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session = _log(org_a)
    # Nothing is refreshed inside the transaction that logs the session.
    assert not ActivityRollup.objects.exists()
    # One for this rollup, one for the manager dashboard's kept counts.
    assert len(callbacks) == 2
    callbacks[0]()  # the commit happens; with no broker the task runs in process
    month = local_month_of(session.occurred_at)
    row = ActivityRollup.objects.get(month=month)
    assert (row.sessions, row.contact_minutes, row.participants_served) == (1, 40, 1)
    assert RollupFillState.objects.filter(month=month).exists()


def test_refreshes_of_a_month_due_together_are_sent_as_one(
    org_a, broker_unreachable, django_capture_on_commit_callbacks
) -> None:  # type: ignore[no-untyped-def]
    # With a broker, a refresh waits REFRESH_DELAY_SECONDS in the outbox: nothing is sent at
    # commit, so a burst of sessions piles up there.
    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            session = _log(org_a)
    month = local_month_of(session.occurred_at)
    pending = OutboxMessage.objects.filter(sent_at__isnull=True)
    assert (
        list(
            pending.filter(task_name="metrics.refresh_month").values_list(
                "task_name", "kwargs", "attempts"
            )
        )
        == [
            (
                "metrics.refresh_month",
                {"month": month.isoformat(), "organization": org_a.organization.pk},
                0,
            )
        ]
        * 3
    )
    assert not ActivityRollup.objects.exists()

    # Two tasks: this month's refresh, and the organisation's kept dashboard counts (its three
    # rows coalesced the same way).
    result = relay_pending(due_only=False, in_process=True)
    assert (result.tasks, result.rows, result.failed) == (2, 6, 0)
    assert not pending.exists()
    row = ActivityRollup.objects.get(month=month)
    assert (row.sessions, row.contact_minutes) == (3, 120)


def test_a_refused_session_queues_nothing(org_a, org_b, django_capture_on_commit_callbacks) -> None:  # type: ignore[no-untyped-def]
    outsider = ParticipantFactory(organization=org_b.organization)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception):  # noqa: B017
        log_session(
            worker=org_a.worker,
            organization=org_a.organization,
            participants=[outsider],
            kind=Session.Kind.MENTORING,
            occurred_at=timezone.now(),
            duration_minutes=10,
            location=Session.Location.STREET,
        )
    # Nothing waits in the outbox for a session that was never saved.
    assert not OutboxMessage.objects.exists()
