"""The change triggers of 0001 on the street-intelligence and shooting tables: groups, ties and
conflicts, incidents with the people and groups involved, and the response tasks they create
are audited like participant records (SECURITY.md, issue 6)."""

from django.db import migrations

# table, object type, participant expression (as in 0001_initial.CASE_TABLES)
TABLES = [
    ("interventions_streetgroup", "streetgroup", "NULL::bigint"),
    ("interventions_grouptie", "grouptie", "r.participant_id"),
    ("interventions_groupconflict", "groupconflict", "NULL::bigint"),
    ("interventions_incident", "incident", "NULL::bigint"),
    ("interventions_incidentparticipant", "incidentparticipant", "r.participant_id"),
    ("interventions_incidentgroup", "incidentgroup", "NULL::bigint"),
    ("interventions_responsetask", "responsetask", "r.participant_id"),
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _triggers() -> str:
    statements = []
    for table, object_type, participant_sql in TABLES:
        args = f"{_quote(object_type)}, {_quote(participant_sql)}"
        statements += [
            f"CREATE TRIGGER audit_insert AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS audit_new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});",
            f"CREATE TRIGGER audit_update AFTER UPDATE ON {table}"
            " REFERENCING OLD TABLE AS audit_old_rows NEW TABLE AS audit_new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});",
            f"CREATE TRIGGER audit_delete AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS audit_old_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});",
        ]
    return "\n".join(statements)


DROP_TRIGGERS = "\n".join(
    f"DROP TRIGGER IF EXISTS audit_{op} ON {table};"
    for table, _, _ in TABLES
    for op in ("insert", "update", "delete")
)


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_override_action_and_consent_triggers"),
        ("interventions", "0002_response"),
    ]

    operations = [
        migrations.RunSQL(_triggers(), DROP_TRIGGERS),
    ]
