"""Who is acting, handed to the PostgreSQL audit triggers.

Why triggers (migrations/0001_initial.py) rather than model signals: signals miss
`QuerySet.update()`, `.bulk_create()` and raw SQL, and a forgotten `save()` path would leave no
trace. The database sees every write. Statement-level triggers with transition tables write the
audit rows of a whole statement in one INSERT … SELECT, so a 500 000-row `bulk_create` costs one
extra INSERT per batch, not one per row.

The triggers read the actor from PostgreSQL settings (`gvr.user_id`, `gvr.username`, `gvr.ip`,
`gvr.path`). Rather than set them once per request (an extra query on every page, and settings
that a rolled-back transaction would silently revert), an execute wrapper sets them just before
each statement that writes to a table of tables.AUDITED_TABLES, on the same connection, for the
current transaction only (`set_config(..., true)`, with the transaction's id in `gvr.actor_xact`);
a write in autocommit gets a transaction of its own for it. A setting made for the whole session
would outlive the request on a pooled connection and name its user in the next request's rows,
so the triggers ignore any actor not set in their own transaction (migrations/0004). The
middleware and `acting_as()` fill the context variable."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections, transaction
from django.db.backends.signals import connection_created

from interventions.audit.tables import AUDITED_TABLE_NAMES

# Longest names first, so `interventions_callin` does not stop short of `…_callin_attendees`.
_WRITE_TO_AUDITED_TABLE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?:'
    + "|".join(sorted(AUDITED_TABLE_NAMES, key=len, reverse=True))
    + r')"?(?![\w])',
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Actor:
    user_id: int | None = None
    username: str = ""
    ip_address: str | None = None
    path: str = ""


# An Actor, or a function that makes one: a request's user is looked up only when a write needs it.
_current_actor: contextvars.ContextVar[Actor | Callable[[], Actor] | None] = contextvars.ContextVar(
    "gvr_audit_actor", default=None
)


def current_actor() -> Actor:
    value = _current_actor.get()
    if value is None:
        return Actor()
    return value() if callable(value) else value


@contextmanager
def acting_as(actor: Actor | Callable[[], Actor]) -> Iterator[None]:
    """Attribute the case-data writes in this block to `actor` (requests, tasks, commands)."""
    token = _current_actor.set(actor)
    try:
        yield
    finally:
        _current_actor.reset(token)


def _set_actor_for_this_transaction(cursor: Any) -> None:
    """Hand the acting user to the triggers for the current transaction only, with the
    transaction's id: the triggers ignore an actor set by any other transaction."""
    actor = current_actor()
    cursor.execute(
        "SELECT set_config('gvr.user_id', %s, true), set_config('gvr.username', %s, true),"
        " set_config('gvr.ip', %s, true), set_config('gvr.path', %s, true),"
        " set_config('gvr.actor_xact', pg_current_xact_id()::text, true)",
        [
            "" if actor.user_id is None else str(actor.user_id),
            actor.username,
            actor.ip_address or "",
            actor.path[:500],
        ],
    )


def _set_actor_before_audited_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    if not (isinstance(sql, str) and _WRITE_TO_AUDITED_TABLE.match(sql)):
        return execute(sql, params, many, context)
    connection = context["connection"]
    # The driver's own cursor: this bookkeeping is not one of the page's queries.
    raw_cursor = context["cursor"].cursor
    if connection.get_autocommit():
        # In autocommit the setting and the write would be two transactions, and a setting for
        # the session would outlive the request on a pooled connection (issue 13): make the
        # write and its actor one transaction.
        with transaction.atomic(using=connection.alias):
            _set_actor_for_this_transaction(raw_cursor)
            return execute(sql, params, many, context)
    _set_actor_for_this_transaction(raw_cursor)
    return execute(sql, params, many, context)


def _install_on(connection: Any) -> None:
    if connection.vendor != "postgresql":
        return
    if _set_actor_before_audited_writes not in connection.execute_wrappers:
        connection.execute_wrappers.append(_set_actor_before_audited_writes)


def _on_connection_created(sender: Any, connection: Any, **kwargs: Any) -> None:
    _install_on(connection)


def install() -> None:
    connection_created.connect(_on_connection_created, dispatch_uid="gvr_audit_actor")
    # Connections opened before the app registry was ready (rare) get it too.
    for open_connection in connections.all(initialized_only=True):
        _install_on(open_connection)


def summarise_bulk_writes() -> None:
    """Within the current transaction, record each statement on case tables as one audit event
    with its row count instead of one event per row. Only for synthetic bulk loads (benchmark
    volume data), where a million per-row events would cost more than the load itself."""
    if not connection.in_atomic_block:
        raise RuntimeError("summarise_bulk_writes() applies to a transaction; call it inside one.")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL gvr.audit_bulk = 'summary'")
        # COPY is not a write the hook recognises: name the actor for the whole transaction.
        _set_actor_for_this_transaction(cursor.cursor)
