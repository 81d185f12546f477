"""Audit rows name the person who acted, in the current transaction, on every case table
(issue 13, finding 2): the actor never leaks from an earlier request on a pooled connection,
PostgreSQL's catalogue has the triggers on every table that holds case data, and every page that
shows a participant's record leaves a view event."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from interventions.audit.middleware import AuditContextMiddleware
from interventions.audit.models import AuditEvent
from interventions.audit.tables import AUDITED_TABLE_NAMES, AUDITED_TABLES
from interventions.models import (
    CallIn,
    CustomNotification,
    Participant,
    ReviewDecision,
    ShootingReview,
)
from interventions.services.sharing import record_consent
from tests.conftest import logged_in
from tests.factories import ParticipantFactory

# Reference data that case tables point at but that holds nothing about a person: a reference
# to them does not make a table case data.
REFERENCE_TABLES = {
    "auth_user",
    "interventions_partnerorganization",
    "interventions_program",
    "interventions_area",
}


def _catalogue(sql: str, params: list[object] | None = None) -> list[tuple[str, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchall()


def _foreign_keys() -> list[tuple[str, str]]:
    """(table, referenced table) for every foreign key in the public schema."""
    return _catalogue(
        "SELECT c.conrelid::regclass::text, c.confrelid::regclass::text FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE c.contype = 'f' AND n.nspname = 'public'"
    )


# Case data that names nobody by key: the weekly shooting review's decisions are written about
# people. The walk below adds the tables linked to it (its follow-ups).
CASE_TABLES_WITHOUT_A_PARTICIPANT_KEY = {"interventions_shootingreview"}


def _case_tables() -> set[str]:
    """Every table holding a participant reference, and the tables linked to those by a
    foreign key either way (the session of an attendance, the call-in of its attendees, the
    review of a follow-up), reference data aside: grown until nothing new joins."""
    keys = _foreign_keys()
    case = {"interventions_participant", *CASE_TABLES_WITHOUT_A_PARTICIPANT_KEY}
    while True:
        grown = set(case)
        for table, referenced in keys:
            if referenced in case and table.startswith("interventions_"):
                grown.add(table)
            if table in case and referenced.startswith("interventions_"):
                grown.add(referenced)
        grown -= REFERENCE_TABLES
        if grown == case:
            return case
        case = grown


def _triggers_by_table() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table, trigger in _catalogue(
        "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
        " WHERE NOT tgisinternal AND tgname IN ('audit_insert', 'audit_update', 'audit_delete')"
        " AND tgfoid = 'audit_record_case_change'::regproc"
    ):
        found.setdefault(table, set()).add(trigger)
    return found


@pytest.mark.django_db
def test_every_table_holding_case_data_has_the_audit_triggers_from_the_one_list():
    case_tables = _case_tables()
    triggers = _triggers_by_table()
    # The tables the issue named are found by the catalogue walk, not only by the list.
    assert {
        "interventions_consent",
        "interventions_consentoverride",
        "interventions_callin",
        "interventions_callin_attendees",
        "interventions_customnotification",
        "interventions_shootingreview",
        "interventions_reviewdecision",
    } <= case_tables
    assert case_tables - AUDITED_TABLE_NAMES == set(), "case tables missing from tables.py"
    all_three = {"audit_insert", "audit_update", "audit_delete"}
    assert {table for table in AUDITED_TABLE_NAMES if triggers.get(table) != all_three} == set(), (
        "tables of tables.py without their three triggers"
    )
    assert set(triggers) == AUDITED_TABLE_NAMES, "triggers on a table the actor hook ignores"


@pytest.mark.django_db
def test_the_actor_hook_sets_the_actor_before_writes_to_every_listed_table():
    from interventions.audit.context import _WRITE_TO_AUDITED_TABLE

    # The statement shapes Django writes, for each table of the list.
    shapes = ('INSERT INTO "{}" ("id") VALUES (1)', 'UPDATE "{}" SET "id" = 1', 'DELETE FROM "{}"')
    for entry in AUDITED_TABLES:
        for shape in shapes:
            assert _WRITE_TO_AUDITED_TABLE.match(shape.format(entry.table))
    assert not _WRITE_TO_AUDITED_TABLE.match('INSERT INTO "interventions_callinx" VALUES (1)')


def _request_as(user: object, path: str) -> HttpRequest:
    request = RequestFactory().post(path, REMOTE_ADDR="192.0.2.10")
    request.user = user
    return request


@pytest.mark.django_db(transaction=True)
def test_a_consent_written_in_the_next_request_on_the_connection_names_its_own_user(org_a, org_b):
    """The probe's case: a write by another organisation's worker outside a transaction left
    the actor on the pooled connection, and a consent recorded next by a Garden Pathways worker
    was attributed to them."""
    participant = ParticipantFactory(organization=org_a.organization)
    outsider_record = ParticipantFactory(organization=org_b.organization)

    def first_view(request: HttpRequest) -> HttpResponse:
        # A write in autocommit, as any code path outside a service's transaction makes.
        Participant.objects.filter(pk=outsider_record.pk).update(phone="661-555-0100")
        return HttpResponse("ok")

    def second_view(request: HttpRequest) -> HttpResponse:
        record_consent(
            participant=participant, recorded_by=org_a.manager, organization=org_b.organization
        )
        return HttpResponse("ok")

    AuditContextMiddleware(first_view)(_request_as(org_b.worker, "/first/"))
    AuditContextMiddleware(second_view)(_request_as(org_a.manager, "/second/"))

    (event,) = AuditEvent.objects.filter(object_type="consent", action="create")
    assert (event.user_id, event.username) == (org_a.manager.pk, org_a.manager.username)
    assert event.path == "/second/"
    assert event.participant_id == participant.pk


def _raw_write_with_a_session_wide_actor(participant_id: int) -> None:
    """An actor set for the whole session (as the hook did before) and a write that does not
    pass through the hook: the triggers must not believe it."""
    raw = connection.cursor().cursor  # the driver's cursor: the hook does not see it
    raw.execute("SELECT set_config('gvr.username', 'mallory', false)")
    raw.execute("SELECT set_config('gvr.user_id', '999', false)")
    raw.execute("SELECT set_config('gvr.actor_xact', '1', false)")
    raw.execute(
        "UPDATE interventions_participant SET phone = '661-555-0111' WHERE id = %s",
        [participant_id],
    )


@pytest.mark.django_db(transaction=True)
def test_an_actor_from_an_earlier_transaction_is_refused_in_tests_and_unknown_otherwise(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    connection.ensure_connection()

    with (
        pytest.raises(psycopg.Error, match="no actor set for this transaction"),
        transaction.atomic(),
    ):
        _raw_write_with_a_session_wide_actor(participant.pk)

    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL gvr.audit_strict = 'off'")
        _raw_write_with_a_session_wide_actor(participant.pk)
    (event,) = AuditEvent.objects.filter(object_type="participant", action="update")
    assert (event.user_id, event.username) == (None, "unknown")
    assert event.detail["db_role"]


@pytest.mark.django_db
def test_call_ins_notifications_reviews_and_decisions_are_audited(org_a):
    participant = ParticipantFactory(organization=org_a.organization)
    call_in = CallIn.objects.create(
        held_on=timezone.localdate(), place="Community hall", organization=org_a.organization
    )
    call_in.attendees.add(participant)
    notification = CustomNotification.objects.create(
        participant=participant, organization=org_a.organization, delivered_on=timezone.localdate()
    )
    notification.deliverers.add(org_a.worker)
    review = ShootingReview.objects.create(
        period_start=timezone.localdate() - timedelta(days=7),
        period_end=timezone.localdate(),
        organization=org_a.organization,
        decisions="Reach the two people tied to the incident",
        recorded_by=org_a.manager,
    )
    ReviewDecision.objects.create(review=review, assigned_to=org_a.worker, description="Call")
    CustomNotification.objects.filter(pk=notification.pk).update(response_notes="x")

    created = {e.object_type: e for e in AuditEvent.objects.filter(action="create").order_by("id")}
    assert {
        "callin",
        "callin_attendee",
        "customnotification",
        "customnotification_deliverer",
        "shootingreview",
        "reviewdecision",
    } <= set(created)
    assert created["callin_attendee"].participant_id == participant.pk
    assert created["customnotification_deliverer"].participant_id == participant.pk
    (update,) = AuditEvent.objects.filter(action="update", object_type="customnotification")
    assert update.changed_fields == ["response_notes"]


def _views_of(participant_id: int, since: int) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            id__gt=since, action="view", participant_id=participant_id, outcome="ok"
        )
    )


def _last_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


@pytest.mark.django_db
def test_every_page_showing_a_participant_record_leaves_a_view_event(org_a, city_admin):
    participant = ParticipantFactory(organization=org_a.organization)
    pages = [
        (logged_in(org_a.worker), reverse("participant_edit", args=[participant.pk])),
        (
            logged_in(city_admin),
            reverse("admin:interventions_participant_change", args=[participant.pk]),
        ),
        (logged_in(org_a.manager), reverse("audit_participant", args=[participant.pk])),
        # The demographics form shows what is on record.
        (logged_in(org_a.worker), reverse("demographics_edit", args=[participant.pk])),
    ]
    for client, url in pages:
        start = _last_id()
        response = client.get(url)
        assert response.status_code == 200, url
        assert len(_views_of(participant.pk, start)) == 1, url


@pytest.mark.django_db
def test_a_missing_participant_on_the_admin_change_page_records_no_view(city_admin):
    start = _last_id()
    logged_in(city_admin).get(reverse("admin:interventions_participant_change", args=[999999]))
    assert not AuditEvent.objects.filter(id__gt=start, action="view", outcome="ok").exists()


@pytest.mark.django_db(transaction=True)
def test_plan_and_outcome_tables_name_the_acting_user_through_the_last_trigger_function(org_a):
    """Their triggers were made by interventions/0005-0006, before audit/0004 replaced the
    function they call: a write from a request names its user and the participant."""
    from tests.factories import EnrollmentFactory
    from tests.outcomes.factories import OutcomeEventFactory
    from tests.plans.factories import GoalFactory, LifePlanFactory

    participant = ParticipantFactory(organization=org_a.organization)
    enrollment = EnrollmentFactory(participant=participant, program=org_a.program)

    def view(request: HttpRequest) -> HttpResponse:
        plan = LifePlanFactory(enrollment=enrollment, drafted_by=org_a.worker)
        GoalFactory(plan=plan)
        OutcomeEventFactory(participant=participant)
        return HttpResponse("ok")

    AuditContextMiddleware(view)(_request_as(org_a.worker, "/plans/"))

    events = AuditEvent.objects.filter(
        action="create", object_type__in=["lifeplan", "goal", "outcomeevent"]
    )
    assert {event.object_type for event in events} == {"lifeplan", "goal", "outcomeevent"}
    for event in events:
        assert (event.user_id, event.path, event.participant_id) == (
            org_a.worker.pk,
            "/plans/",
            participant.pk,
        ), event.object_type
