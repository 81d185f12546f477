"""The tables of this feature are audited by the database like the other case tables, and the
report's downloads leave an export event."""

from __future__ import annotations

import pytest
from django.db import connection

from interventions.audit.context import Actor, acting_as
from interventions.audit.models import AuditEvent
from interventions.audit.tables import AUDITED_TABLE_NAMES
from interventions.models import outcomes as outcome_models
from tests.factories import ParticipantFactory
from tests.outcomes.factories import OutcomeEventFactory

pytestmark = pytest.mark.django_db

# Every table of this feature: answers, scores and instruments as much as the case data.
TABLES = [
    model._meta.db_table for model in map(outcome_models.__dict__.get, outcome_models.__all__)
]


def test_every_new_table_has_the_three_audit_triggers_and_carries_the_actor():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, array_agg(tgname::text ORDER BY tgname)"
            " FROM pg_trigger WHERE NOT tgisinternal AND tgname LIKE 'audit_%%'"
            " GROUP BY tgrelid"
        )
        triggers = dict(cursor.fetchall())
    assert len(TABLES) == 11
    for name in TABLES:
        assert triggers.get(name) == ["audit_delete", "audit_insert", "audit_update"], name
        assert name in AUDITED_TABLE_NAMES, f"{name}: writes would not name who made them"


def test_an_outcome_event_leaves_an_audit_row_naming_the_person(org_a):
    person = ParticipantFactory(organization=org_a.organization)
    with acting_as(Actor(user_id=org_a.worker.pk, username=org_a.worker.username)):
        event = OutcomeEventFactory(participant=person, notes="never in the audit")
    row = AuditEvent.objects.get(object_type="outcomeevent", object_id=event.pk)
    assert (row.action, row.participant_id, row.username) == (
        "create",
        person.pk,
        org_a.worker.username,
    )
    assert "never in the audit" not in str(row.detail) + str(row.changed_fields)
