"""Production's database role cannot undo the audit trail (issue 13, production role): the
check `make serve` runs refuses a superuser or owner role, and connected as a role that owns
nothing, audit rows refuse UPDATE and DELETE even through raw SQL, and the triggers cannot be
switched off."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from interventions.audit.db_role import database_role_problems

# A throwaway role inside the test database, dropped after the test.
PASSWORD = "app-role-test-password"


@pytest.mark.django_db
def test_the_serve_check_refuses_the_superuser_the_suite_runs_as():
    with pytest.raises(CommandError, match="superuser"):
        call_command("check_db_role")


@pytest.fixture
def app_role(transactional_db: None) -> Iterator[psycopg.Connection]:
    """A login role like production's: not a superuser, owning nothing, with the table rights
    the application needs (the retention purge needs DELETE on the audit table; the trigger
    lets it remove only rows over a year old)."""
    role = f"gvr_app_test_{os.getpid()}"
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{PASSWORD}'")
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        cursor.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        )
        cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    settings = connection.settings_dict
    as_role = psycopg.connect(
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        dbname=settings["NAME"],
        user=role,
        password=PASSWORD,
        autocommit=True,
    )
    try:
        yield as_role
    finally:
        as_role.close()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP OWNED BY {role}")
            cursor.execute(f"DROP ROLE {role}")


def _refused(as_role: psycopg.Connection, statement: str, reason: str) -> None:
    with pytest.raises(psycopg.Error, match=reason):
        as_role.execute(statement)


def test_as_the_app_role_audit_rows_refuse_update_and_delete_even_through_raw_sql(app_role):
    assert database_role_problems(app_role.cursor()) == []
    app_role.execute(
        "INSERT INTO audit_auditevent (username, action, object_type, changed_fields, outcome,"
        " path, detail) VALUES ('app', 'view', 'participant', '{}', 'ok', '', '{}')"
    )
    _refused(app_role, "UPDATE audit_auditevent SET username = 'someone-else'", "append-only")
    _refused(app_role, "DELETE FROM audit_auditevent", "append-only")
    _refused(app_role, "TRUNCATE audit_auditevent", "permission denied")
    # The ways round the trigger are closed to a role that owns nothing.
    _refused(
        app_role,
        "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
        "must be owner",
    )
    _refused(app_role, "DROP TRIGGER audit_event_append_only ON audit_auditevent", "must be owner")
    _refused(app_role, "SET session_replication_role = replica", "permission denied")
    (count,) = app_role.execute(
        "SELECT count(*) FROM audit_auditevent WHERE username = 'someone-else'"
    ).fetchone()
    assert count == 0


def test_the_app_role_cannot_switch_off_or_drop_any_audit_trigger(app_role):
    """Every trigger that writes or guards the audit trail, read from the catalogue, and every
    way to stop it firing that a role owning nothing might try: all refused."""
    triggers = app_role.execute(
        "SELECT tgrelid::regclass::text, tgname::text FROM pg_trigger"
        " WHERE NOT tgisinternal"
        " AND (tgname LIKE 'audit%' OR tgrelid = 'audit_auditevent'::regclass)"
        " ORDER BY 1, 2"
    ).fetchall()
    assert ("audit_auditevent", "audit_event_no_truncate") in triggers
    assert ("interventions_participant", "audit_update") in triggers
    for table, trigger in triggers:
        _refused(app_role, f'ALTER TABLE {table} DISABLE TRIGGER "{trigger}"', "must be owner")
        _refused(app_role, f'DROP TRIGGER "{trigger}" ON {table}', "must be owner")
    for table in {table for table, _ in triggers}:
        _refused(app_role, f"ALTER TABLE {table} DISABLE TRIGGER ALL", "must be owner")
    for function in ("audit_event_is_append_only", "audit_record_case_change"):
        _refused(app_role, f"DROP FUNCTION {function}() CASCADE", "must be owner")
    # session_replication_role = replica would skip every ordinary trigger: refused however set.
    _refused(app_role, "SET session_replication_role = replica", "permission denied")
    _refused(
        app_role,
        "SELECT set_config('session_replication_role', 'replica', false)",
        "permission denied",
    )
    with app_role.transaction():
        _refused(app_role, "SET LOCAL session_replication_role = replica", "permission denied")
    # The setting the test runner's flush uses gives the app's role no TRUNCATE right.
    app_role.execute("SET gvr.allow_append_only_truncate = on")
    _refused(app_role, "TRUNCATE audit_auditevent", "permission denied")
    _refused(app_role, "ALTER TABLE audit_auditevent OWNER TO CURRENT_USER", "must be owner")
