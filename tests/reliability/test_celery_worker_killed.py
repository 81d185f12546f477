"""A Celery worker killed mid-task loses nothing: the task is acknowledged only when it ends
(CELERY_TASK_ACKS_LATE), so when its worker is killed with SIGKILL the message stays with the
broker and another worker runs it; its effect is in the database exactly once.

Needs CELERY_TEST_BROKER_URL (skipped without it, unless GVR_REQUIRE_CELERY_WORKER=1). The test
worker gives unacknowledged messages back after 3 seconds (tests/reliability/killable_worker.py):
point CELERY_TEST_BROKER_URL at a Redis database no real worker uses."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import redis

from gvr_site.celery import app
from interventions.audit.models import AuditEvent
from metrics.models import ActivityRollup
from tests.celery_support import sending_to, start_worker
from tests.conftest import OrgSetup
from tests.factories import ParticipantFactory, SessionFactory
from tests.metrics.test_celery_worker import broker  # noqa: F401

pytestmark = pytest.mark.celery_worker

WAIT_SECONDS = 60


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")


@pytest.fixture
def workers(  # type: ignore[no-untyped-def]
    broker: str,  # noqa: F811
    transactional_db: None,
    settings,
) -> Iterator[Callable[[], subprocess.Popen]]:
    """Starts test workers on a queue of their own; sends this process's tasks there."""
    queue = f"gvr-killed-{uuid.uuid4().hex[:12]}"
    started: list[subprocess.Popen] = []

    def start() -> subprocess.Popen:
        worker = start_worker(
            broker,
            queue,
            app_module="tests.reliability.killable_worker",
            name=f"{queue}-{len(started)}",
            extra_env={"GVR_TEST_VISIBILITY_TIMEOUT": "3"},
            # Its own process group, so a kill reaches every process of that worker.
            new_session=True,
        )
        started.append(worker)
        return worker

    try:
        with sending_to(settings, broker, queue=queue):
            yield start
    finally:
        for worker in started:
            if worker.poll() is None:
                worker.terminate()
            try:
                output, _ = worker.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
                output, _ = worker.communicate()
            if os.environ.get("GVR_SHOW_WORKER_LOG"):
                print(output)
        redis.Redis.from_url(broker).delete(queue)


def test_a_task_whose_worker_is_killed_runs_once_on_another_worker(
    workers: Callable[[], subprocess.Popen],
    broker: str,  # noqa: F811 - the fixture imported above
    org_a: OrgSetup,
) -> None:
    person = ParticipantFactory(organization=org_a.organization, identified_on=date(2023, 1, 1))
    SessionFactory(
        organization=org_a.organization,
        program=org_a.program,
        worker=org_a.worker,
        occurred_at=datetime(2024, 5, 7, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
        duration_minutes=45,
        participants=[person],
    )
    marker = f"gvr-test-{uuid.uuid4().hex}"
    store = redis.Redis.from_url(broker)

    def count(name: str) -> int:
        return int(store.get(f"{marker}:{name}") or 0)

    def done_in_database() -> int:
        return AuditEvent.objects.filter(
            object_type="reliability_test", detail__marker=marker
        ).count()

    try:
        first = workers()
        app.send_task("tests.reliability.slow_rollup_refresh", args=["2024-05", marker])
        _wait_for(lambda: count("deliveries") == 1, "The first worker starting the task")

        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
        assert first.returncode == -signal.SIGKILL
        assert count("completed") == 0
        assert done_in_database() == 0
        assert not ActivityRollup.objects.exists()

        workers()
        _wait_for(lambda: count("completed") == 1, "Another worker running the task again")
        assert count("deliveries") == 2
        assert done_in_database() == 1
        row = ActivityRollup.objects.get()
        assert (row.month, row.sessions, row.contact_minutes) == (date(2024, 5, 1), 1, 45)

        # Acknowledged this time: it is not handed out a third time.
        time.sleep(5)
        assert (count("deliveries"), count("completed"), done_in_database()) == (2, 1, 1)
    finally:
        store.delete(f"{marker}:deliveries", f"{marker}:completed")
