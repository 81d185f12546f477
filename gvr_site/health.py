"""`/healthz`: is this instance able to serve? For load balancers and uptime monitors: no login,
no case data, never cached.

503 when the database is unreachable, or when background work has waited in the outbox longer
than GVR_OUTBOX_ALERT_MINUTES. A broker that is down alone is "degraded", not 503: pages still
save (the work waits in the outbox), and a load balancer must not take every instance out of
service because Redis restarts."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from interventions.outbox.services import backlog, is_stuck

BROKER_TIMEOUT_SECONDS = 2.0


def database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "down"
    return "ok"


def broker_state() -> str:
    if not settings.CELERY_BROKER_URL or getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False):
        return "eager"
    from gvr_site.celery import app

    try:
        with app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception:  # any transport error means the broker cannot take tasks
        return "down"
    return "ok"


def outbox_state() -> tuple[str, int | None]:
    """("ok" or "late", minutes the oldest due row has waited), or ("unknown", None) when the
    database cannot say."""
    try:
        figures = backlog()
    except DatabaseError:
        return "unknown", None
    return ("late" if is_stuck(figures) else "ok"), figures.oldest_minutes


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    database = database_state()
    broker = broker_state()
    outbox, oldest_minutes = outbox_state() if database == "ok" else ("unknown", None)
    if database != "ok" or outbox == "late":
        status = "unavailable"
    elif broker == "down":
        status = "degraded"
    else:
        status = "ok"
    return JsonResponse(
        {
            "status": status,
            "database": database,
            "broker": broker,
            "outbox": outbox,
            "outbox_oldest_pending_minutes": oldest_minutes,
        },
        status=503 if status == "unavailable" else 200,
    )
