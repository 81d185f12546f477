"""The audit trail: every change to case data is recorded by the database, in the same
transaction, with field names and never values; audit rows cannot be changed or deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory
from django.utils import timezone

from interventions.audit import audited_view, record
from interventions.audit.context import Actor, acting_as
from interventions.audit.middleware import AuditContextMiddleware
from interventions.audit.models import AuditEvent
from interventions.models import Enrollment, Participant, Session, SessionParticipant
from tests.conftest import ALLOW_APPEND_ONLY_TRUNCATE_SQL
from tests.factories import (
    EnrollmentFactory,
    ParticipantFactory,
    ReferralFactory,
    SessionFactory,
)

pytestmark = pytest.mark.django_db


def events(**filters: object) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("id"))


def test_audit_rows_refuse_raw_sql_update_and_delete(org_a):
    record(None, "view", object_type="participant", object_id=1)
    for statement in (
        "UPDATE audit_auditevent SET username = 'someone-else'",
        "DELETE FROM audit_auditevent",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert AuditEvent.objects.filter(username="someone-else").count() == 0
    assert AuditEvent.objects.count() >= 1


def test_audit_rows_refuse_change_through_the_orm(org_a):
    event = record(None, "view", object_type="participant", object_id=1)
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(username="x")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()


APPEND_ONLY_TABLES = {
    "audit_auditevent": "append-only",
    "interventions_incentiveentry": "never truncated",
    "interventions_incentiveentrymilestone": "never changed",
}


def _truncate(table: str, setting: str | None) -> None:
    """TRUNCATE the table in a savepoint rolled back at once, with the setting given or none."""
    with transaction.atomic(), connection.cursor() as cursor:
        if setting is not None:
            cursor.execute(
                "SELECT set_config('gvr.allow_append_only_truncate', %s, true)", [setting]
            )
        # The table names are the constants above, not input.
        cursor.execute(f"TRUNCATE {table} CASCADE")
        transaction.set_rollback(True)


def test_truncate_is_refused_even_in_a_test_database_without_the_setting(org_a):
    """The exemption is the transaction's `gvr.allow_append_only_truncate = on`, which only the
    test runner's flush sets (tests/conftest.py), not the database's name."""
    record(None, "view", object_type="participant", object_id=1)
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        assert cursor.fetchone()[0].startswith("test_")
    for table, reason in APPEND_ONLY_TABLES.items():
        for no_permission in (None, "", "off", "yes"):
            with pytest.raises(DatabaseError, match=reason):
                _truncate(table, no_permission)
        _truncate(table, "on")
    assert AuditEvent.objects.count() >= 1  # every TRUNCATE above was rolled back
    with connection.cursor() as cursor:
        # The runner's statement is the one this test allows, set for its transaction only.
        assert ALLOW_APPEND_ONLY_TRUNCATE_SQL.startswith("SET LOCAL ")
        cursor.execute("SELECT current_setting('gvr.allow_append_only_truncate', true)")
        assert cursor.fetchone()[0] in {None, ""}


def test_case_data_create_update_delete_are_recorded_with_field_names_not_values(org_a):
    with acting_as(Actor(user_id=org_a.worker.pk, username="org-a-worker", ip_address="10.1.2.3")):
        participant = ParticipantFactory(organization=org_a.organization, first_name="Dario")
        participant.first_name = "Darius"
        participant.phone = "661-555-0199"
        participant.save()
        participant_id = participant.pk
        participant.delete()

    created, updated, deleted = events(object_type="participant", object_id=participant_id)
    assert [created.action, updated.action, deleted.action] == ["create", "update", "delete"]
    assert updated.changed_fields == ["first_name", "phone"]
    for event in (created, updated, deleted):
        assert event.user_id == org_a.worker.pk
        assert event.username == "org-a-worker"
        assert event.ip_address == "10.1.2.3"
        assert event.participant_id == participant_id
        assert event.outcome == "ok"
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(a)::text FROM audit_auditevent a")
        everything = " ".join(row[0] for row in cursor.fetchall())
    for personal in ("Dario", "Darius", "555-0199"):
        assert personal not in everything


def test_bulk_queryset_update_is_audited_row_by_row(org_a):
    participants = ParticipantFactory.create_batch(3, organization=org_a.organization)
    ids = [p.pk for p in participants]
    Participant.objects.filter(pk__in=ids).update(risk_tier=Participant.RiskTier.HIGHEST)

    updates = events(action="update", object_type="participant")
    assert sorted(e.object_id for e in updates) == sorted(
        p.pk for p in participants if p.risk_tier != Participant.RiskTier.HIGHEST
    )
    assert all(e.changed_fields == ["risk_tier"] for e in updates)


def test_unchanged_rows_are_not_recorded_as_updates(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    Participant.objects.filter(pk=participant.pk).update(first_name=participant.first_name)
    participant.save()  # only updated_at moves
    # (The fixture's users were given their role groups: those are real, audited changes.)
    assert events(action="update", object_type="participant") == []


def test_bulk_queryset_delete_is_audited(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    session = SessionFactory(organization=org_a.organization, worker=org_a.worker)
    SessionParticipant.objects.create(
        session=session, participant=participant, occurred_at=session.occurred_at
    )
    Session.objects.filter(pk=session.pk).delete()

    deleted = {(e.object_type, e.object_id) for e in events(action="delete")}
    assert ("session", session.pk) in deleted
    attendance = events(action="delete", object_type="sessionparticipant")
    assert len(attendance) == 1
    assert attendance[0].participant_id == participant.pk


def test_every_case_table_is_audited_with_its_participant(org_a):
    enrollment = EnrollmentFactory(
        participant__organization=org_a.organization, program=org_a.program
    )
    referral = ReferralFactory(participant=enrollment.participant, made_by=org_a.worker)
    change = enrollment.status_changes.create(
        to_status=Enrollment.Status.ACTIVE, changed_on=timezone.localdate()
    )
    created = {e.object_type: e for e in events(action="create")}
    assert {"participant", "enrollment", "referral", "enrollmentstatuschange", "membership"} <= set(
        created
    )
    for event, obj in (
        (created["enrollment"], enrollment),
        (created["referral"], referral),
        (created["enrollmentstatuschange"], change),
    ):
        assert event.object_id == obj.pk
        assert event.participant_id == enrollment.participant_id


def test_audit_row_is_written_in_the_same_transaction_as_the_change(org_a):
    with pytest.raises(RuntimeError), transaction.atomic():
        ParticipantFactory(organization=org_a.organization)
        assert AuditEvent.objects.filter(action="create", object_type="participant").exists()
        raise RuntimeError("roll back")
    assert not AuditEvent.objects.filter(object_type="participant").exists()


def test_writes_during_a_request_are_attributed_to_its_user_and_address(org_a):
    request = RequestFactory().post("/participants/new/", REMOTE_ADDR="192.0.2.7")
    request.user = org_a.manager
    created: list[Participant] = []

    def view(request):  # type: ignore[no-untyped-def]
        created.append(ParticipantFactory(organization=org_a.organization))
        from django.http import HttpResponse

        return HttpResponse("ok")

    AuditContextMiddleware(view)(request)
    (event,) = events(action="create", object_type="participant")
    assert event.object_id == created[0].pk
    assert event.user_id == org_a.manager.pk
    assert event.username == org_a.manager.username
    assert event.ip_address == "192.0.2.7"
    assert event.path == "/participants/new/"


def test_writes_outside_a_request_name_the_database_role(org_a):
    ParticipantFactory(organization=org_a.organization)
    (event,) = events(action="create", object_type="participant")
    assert event.user_id is None
    assert event.username.startswith("db:")


def test_record_view_and_export_of_a_participant(org_a, rf):
    participant = ParticipantFactory(organization=org_a.organization)
    request = rf.get(f"/participants/{participant.pk}/", REMOTE_ADDR="198.51.100.4")
    request.user = org_a.worker
    record(request, "view", participant)
    record(request, "export", object_type="caseload_export", format="csv", rows=12, note=object())

    view, export = events(action__in=["view", "export"])
    assert (view.object_type, view.object_id, view.participant_id) == (
        "participant",
        participant.pk,
        participant.pk,
    )
    assert view.user_id == org_a.worker.pk
    assert view.ip_address == "198.51.100.4"
    assert export.detail == {"format": "csv", "rows": 12}


def test_audited_view_records_success_and_refusal(org_a, rf):
    from django.http import Http404, HttpResponse

    @audited_view("view", "participant")
    def detail(request, participant_id):  # type: ignore[no-untyped-def]
        if participant_id == 999:
            raise Http404
        return HttpResponse("ok")

    request = rf.get("/participants/5/")
    request.user = org_a.worker
    detail(request, participant_id=5)
    with pytest.raises(Http404):
        detail(request, participant_id=999)
    ok, denied = events(action="view")
    assert (ok.participant_id, ok.outcome) == (5, "ok")
    assert (denied.participant_id, denied.outcome) == (999, "denied")


def test_bulk_create_of_many_sessions_is_audited_and_stays_fast(org_a):
    import time

    count = 5_000
    now = timezone.now() - timedelta(days=1)
    started = time.perf_counter()
    Session.objects.bulk_create(
        [
            Session(
                organization=org_a.organization,
                worker=org_a.worker,
                kind=Session.Kind.MENTORING,
                occurred_at=now,
                duration_minutes=30,
                location=Session.Location.STREET,
            )
            for _ in range(count)
        ],
        batch_size=5000,
    )
    elapsed = time.perf_counter() - started
    assert AuditEvent.objects.filter(action="create", object_type="session").count() == count
    # The triggers add about a quarter to a bulk insert (measured: 50 000 sessions in 15.2 s
    # with them, 12.2 s without, on the development machine); a generous bound for CI.
    assert elapsed < 15


def test_summarised_bulk_load_records_one_event_per_statement_with_its_row_count(org_a):
    from interventions.audit.context import summarise_bulk_writes

    now = timezone.now() - timedelta(days=1)
    with transaction.atomic():
        summarise_bulk_writes()
        Session.objects.bulk_create(
            Session(
                organization=org_a.organization,
                worker=org_a.worker,
                kind=Session.Kind.MENTORING,
                occurred_at=now,
                duration_minutes=30,
                location=Session.Location.STREET,
            )
            for _ in range(250)
        )
    bulk = events(action="create", object_type="session")
    assert len(bulk) == 1
    assert bulk[0].detail == {"bulk_rows": 250}
    # The summary ends with its transaction: the next write is recorded row by row again.
    SessionFactory(organization=org_a.organization, worker=org_a.worker)
    assert len(events(action="create", object_type="session")) == 2


@pytest.mark.django_db(transaction=True)
def test_summarising_bulk_writes_needs_a_transaction():
    from interventions.audit.context import summarise_bulk_writes

    with pytest.raises(RuntimeError):
        summarise_bulk_writes()
