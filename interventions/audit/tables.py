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
_BY_ENROLLMENT = (
    "(SELECT e.participant_id FROM interventions_enrollment e WHERE e.id = r.enrollment_id)"
)
_BY_ASSESSMENT = (
    "(SELECT a.participant_id FROM interventions_assessment a WHERE a.id = r.assessment_id)"
)
_BY_PLAN = (
    "(SELECT e.participant_id FROM interventions_lifeplan p"
    " JOIN interventions_enrollment e ON e.id = p.enrollment_id WHERE p.id = r.plan_id)"
)

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
    # Demographics, outcomes and assessments (interventions/migrations/0005).
    AuditedTable("interventions_demographics", "demographics", _BY_PARTICIPANT),
    AuditedTable("interventions_outcomeevent", "outcomeevent", _BY_PARTICIPANT),
    AuditedTable("interventions_assessment", "assessment", _BY_PARTICIPANT),
    AuditedTable("interventions_answer", "answer", _BY_ASSESSMENT),
    AuditedTable("interventions_scalescore", "scalescore", _BY_ASSESSMENT),
    AuditedTable("interventions_risktierchange", "risktierchange", _BY_PARTICIPANT),
    # The instruments are reference data, but a change to one changes what an answer means.
    AuditedTable("interventions_instrument", "instrument"),
    AuditedTable("interventions_instrumentversion", "instrumentversion"),
    AuditedTable("interventions_scale", "scale"),
    AuditedTable("interventions_item", "item"),
    AuditedTable("interventions_itemchoice", "itemchoice"),
    # Life plans and the incentive ledger (interventions/migrations/0006).
    AuditedTable("interventions_lifeplan", "lifeplan", _BY_ENROLLMENT),
    AuditedTable("interventions_goal", "goal", _BY_PLAN),
    AuditedTable(
        "interventions_milestone",
        "milestone",
        "(SELECT e.participant_id FROM interventions_goal g"
        " JOIN interventions_lifeplan p ON p.id = g.plan_id"
        " JOIN interventions_enrollment e ON e.id = p.enrollment_id WHERE g.id = r.goal_id)",
    ),
    AuditedTable("interventions_milestoneprogress", "milestoneprogress"),
    AuditedTable("interventions_planchange", "planchange", _BY_PLAN),
    AuditedTable("interventions_incentiveentry", "incentiveentry", _BY_ENROLLMENT),
    AuditedTable("interventions_incentiveentrymilestone", "incentiveentrymilestone"),
    AuditedTable("interventions_incentiverules", "incentiverules"),
    # Not here, as they hold no case data: the reminder preferences (a staff member's own
    # channels and quiet hours) and deliveries (who was sent a counts-only reminder on which
    # day), interventions/migrations/0007; the kept caseload counts (numbers per organisation
    # and worker, rebuilt from the enrolments), 0008.
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
