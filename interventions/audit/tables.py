"""The one list of tables whose every change the audit triggers record.

The migrations install the triggers from it, the actor hook (context.py) sets the acting user
before each write to one of them, and the tests compare it with PostgreSQL's catalogue. A table
that holds case data and is missing here is a write nobody can be held to account for: add it
here and in a migration that calls `install_triggers_sql()`.

Imports nothing of the app, so migrations can read it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AuditedTable:
    table: str
    object_type: str
    # An SQL expression over the changed row `r` giving the participant it belongs to.
    participant_sql: str = "NULL::bigint"


_BY_PARTICIPANT = "r.participant_id"

AUDITED_TABLES: tuple[AuditedTable, ...] = (
    # The case record.
    AuditedTable("interventions_participant", "participant", "r.id"),
    AuditedTable("interventions_enrollment", "enrollment", _BY_PARTICIPANT),
    AuditedTable(
        "interventions_enrollmentstatuschange",
        "enrollmentstatuschange",
        "(SELECT e.participant_id FROM interventions_enrollment e WHERE e.id = r.enrollment_id)",
    ),
    AuditedTable("interventions_session", "session"),
    AuditedTable("interventions_sessionparticipant", "sessionparticipant", _BY_PARTICIPANT),
    AuditedTable("interventions_referral", "referral", _BY_PARTICIPANT),
    AuditedTable("interventions_membership", "membership"),
    # Who may see the record: a consent given or revoked is part of the person's trail.
    AuditedTable("interventions_consent", "consent", _BY_PARTICIPANT),
    AuditedTable("interventions_consentoverride", "consentoverride", _BY_PARTICIPANT),
    # Street intelligence and shootings.
    AuditedTable("interventions_streetgroup", "streetgroup"),
    AuditedTable("interventions_grouptie", "grouptie", _BY_PARTICIPANT),
    AuditedTable("interventions_groupconflict", "groupconflict"),
    AuditedTable("interventions_incident", "incident"),
    AuditedTable("interventions_incidentparticipant", "incidentparticipant", _BY_PARTICIPANT),
    AuditedTable("interventions_incidentgroup", "incidentgroup"),
    AuditedTable("interventions_responsetask", "responsetask", _BY_PARTICIPANT),
    # Focused deterrence: call-ins and who attended, custom notifications and who delivered
    # them, the weekly shooting review and the follow-ups it assigned.
    AuditedTable("interventions_callin", "callin"),
    AuditedTable("interventions_callin_attendees", "callin_attendee", _BY_PARTICIPANT),
    AuditedTable("interventions_customnotification", "customnotification", _BY_PARTICIPANT),
    AuditedTable(
        "interventions_customnotification_deliverers",
        "customnotification_deliverer",
        "(SELECT n.participant_id FROM interventions_customnotification n"
        " WHERE n.id = r.customnotification_id)",
    ),
    AuditedTable("interventions_shootingreview", "shootingreview"),
    AuditedTable("interventions_reviewdecision", "reviewdecision"),
)

AUDITED_TABLE_NAMES: frozenset[str] = frozenset(entry.table for entry in AUDITED_TABLES)

_OPERATIONS = {
    "insert": "REFERENCING NEW TABLE AS audit_new_rows",
    "update": "REFERENCING OLD TABLE AS audit_old_rows NEW TABLE AS audit_new_rows",
    "delete": "REFERENCING OLD TABLE AS audit_old_rows",
}


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def install_triggers_sql(tables: tuple[AuditedTable, ...] = AUDITED_TABLES) -> str:
    """SQL that (re)creates the three statement-level triggers of each table, so running it
    again after a table was added changes nothing for the others."""
    statements = []
    for entry in tables:
        args = f"{_quote(entry.object_type)}, {_quote(entry.participant_sql)}"
        for operation, transition in _OPERATIONS.items():
            statements += [
                f"DROP TRIGGER IF EXISTS audit_{operation} ON {entry.table};",
                f"CREATE TRIGGER audit_{operation} AFTER {operation.upper()} ON {entry.table}"
                f" {transition} FOR EACH STATEMENT"
                f" EXECUTE FUNCTION audit_record_case_change({args});",
            ]
    return "\n".join(statements)


def drop_triggers_sql(tables: tuple[AuditedTable, ...] = AUDITED_TABLES) -> str:
    return "\n".join(
        f"DROP TRIGGER IF EXISTS audit_{operation} ON {entry.table};"
        for entry in tables
        for operation in _OPERATIONS
    )
