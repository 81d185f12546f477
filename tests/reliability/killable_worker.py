"""The Celery app of the worker-killed test (`celery -A tests.reliability.killable_worker`):
the project's app, with messages a killed worker held handed out again after seconds instead of
the default hour, and one task that is slow the first time it is delivered, so the test can kill
the worker while it runs. The task's work is the project's own rollup refresh plus one audit row
(append-only), written in one transaction, so "done once" is countable in the database."""

from __future__ import annotations

import os
import time

import redis

from gvr_site.celery import app

app.conf.broker_transport_options = {
    # A message delivered but not acknowledged for this long is given to a worker again.
    "visibility_timeout": int(os.environ.get("GVR_TEST_VISIBILITY_TIMEOUT", "3")),
    # How often a worker looks for such messages (kombu's default is 10 s).
    "unacked_restore_interval": 1,
}

SLOW_FIRST_DELIVERY_SECONDS = 60


@app.task(name="tests.reliability.slow_rollup_refresh")
def slow_rollup_refresh(month: str, marker: str) -> int:
    from datetime import date

    from django.db import transaction

    from interventions.audit.models import AuditEvent
    from metrics import services

    broker = redis.Redis.from_url(app.conf.broker_url)
    deliveries = broker.incr(f"{marker}:deliveries")
    if deliveries == 1:
        # The test kills the worker during this sleep.
        time.sleep(SLOW_FIRST_DELIVERY_SECONDS)
    day = date.fromisoformat(f"{month}-01")
    with transaction.atomic():
        rows = services.refresh_rollups(start_month=day, end_month=day)
        AuditEvent.objects.create(
            action=AuditEvent.Action.EXPORT,
            object_type="reliability_test",
            detail={"marker": marker},
        )
    broker.incr(f"{marker}:completed")
    return rows
