"""Audit rows name the right person, on every case table (issue 13, finding 2).

1. The trigger function trusts the actor only when it was set for the current transaction: the
   actor hook (context.py) sets `gvr.actor_xact` to the transaction's id beside the actor, with
   `set_config(..., true)`. An actor left on a pooled connection by an earlier request, or one a
   session set with plain `SET`, carries another transaction's id and is ignored: the row names
   "unknown" (and the database role in its detail). In a test database such a write raises,
   so a write path that forgets the actor fails the suite; `SET LOCAL gvr.audit_strict = 'off'`
   lets a test check the production behaviour.
2. The change triggers are (re)installed on every table of interventions/audit/tables.py: call-ins
   and their attendees, custom notifications and their deliverers, shooting reviews and their
   follow-ups join the tables of 0001-0003 and of interventions/0005-0006 (whose triggers now
   call the function above, replaced in place)."""

import importlib

from django.db import migrations

from interventions.audit.tables import AUDITED_TABLES, drop_triggers_sql, install_triggers_sql

CASE_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION audit_record_case_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    object_type text := TG_ARGV[0];
    participant_sql text := TG_ARGV[1];
    actor_is_current boolean :=
        COALESCE(current_setting('gvr.actor_xact', true), '') = pg_current_xact_id()::text;
    strict_mode boolean := current_database() LIKE 'test\_%'
        AND COALESCE(current_setting('gvr.audit_strict', true), '') <> 'off';
    actor_id bigint;
    actor_name text;
    actor_ip inet;
    actor_path text;
    detail jsonb := '{}'::jsonb;
    columns text := 'occurred_at, user_id, username, action, object_type, object_id,'
        ' participant_id, changed_fields, ip_address, outcome, path, detail';
    bulk_mode text := COALESCE(current_setting('gvr.audit_bulk', true), '');
    action text := CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'DELETE' THEN 'delete'
        ELSE 'update' END;
    changed_rows text := CASE TG_OP WHEN 'DELETE' THEN 'audit_old_rows' ELSE 'audit_new_rows' END;
    touched boolean;
BEGIN
    IF actor_is_current THEN
        actor_id := NULLIF(current_setting('gvr.user_id', true), '')::bigint;
        actor_name := COALESCE(
            NULLIF(current_setting('gvr.username', true), ''), 'db:' || session_user);
        actor_ip := NULLIF(current_setting('gvr.ip', true), '')::inet;
        actor_path := COALESCE(current_setting('gvr.path', true), '');
    ELSE
        EXECUTE format('SELECT EXISTS (SELECT 1 FROM %I)', changed_rows) INTO touched;
        IF touched AND strict_mode THEN
            RAISE EXCEPTION 'audit: % on % with no actor set for this transaction', TG_OP,
                TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
        END IF;
        actor_name := 'unknown';
        actor_path := '';
        detail := jsonb_build_object('db_role', session_user::text);
    END IF;
    -- Synthetic bulk loads (the benchmark's volume data) set gvr.audit_bulk = 'summary' for
    -- their transaction: one event per statement with its row count, instead of one per row.
    IF bulk_mode = 'summary' THEN
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, %L, $3, NULL, NULL,'
            ' ''{}''::varchar[], $4, ''ok'', $5, $6 || jsonb_build_object(''bulk_rows'', count(*))'
            ' FROM %I',
            columns, action, changed_rows)
        USING actor_id, actor_name, object_type, actor_ip, actor_path, detail;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('INSERT', 'DELETE') THEN
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, %L, $3, r.id, %s,'
            ' ''{}''::varchar[], $4, ''ok'', $5, $6 FROM %I r',
            columns, action, participant_sql, changed_rows)
        USING actor_id, actor_name, object_type, actor_ip, actor_path, detail;
    ELSE
        EXECUTE format(
            'INSERT INTO audit_auditevent (%s) SELECT now(), $1, $2, ''update'', $3, r.id, %s,'
            ' changed.fields, $4, ''ok'', $5, $6'
            ' FROM audit_new_rows r JOIN audit_old_rows o ON o.id = r.id'
            ' CROSS JOIN LATERAL ('
            '   SELECT array_agg(n.key ORDER BY n.key)::varchar[] AS fields'
            '   FROM jsonb_each(to_jsonb(r)) n'
            '   WHERE n.key <> ''updated_at'' AND n.value IS DISTINCT FROM to_jsonb(o) -> n.key'
            ' ) changed'
            ' WHERE changed.fields IS NOT NULL',
            columns, participant_sql)
        USING actor_id, actor_name, object_type, actor_ip, actor_path, detail;
    END IF;
    RETURN NULL;
END
$$;
"""

# The tables this migration adds to those of 0001-0003; going back removes their triggers only.
_ADDED_HERE = {
    "interventions_callin",
    "interventions_callin_attendees",
    "interventions_customnotification",
    "interventions_customnotification_deliverers",
    "interventions_shootingreview",
    "interventions_reviewdecision",
}


def _previous_function_sql() -> str:
    return importlib.import_module("interventions.audit.migrations.0001_initial").CASE_FUNCTION_SQL


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_response_tables"),
        # After the migrations that made the tables of the list: the outcomes and assessments
        # (0005) and the plans and ledger (0006) installed their triggers calling this function,
        # which is replaced here, and the triggers are installed again from the one list.
        ("interventions", "0006_plans_and_incentives"),
    ]

    operations = [
        migrations.RunSQL(
            CASE_FUNCTION_SQL,
            "DROP FUNCTION audit_record_case_change() CASCADE;\n"
            + _previous_function_sql()
            + install_triggers_sql(
                tuple(entry for entry in AUDITED_TABLES if entry.table not in _ADDED_HERE)
            ),
        ),
        migrations.RunSQL(
            install_triggers_sql(),
            drop_triggers_sql(
                tuple(entry for entry in AUDITED_TABLES if entry.table in _ADDED_HERE)
            ),
        ),
    ]
