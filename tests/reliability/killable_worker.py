"""The Celery app of the worker-killed test (`celery -A tests.reliability.killable_worker`): the
project's app and its real tasks, unchanged, plus two signal handlers that hold a task's pool
child at a chosen point of its first delivery so the test can kill that child there:

- "before": in `task_prerun`, before the task's work starts;
- "after": in `task_postrun`, after the task returned (its transaction committed) and before
  the main process acknowledges the message (acks_late acknowledges only then).

The test asks for a hold by setting `gvr-kill:<task name>` to the point in the broker's Redis;
the held task's id is written to `gvr-kill:<task name>:held`, and the handlers count deliveries
and completions per task id there too."""

from __future__ import annotations

import os
import time

import redis
from celery.signals import task_postrun, task_prerun

from gvr_site.celery import app

app.conf.broker_transport_options = {
    # A message a dead worker (main process and all) held is handed out again after seconds
    # instead of production's setting; a killed pool child's message is requeued at once.
    "visibility_timeout": int(os.environ.get("GVR_TEST_VISIBILITY_TIMEOUT", "3")),
    "unacked_restore_interval": 1,
}

HOLD_SECONDS = 120


def _broker() -> redis.Redis:
    return redis.Redis.from_url(app.conf.broker_url)


def _hold_if_asked(task_name: str, task_id: str, point: str) -> None:
    broker = _broker()
    asked = broker.get(f"gvr-kill:{task_name}")
    if asked is None or asked.decode() != point:
        return
    if broker.incr(f"gvr-kill:{task_id}:held-{point}") != 1:
        return  # held once already: this is the delivery after the kill
    # The test queues the work through the outbox, which chooses the task id: tell it.
    broker.set(f"gvr-kill:{task_name}:held", task_id)
    broker.set(f"gvr-kill:{task_id}:child", os.getpid())
    time.sleep(HOLD_SECONDS)  # the test kills this process here


@task_prerun.connect
def _before_the_work(task_id: str, task: object, **_: object) -> None:
    _broker().incr(f"gvr-kill:{task_id}:deliveries")
    _hold_if_asked(task.name, task_id, "before")  # type: ignore[attr-defined]


@task_postrun.connect
def _after_the_commit(task_id: str, task: object, state: str | None = None, **_: object) -> None:
    _hold_if_asked(task.name, task_id, "after")  # type: ignore[attr-defined]
    _broker().incr(f"gvr-kill:{task_id}:finished-{state}")
