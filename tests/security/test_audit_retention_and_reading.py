"""Retention purge (never younger rows), and who can read the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from interventions.audit import record
from interventions.audit.models import AuditEvent
from interventions.audit.services import audit_events_purge_expired
from interventions.audit.tasks import purge_expired_audit_events
from tests.conftest import logged_in
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db


def _event_aged(days: int) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_auditevent (occurred_at, username, action, object_type,"
            " changed_fields, outcome, path, detail)"
            " VALUES (now() - make_interval(days => %s), 'old', 'view', 'participant',"
            " '{}', 'ok', '', '{}') RETURNING id",
            [days],
        )
        return cursor.fetchone()[0]


def test_purge_deletes_only_events_older_than_the_retention(settings):
    settings.GVR_AUDIT_RETENTION_DAYS = 2192
    expired = _event_aged(2200)
    kept = [_event_aged(2190), _event_aged(400), _event_aged(0)]
    assert audit_events_purge_expired() == 1
    remaining = set(AuditEvent.objects.values_list("id", flat=True))
    assert expired not in remaining
    assert set(kept) <= remaining
    assert audit_events_purge_expired() == 0  # idempotent


def test_purge_task_and_command_keep_younger_events(settings):
    settings.GVR_AUDIT_RETENTION_DAYS = 400
    old, young = _event_aged(401), _event_aged(399)
    assert purge_expired_audit_events.apply().get() == 1
    _event_aged(500)
    call_command("purge_audit")
    remaining = set(AuditEvent.objects.values_list("id", flat=True))
    assert old not in remaining
    assert young in remaining
    assert (
        AuditEvent.objects.filter(occurred_at__lt=timezone.now() - timedelta(days=400)).count() == 0
    )


def test_a_retention_under_a_year_is_refused(settings):
    settings.GVR_AUDIT_RETENTION_DAYS = 30
    young = _event_aged(60)
    from interventions.errors import ServiceError

    with pytest.raises(ServiceError):
        audit_events_purge_expired()
    assert AuditEvent.objects.filter(pk=young).exists()


def test_the_database_refuses_to_purge_events_younger_than_a_year():
    young = _event_aged(100)
    # Even calling the purge function directly with a recent cutoff is refused.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT audit_purge_before(now() - interval '10 days')")
    # And so is setting the purge marker by hand.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('gvr.audit_purge_before', now()::text, true)")
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=young).exists()


@pytest.fixture
def trail(org_a):  # type: ignore[no-untyped-def]
    participant = ParticipantFactory(organization=org_a.organization)
    record(None, "view", participant, user=org_a.worker)
    record(None, "export", participant, user=org_a.manager)
    return participant


def test_managers_read_who_has_seen_a_participant_and_filter_it(org_a, trail):
    client = logged_in(org_a.manager)
    url = reverse("audit_participant", kwargs={"participant_id": trail.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert org_a.worker.username.encode() in response.content
    filtered = client.get(url, {"action": "export"})
    assert org_a.manager.username.encode() in filtered.content
    assert org_a.worker.username.encode() not in filtered.content


def test_workers_cannot_read_the_audit_trail(org_a, trail):
    url = reverse("audit_participant", kwargs={"participant_id": trail.pk})
    assert logged_in(org_a.worker).get(url).status_code == 403


def test_another_organisations_manager_gets_404(org_a, org_b, trail):
    url = reverse("audit_participant", kwargs={"participant_id": trail.pk})
    assert logged_in(org_b.manager).get(url).status_code == 404


def test_audit_page_query_count_does_not_grow_with_events(
    org_a, trail, django_assert_max_num_queries
):
    for _ in range(30):
        record(None, "view", trail, user=org_a.worker)
    client = logged_in(org_a.manager)
    url = reverse("audit_participant", kwargs={"participant_id": trail.pk})
    # Ten to read the page (one of them the background-work banner's, managers' pages only),
    # one to record that it was read (issue 13).
    with django_assert_max_num_queries(11):
        assert client.get(url).status_code == 200


def test_audit_admin_is_read_only(admin_client_city, trail):
    assert admin_client_city.get(reverse("admin:audit_auditevent_changelist")).status_code == 200
    assert admin_client_city.get(reverse("admin:audit_auditevent_add")).status_code == 403
    event = AuditEvent.objects.first()
    change = admin_client_city.post(
        reverse("admin:audit_auditevent_change", args=[event.pk]), {"username": "x"}
    )
    assert change.status_code == 403
    delete = admin_client_city.post(
        reverse("admin:audit_auditevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert delete.status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk, username=event.username).exists()
    search = admin_client_city.get(
        reverse("admin:audit_auditevent_changelist"), {"q": str(trail.pk), "action": "view"}
    )
    assert search.status_code == 200
