"""The audit tables, the trigger that keeps audit rows append-only, the retention purge, and the
triggers that record every change to case data (see interventions/audit/context.py for why)."""

import django.contrib.postgres.fields
import django.contrib.postgres.indexes
import django.db.models.deletion
import django.db.models.functions.datetime
from django.conf import settings
from django.db import migrations, models

# Audit rows are append-only. The one exception is the retention purge: inside
# audit_purge_before() the setting gvr.audit_purge_before lets rows older than it go, and only
# when it is itself more than a year in the past (SECURITY.md: kept at least a year), whatever
# the application's retention setting says. TRUNCATE is refused too, except in a test database
# (Django's test runner empties every table with TRUNCATE between transactional tests).
APPEND_ONLY_SQL = r"""
CREATE FUNCTION audit_event_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    purge_before timestamptz := NULLIF(current_setting('gvr.audit_purge_before', true), '');
BEGIN
    IF TG_OP = 'DELETE'
       AND purge_before IS NOT NULL
       AND purge_before <= now() - interval '365 days'
       AND OLD.occurred_at < purge_before THEN
        RETURN OLD;
    END IF;
    IF TG_OP = 'TRUNCATE' AND current_database() LIKE 'test\_%' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_event_append_only
    BEFORE UPDATE OR DELETE ON audit_auditevent
    FOR EACH ROW EXECUTE FUNCTION audit_event_is_append_only();
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_is_append_only();

CREATE FUNCTION audit_purge_before(cutoff timestamptz) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    deleted bigint;
BEGIN
    PERFORM set_config('gvr.audit_purge_before', cutoff::text, true);
    DELETE FROM audit_auditevent WHERE occurred_at < cutoff;
    GET DIAGNOSTICS deleted = ROW_COUNT;
    PERFORM set_config('gvr.audit_purge_before', '', true);
    RETURN deleted;
END
$$;
"""

DROP_APPEND_ONLY_SQL = """
DROP FUNCTION IF EXISTS audit_purge_before(timestamptz);
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
DROP TRIGGER IF EXISTS audit_event_append_only ON audit_auditevent;
DROP FUNCTION IF EXISTS audit_event_is_append_only();
"""

# One function for every case table, told by its trigger arguments which object type it records
# and how to find the participant a row belongs to (an SQL expression over the row alias `r`).
# Statement-level AFTER triggers with transition tables: one INSERT … SELECT per statement,
# however many rows it touched (bulk_create, QuerySet.update/delete). For an update, the changed
# column names come from comparing each row's old and new JSON; `updated_at` alone is not a
# change, and a row that did not change is not recorded.
CASE_FUNCTION_SQL = r"""
CREATE FUNCTION audit_record_case_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    object_type text := TG_ARGV[0];
    participant_sql text := TG_ARGV[1];
    actor_id bigint := NULLIF(current_setting('gvr.user_id', true), '')::bigint;
    actor_name text := COALESCE(
        NULLIF(current_setting('gvr.username', true), ''), 'db:' || session_user);
    actor_ip inet := NULLIF(current_setting('gvr.ip', true), '')::inet;
    actor_path text := COALESCE(current_setting('gvr.path', true), '');
    columns text := 'occurred_at, user_id, username, action, object_type, object_id,'
        ' participant_id, changed_fields, ip_address, outcome, path, detail';
    bulk_mode text := COALESCE(current_setting('gvr.audit_bulk', true), '');
BEGIN
    -- Synthetic bulk loads (the benchmark's volume data) set gvr.audit_bulk = 'summary' for
    -- their transaction: one event per statement with its row count, instead of one per row.
    IF bulk_mode = 'summary' THEN
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, %L, $3, NULL, NULL,'
            ' ''{}''::varchar[], $4, ''ok'', $5, jsonb_build_object(''bulk_rows'', count(*))'
            ' FROM %I',
            columns,
            CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'DELETE' THEN 'delete' ELSE 'update' END,
            CASE TG_OP WHEN 'DELETE' THEN 'audit_old_rows' ELSE 'audit_new_rows' END)
        USING actor_id, actor_name, object_type, actor_ip, actor_path;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, ''create'', $3, r.id, %s,'
            ' ''{}''::varchar[], $4, ''ok'', $5, ''{}''::jsonb FROM audit_new_rows r',
            columns, participant_sql)
        USING actor_id, actor_name, object_type, actor_ip, actor_path;
    ELSIF TG_OP = 'DELETE' THEN
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, ''delete'', $3, r.id, %s,'
            ' ''{}''::varchar[], $4, ''ok'', $5, ''{}''::jsonb FROM audit_old_rows r',
            columns, participant_sql)
        USING actor_id, actor_name, object_type, actor_ip, actor_path;
    ELSE
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, ''update'', $3, r.id, %s,'
            ' changed.fields, $4, ''ok'', $5, ''{}''::jsonb'
            ' FROM audit_new_rows r JOIN audit_old_rows o ON o.id = r.id'
            ' CROSS JOIN LATERAL ('
            '   SELECT array_agg(n.key ORDER BY n.key)::varchar[] AS fields'
            '   FROM jsonb_each(to_jsonb(r)) n'
            '   WHERE n.key <> ''updated_at'' AND n.value IS DISTINCT FROM to_jsonb(o) -> n.key'
            ' ) changed'
            ' WHERE changed.fields IS NOT NULL',
            columns, participant_sql)
        USING actor_id, actor_name, object_type, actor_ip, actor_path;
    END IF;
    RETURN NULL;
END
$$;
"""

