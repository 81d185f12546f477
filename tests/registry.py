"""What exists, read from Django's app registry and PostgreSQL's catalogue rather than from a
list written by hand: the project's tables, and a snapshot of every row in them."""

from __future__ import annotations

from pathlib import Path

from django.apps import AppConfig, apps
from django.conf import settings
from django.db import connection

# Tables outside the project's apps that hold what a request could wrongly change: users, their
# groups and permissions, their authenticators.
ACCOUNT_TABLES = (
    "auth_user",
    "auth_user_groups",
    "auth_user_user_permissions",
    "auth_group",
    "auth_group_permissions",
    "otp_totp_totpdevice",
    "otp_static_staticdevice",
    "otp_static_statictoken",
)

# The audit table grows on reads too (a page view is recorded); only its records of changes
# count as a change to data.
AUDIT_TABLE = "audit_auditevent"
AUDIT_CHANGES = "action IN ('create', 'update', 'delete')"


def project_app_configs() -> list[AppConfig]:
    """The apps whose code lives in this repository, so an app added later is covered without
    editing a list. Installed packages are not ours, even when the virtual environment sits in
    the checkout (`make` puts it in .venv/)."""
    base = Path(settings.BASE_DIR).resolve()
    ours = []
    for app in apps.get_app_configs():
        path = Path(app.path).resolve()
        if path.is_relative_to(base) and "site-packages" not in path.relative_to(base).parts:
            ours.append(app)
    return ours


def project_tables() -> set[str]:
    """Tables of the models (many-to-many tables included) of the apps of this repository."""
    return {
        model._meta.db_table
        for app in project_app_configs()
        for model in app.get_models(include_auto_created=True)
    }


def snapshot_rows() -> dict[str, str]:
    """Table -> a digest of every row of it, in one query: equal snapshots mean no row was
    added, changed or removed in any project or account table."""
    quote = connection.ops.quote_name
    parts = []
    for table in sorted(project_tables() | set(ACCOUNT_TABLES)):
        where = f" WHERE {AUDIT_CHANGES}" if table == AUDIT_TABLE else ""
        # Table names come from Django's registry, not from input.
        digest = "md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
        parts.append(f"SELECT '{table}', {digest} FROM {quote(table)} AS t{where}")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return dict(cursor.fetchall())


def changed_tables(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(table for table in after if before.get(table) != after[table])
