"""Who is acting, handed to the PostgreSQL audit triggers.

Why triggers (migrations/0001_initial.py) rather than model signals: signals miss
`QuerySet.update()`, `.bulk_create()` and raw SQL, and a forgotten `save()` path would leave no
trace. The database sees every write. Statement-level triggers with transition tables write the
audit rows of a whole statement in one INSERT … SELECT, so a 500 000-row `bulk_create` costs one
extra INSERT per batch, not one per row.

The triggers read the actor from PostgreSQL settings (`gvr.user_id`, `gvr.username`, `gvr.ip`,
`gvr.path`). Rather than set them once per request (an extra query on every page, and settings
that a rolled-back transaction would silently revert), an execute wrapper sets them just before
each statement that writes to a case table, on the same connection: inside a transaction with
`is_local` so they vanish at its end, and in autocommit for the session (the next audited write
sets them again before it runs). The middleware and `acting_as()` fill the context variable."""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.db import connection, connections
from django.db.backends.signals import connection_created

# The tables whose changes the triggers record (see migrations/0001_initial.py).
AUDITED_TABLES = (
    "interventions_participant",
    "interventions_enrollment",
    "interventions_enrollmentstatuschange",
    "interventions_session",
    "interventions_sessionparticipant",
    "interventions_referral",
    "interventions_membership",
    # Street intelligence and shootings (migrations/0003_response_tables.py).
    "interventions_streetgroup",
    "interventions_grouptie",
    "interventions_groupconflict",
    "interventions_incident",
    "interventions_incidentparticipant",
    "interventions_incidentgroup",
    "interventions_responsetask",
    # Demographics, outcomes and assessments (interventions/migrations/0005_...).
    "interventions_demographics",
    "interventions_outcomeevent",
    "interventions_assessment",
    "interventions_answer",
    "interventions_scalescore",
    "interventions_risktierchange",
    "interventions_instrument",
    "interventions_instrumentversion",
    "interventions_scale",
    "interventions_item",
    "interventions_itemchoice",
    # Life plans and the incentive ledger (interventions/migrations/0006_plans_and_incentives.py).
    "interventions_lifeplan",
    "interventions_goal",
    "interventions_milestone",
    "interventions_milestoneprogress",
    "interventions_planchange",
    "interventions_incentiveentry",
    "interventions_incentiveentrymilestone",
    "interventions_incentiverules",
)
_WRITE_TO_AUDITED_TABLE = re.compile(
    r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(?:' + "|".join(AUDITED_TABLES) + r')"?\b',
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


def _set_actor_before_audited_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    if isinstance(sql, str) and _WRITE_TO_AUDITED_TABLE.match(sql):
        actor = current_actor()
        connection = context["connection"]
        local = connection.in_atomic_block
        # The driver's own cursor: this bookkeeping is not one of the page's queries.
        context["cursor"].cursor.execute(
            "SELECT set_config('gvr.user_id', %s, %s), set_config('gvr.username', %s, %s),"
            " set_config('gvr.ip', %s, %s), set_config('gvr.path', %s, %s)",
            [
                "" if actor.user_id is None else str(actor.user_id),
                local,
                actor.username,
                local,
                actor.ip_address or "",
                local,
                actor.path[:500],
                local,
            ],
        )
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