# table, object type, participant expression
CASE_TABLES = [
    ("interventions_participant", "participant", "r.id"),
    ("interventions_enrollment", "enrollment", "r.participant_id"),
    (
        "interventions_enrollmentstatuschange",
        "enrollmentstatuschange",
        "(SELECT e.participant_id FROM interventions_enrollment e WHERE e.id = r.enrollment_id)",
    ),
    ("interventions_session", "session", "NULL::bigint"),
    ("interventions_sessionparticipant", "sessionparticipant", "r.participant_id"),
    ("interventions_referral", "referral", "r.participant_id"),
    ("interventions_membership", "membership", "NULL::bigint"),
]


def _quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _case_triggers() -> str:
    statements = [CASE_FUNCTION_SQL]
    for table, object_type, participant_sql in CASE_TABLES:
        args = f"{_quote(object_type)}, {_quote(participant_sql)}"
        statements.append(
            f"CREATE TRIGGER audit_insert AFTER INSERT ON {table}"
            " REFERENCING NEW TABLE AS audit_new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});"
        )
        statements.append(
            f"CREATE TRIGGER audit_update AFTER UPDATE ON {table}"
            " REFERENCING OLD TABLE AS audit_old_rows NEW TABLE AS audit_new_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});"
        )
        statements.append(
            f"CREATE TRIGGER audit_delete AFTER DELETE ON {table}"
            " REFERENCING OLD TABLE AS audit_old_rows"
            f" FOR EACH STATEMENT EXECUTE FUNCTION audit_record_case_change({args});"
        )
    return "\n".join(statements)


CASE_TRIGGERS_SQL = _case_triggers()

DROP_CASE_TRIGGERS_SQL = "\n".join(
    [
        f"DROP TRIGGER IF EXISTS audit_{op} ON {table};"
        for table, _, _ in CASE_TABLES
        for op in ("insert", "update", "delete")
    ]
    + ["DROP FUNCTION IF EXISTS audit_record_case_change();"]
)


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("interventions", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="UserSession",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("session_key", models.CharField(max_length=40, unique=True)),
                (
                    "started_at",
                    models.DateTimeField(db_default=django.db.models.functions.datetime.Now()),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="login_sessions",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="AuditEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "occurred_at",
                    models.DateTimeField(
                        db_default=django.db.models.functions.datetime.Now(), editable=False
                    ),
                ),
                ("username", models.CharField(blank=True, max_length=150)),
                (
                    "action",
                    models.CharField(
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
                        ],
                        max_length=20,
                    ),
                ),
                ("object_type", models.CharField(blank=True, max_length=60)),
                ("object_id", models.BigIntegerField(blank=True, null=True)),
                ("participant_id", models.BigIntegerField(blank=True, null=True)),
                (
                    "changed_fields",
                    django.contrib.postgres.fields.ArrayField(
                        base_field=models.CharField(max_length=63),
                        blank=True,
                        default=list,
                        size=None,
                    ),
                ),
                ("ip_address", models.GenericIPAddressField(blank=True, null=True)),
                (
                    "outcome",
                    models.CharField(
                        choices=[("ok", "OK"), ("denied", "Denied"), ("failed", "Failed")],
                        default="ok",
                        max_length=10,
                    ),
                ),
                ("path", models.CharField(blank=True, max_length=500)),
                ("detail", models.JSONField(blank=True, default=dict)),
                (
                    "user",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at", "-id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("participant_id__isnull", False)),
                        fields=["participant_id", "-occurred_at"],
                        name="audit_participant_idx",
                    ),
                    models.Index(fields=["object_type", "object_id"], name="audit_object_idx"),
                    models.Index(fields=["user", "-occurred_at"], name="audit_user_idx"),
                    django.contrib.postgres.indexes.BrinIndex(
                        fields=["occurred_at"], name="audit_occurred_brin"
                    ),
                ],
            },
        ),
        migrations.RunSQL(APPEND_ONLY_SQL, DROP_APPEND_ONLY_SQL),
        migrations.RunSQL(CASE_TRIGGERS_SQL, DROP_CASE_TRIGGERS_SQL),
    ]
