"""TRUNCATE of the audit table is refused unless the transaction has set
`gvr.allow_append_only_truncate = on` (SET LOCAL). It used to be let through in any database
whose name starts with `test_`: a name says nothing about what a database holds (a restored
copy of production can be called anything), and it let every statement in such a database
empty the table, not only the test runner's flush. The setting is issued by the test runner
around its flush (tests/conftest.py) and by nothing in the application. It is a guard against
an accident (`manage.py flush`, a mistyped script), not against the app's own role: that role
has no TRUNCATE right at all and owns nothing, so it can neither truncate nor switch a trigger
off (README, "The database role"; tests/security/test_db_role.py)."""

from django.db import migrations

FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION audit_event_is_append_only() RETURNS trigger
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
    IF TG_OP = 'TRUNCATE'
       AND COALESCE(current_setting('gvr.allow_append_only_truncate', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
"""

EARLIER_FUNCTION_SQL = r"""
CREATE OR REPLACE FUNCTION audit_event_is_append_only() RETURNS trigger
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
"""


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_translatable_labels")]

    operations = [migrations.RunSQL(FUNCTION_SQL, EARLIER_FUNCTION_SQL)]
