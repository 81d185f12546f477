"""Redis stopped and started while a real Celery worker runs: work saved while it was down waits
in the outbox and completes once it is back.

The test starts its own `redis-server` on a free port (the shared one cannot be restarted), and a
worker against it. Skipped without `redis-server`, unless GVR_REQUIRE_CELERY_WORKER=1 (CI)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path

import pytest
import redis
from django.core.management import call_command
from django.urls import reverse

from interventions.models import Incident, ResponseTask
from interventions.outbox.models import OutboxMessage
from metrics.models import ActivityRollup
from tests.celery_support import sending_to, start_worker, stop_worker
from tests.conftest import OrgSetup, logged_in
from tests.interventions.test_worker_views import in_caseload, session_post
from tests.outbox.pages import post_incident

pytestmark = pytest.mark.celery_worker

REQUIRED = os.environ.get("GVR_REQUIRE_CELERY_WORKER") == "1"
WAIT_SECONDS = 90


def _wait_for(condition: Callable[[], bool], what: str, seconds: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own, which it can stop and start again on the same port.
    Append-only file on, as in production, so a restart keeps what was queued."""

    def __init__(self, directory: Path) -> None:
        self.port = _free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(  # noqa: S603 - the machine's redis-server, our arguments
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.directory),
                "--appendonly",
                "yes",
                "--save",
                "",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_for(self.answers, "redis-server starting", seconds=20)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=1).ping())
        except redis.RedisError:
            return False


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[OwnRedis]:
    if shutil.which("redis-server") is None:
        if REQUIRED:
            pytest.fail("GVR_REQUIRE_CELERY_WORKER=1 but redis-server is not installed")
        pytest.skip("redis-server is not installed")
    server = OwnRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def worker_on_own_redis(own_redis: OwnRedis, transactional_db: None, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A `celery worker` against our Redis, and this process sending there."""
    queue = f"gvr-restart-{uuid.uuid4().hex[:12]}"
    worker = start_worker(own_redis.url, queue)
    try:
        with sending_to(settings, own_redis.url, queue=queue):
            yield queue
    finally:
        stop_worker(worker)


def _record_incident(org: OrgSetup, person) -> Incident:  # type: ignore[no-untyped-def]
    assert post_incident(org, person).status_code == 302
    return Incident.objects.order_by("-pk").first()


def test_work_saved_while_redis_restarts_completes_on_the_running_worker(
    worker_on_own_redis: str, own_redis: OwnRedis, org_a: OrgSetup, client
) -> None:
    person = in_caseload(org_a)
    # Before the restart: sent at commit, done by the worker (and the web process now holds a
    # pooled connection to Redis, which the restart leaves stale).
    before = _record_incident(org_a, person)
    _wait_for(lambda: ResponseTask.objects.filter(incident=before).exists(), "The first tasks")

    own_redis.stop()
    logged = logged_in(org_a.worker).post(reverse("session_log"), session_post([person]))
    assert logged.status_code == 302
    during = _record_incident(org_a, person)
    # The response tasks, the rollup's month and the manager dashboard's kept counts.
    assert OutboxMessage.objects.filter(sent_at__isnull=True).count() == 3
    health = client.get(reverse("health")).json()
    assert (health["status"], health["broker"]) == ("degraded", "down")

    own_redis.start()
    out = StringIO()
    call_command("dispatch_pending", stdout=out)
    assert "Sent 3 tasks for 3 pending rows." in out.getvalue()
    _wait_for(
        lambda: (
            ResponseTask.objects.filter(incident=during).exists()
            and ActivityRollup.objects.exists()
        ),
        "The worker doing the work saved while Redis was down",
    )
    assert ResponseTask.objects.filter(incident=during).count() == 1
    assert ActivityRollup.objects.get().sessions == 1
