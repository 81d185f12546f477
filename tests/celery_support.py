"""Pointing this process's Celery app at a broker, and running a real worker, for the tests that
need real services."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection

from gvr_site.celery import app

BASE_DIR = Path(__file__).resolve().parents[1]
KEYS = ("broker_url", "task_always_eager", "task_default_queue")


def _test_database_url() -> str:
    """A DATABASE_URL for the database pytest-django created, so a worker sees our rows."""
    db = connection.settings_dict
    host = db["HOST"] or ""
    socket = host if host.startswith("/") else ""
    netloc = quote(db["USER"] or "")
    if db["PASSWORD"]:
        netloc += ":" + quote(db["PASSWORD"])
    netloc += "@" + ("" if socket else host)
    if db["PORT"]:
        netloc += f":{db['PORT']}"
    url = f"postgres://{netloc}/{quote(db['NAME'])}"
    return url + (f"?host={quote(socket)}" if socket else "")


def _drop_connections() -> None:
    # Pooled connections still point at the previous broker.
    app._pool = None
    app.amqp._producer_pool = None


@contextmanager
def sending_to(settings: Any, broker_url: str, *, queue: str | None = None) -> Iterator[None]:
    """Tasks go to `broker_url` (onto `queue`) instead of running in process. `settings` is
    pytest-django's fixture: the health check and the form de-duplication read the Django
    setting, Celery its own copy."""
    saved = {key: app.conf[key] for key in KEYS}
    settings.CELERY_BROKER_URL = broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    app.conf.update(broker_url=broker_url, task_always_eager=False)
    if queue:
        app.conf.task_default_queue = queue
    _drop_connections()
    try:
        yield
    finally:
        app.conf.update(saved)
        _drop_connections()


def start_worker(
    broker_url: str,
    queue: str,
    *,
    app_module: str = "gvr_site",
    name: str | None = None,
    extra_env: dict[str, str] | None = None,
    new_session: bool = False,
    pool: str = "solo",
) -> subprocess.Popen:
    """A `celery worker` of `app_module` on its own queue, against the test database. With
    `new_session` it gets a process group of its own, so a kill reaches all of it. `pool` is
    "solo" (the task runs in the worker's process) or "prefork" (production's pool, with one
    child)."""
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": _test_database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        **(extra_env or {}),
    }
    return subprocess.Popen(  # noqa: S603 - our own virtualenv's celery
        [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            app_module,
            "worker",
            f"--pool={pool}",
            *(["--concurrency=1"] if pool == "prefork" else []),
            "--loglevel=INFO",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"{name or queue}@%h",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=new_session,
    )


def stop_worker(worker: subprocess.Popen) -> None:
    worker.terminate()
    try:
        output, _ = worker.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
    if os.environ.get("GVR_SHOW_WORKER_LOG"):
        print(output)
