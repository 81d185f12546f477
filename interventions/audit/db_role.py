"""Is the application connected to PostgreSQL as a role that cannot undo the audit trail?

The audit trail's triggers refuse UPDATE and DELETE of audit rows, but a superuser can switch
triggers off for the session (`session_replication_role`) and a table's owner can disable or
drop them (ALTER TABLE … DISABLE TRIGGER). So production connects as a role that is not a
superuser and owns nothing: the tables belong to another role, which runs the migrations
(README, "Deploying")."""

from __future__ import annotations

from typing import Any

AUDIT_TABLE = "audit_auditevent"


def database_role_problems(cursor: Any) -> list[str]:
    """What is wrong with the role `cursor` is connected as, in words for the operator; empty
    when nothing is. `cursor` is a DB-API cursor (Django's or psycopg's)."""
    cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
    role, is_superuser = cursor.fetchone()
    problems = []
    if is_superuser:
        problems.append(f"the role {role} is a PostgreSQL superuser")
    # Owning a relation directly or through a role it is a member of is the same power.
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm', 'S')"
        " AND pg_has_role(current_user, c.relowner, 'USAGE') ORDER BY c.relname"
    )
    owned = [name for (name,) in cursor.fetchall()]
    if AUDIT_TABLE in owned:
        problems.append(f"the role {role} owns the audit table {AUDIT_TABLE}")
    others = [name for name in owned if name != AUDIT_TABLE]
    if others and not is_superuser:
        shown = ", ".join(others[:5]) + (f" and {len(others) - 5} more" if len(others) > 5 else "")
        problems.append(f"the role {role} owns {shown}")
    return problems
