"""The "override" action (an emergency opening of a record without consent), and the change
triggers of 0001 on the consent and override tables: who granted, changed or revoked a consent
is part of the participant's trail."""

from django.db import migrations, models

# table, object type, participant expression (as in 0001_initial.CASE_TABLES)
TABLES = [
    ("interventions_consent", "consent", "r.participant_id"),
    ("interventions_consentoverride", "consentoverride", "r.participant_id"),
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
        ("audit", "0001_initial"),
        ("interventions", "0004_consent_and_roles"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="action",
            field=models.CharField(
                choices=[
                    ("create", "Create"),
                    ("update", "Update"),
                    ("delete", "Delete"),
                    ("view", "View"),
                    ("export", "Export"),
                    ("login", "Login"),
                    ("login_failed", "Failed login"),
                    ("logout", "Logout"),
                    ("session_expired", "Session expired"),
                    ("lockout", "Lockout"),
                    ("override", "Consent override"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunSQL(_triggers(), DROP_TRIGGERS),
    ]
