"""A Celery pool child killed mid-task loses nothing, on the production tasks and the pool
production runs (prefork): the out-of-memory killer takes the child that runs the task, not the
worker's main process. Tasks are acknowledged only when they end (acks_late) and a lost child's
message is given back (reject_on_worker_lost), so the main process's next child runs the task
again; the tasks are idempotent, so its effect is in the database exactly once. Each task is
killed twice: before its work starts, and after its work committed but before the message was
acknowledged (the hold points are in tests/reliability/killable_worker.py). The work is queued
as production queues it: the change's service writes an outbox row in its transaction, and the
row goes to the broker after the commit (a response) or from the relay once due (a rollup).

Needs CELERY_TEST_BROKER_URL (skipped without it, unless GVR_REQUIRE_CELERY_WORKER=1): point it
at a Redis database no real worker uses."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import redis
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone

from gvr_site.celery import app
from interventions.models import Incident, IncidentParticipant, ResponseTask, Session
from interventions.outbox.models import OutboxMessage
from interventions.outbox.services import relay_all
from interventions.services.case import log_session
from interventions.services.response import record_incident
from interventions.tasks import generate_response_tasks_task
from metrics.models import ActivityRollup, RollupFillState
from metrics.tasks import refresh_month
from tests.celery_support import sending_to, start_worker
from tests.conftest import OrgSetup
from tests.factories import (
    EnrollmentFactory,
    GroupTieFactory,
    ParticipantFactory,
    StreetGroupFactory,
)
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
            # As production runs it: a main process that takes messages and a pool child that
            # runs the task (one, so the child to kill is known).
            pool="prefork",
            # Its own process group, so the clean-up reaches every process of that worker.
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


@dataclass
class Case:
    """A production task, its arguments, and its effect in the database."""

    name: str
    queue: Callable[[], object]  # the production change that writes the outbox row
    effect: Callable[[], object]
    expected: object


def _rollup_case(org: OrgSetup) -> Case:
    person = ParticipantFactory(organization=org.organization, identified_on=date(2023, 1, 1))
    EnrollmentFactory(participant=person, program=org.program, assigned_worker=org.worker)

    def queue() -> object:
        # Logging the session writes the month's refresh to the outbox; it is due after
        # REFRESH_DELAY_SECONDS, when beat's relay sends it. The drain sends it now.
        log_session(
            worker=org.worker,
            organization=org.organization,
            participants=[person],
            program=org.program,
            kind=Session.Kind.values[0],
            location=Session.Location.values[0],
            occurred_at=datetime(2024, 5, 7, 10, 0, tzinfo=ZoneInfo("America/Los_Angeles")),
            duration_minutes=45,
        )
        return relay_all(due_only=False)

    def effect() -> object:
        rows = list(ActivityRollup.objects.values_list("month", "sessions", "contact_minutes"))
        return rows, list(RollupFillState.objects.values_list("month", flat=True))

    # One session of 45 minutes in May 2024: one row, one filled month.
    return Case(
        refresh_month.name, queue, effect, ([(date(2024, 5, 1), 1, 45)], [date(2024, 5, 1)])
    )


def _response_case(org: OrgSetup) -> Case:
    involved = [ParticipantFactory(organization=org.organization) for _ in range(2)]
    group = StreetGroupFactory()
    tied = [GroupTieFactory(group=group).participant for _ in range(2)]

    # The manager links a street group only with the street-intelligence permission.
    org.manager.user_permissions.add(Permission.objects.get(codename="view_street_intelligence"))

    def queue() -> object:
        # Recording the incident writes the generation to the outbox; it is sent to the broker
        # right after the commit.
        return record_incident(
            entered_by=org.manager,
            organization=org.organization,
            kind=Incident.Kind.SHOTS_FIRED,
            # Recent: the group ties (a year old) are current on its day.
            occurred_at=timezone.now() - timedelta(hours=1),
            participants={IncidentParticipant.Role.WITNESS: involved},
            groups=[group],
        )

    def effect() -> object:
        return sorted(ResponseTask.objects.values_list("participant_id", flat=True))

    # One task per person involved or tied to the group involved, each once.
    return Case(
        generate_response_tasks_task.name,
        queue,
        effect,
        sorted(person.pk for person in involved + tied),
    )


CASES = {"rollup refresh": _rollup_case, "response generation": _response_case}


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[1])


@pytest.mark.parametrize("point", ["before", "after"])
@pytest.mark.parametrize("case_name", sorted(CASES))
def test_a_task_whose_pool_child_is_killed_takes_effect_once(
    workers: Callable[[], subprocess.Popen],
    broker: str,  # noqa: F811 - the fixture imported above
    org_a: OrgSetup,
    case_name: str,
    point: str,
) -> None:
    case = CASES[case_name](org_a)
    store = redis.Redis.from_url(broker)
    store.set(f"gvr-kill:{case.name}", point)
    task_id = ""

    def count(key: str) -> int:
        return int(store.get(f"gvr-kill:{task_id}:{key}") or 0)

    try:
        worker = workers()
        case.queue()
        # Through the outbox: its row was handed to the broker and marked sent.
        rows = list(OutboxMessage.objects.filter(task_name=case.name))
        assert len(rows) == 1 and rows[0].sent_at is not None, rows
        _wait_for(lambda: store.get(f"gvr-kill:{case.name}:held"), f"the task held {point}")
        task_id = store.get(f"gvr-kill:{case.name}:held").decode()
        _wait_for(lambda: store.get(f"gvr-kill:{task_id}:child"), "the held child's pid")
        child = int(store.get(f"gvr-kill:{task_id}:child"))
        assert child != worker.pid and _parent_of(child) == worker.pid, "not the pool child"
        if point == "before":
            assert case.effect() != case.expected, "the work was done before it started"
        else:
            assert case.effect() == case.expected, "held after the work, it must be committed"

        os.kill(child, signal.SIGKILL)
        _wait_for(lambda: count("finished-SUCCESS") == 1, "the task running again after the kill")
        assert worker.poll() is None, "only the child was killed; the worker goes on"
        assert case.effect() == case.expected
        assert count("deliveries") == 2

        # Acknowledged this time: it is not run a third time.
        time.sleep(4)
        assert (count("deliveries"), count("finished-SUCCESS")) == (2, 1)
        assert case.effect() == case.expected
    finally:
        held = store.keys(f"gvr-kill:{task_id}:*") if task_id else []
        store.delete(f"gvr-kill:{case.name}", f"gvr-kill:{case.name}:held", *held)


def _registered_tasks() -> dict[str, object]:
    app.loader.import_default_modules()
    return {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}


def test_every_task_is_acknowledged_late_and_given_back_when_its_worker_is_lost() -> None:
    tasks = _registered_tasks()
    assert {refresh_month.name, generate_response_tasks_task.name} <= tasks.keys()
    loose = sorted(
        name
        for name, task in tasks.items()
        if not (task.acks_late and task.reject_on_worker_lost)  # type: ignore[attr-defined]
    )
    assert loose == [], "tasks that a killed worker would lose"


def test_the_broker_gives_back_a_message_only_after_the_longest_task_could_end() -> None:
    """Redis hands an unacknowledged message to another worker after the visibility timeout.
    Shorter than a task's hard time limit (or a countdown), and a task still running starts a
    second time; Redis's default is an hour, which a shooting's response tasks must not wait
    when a whole worker is lost."""
    from metrics.services import REFRESH_DELAY_SECONDS

    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    longest = max(
        task.time_limit or app.conf.task_time_limit  # type: ignore[attr-defined]
        for task in _registered_tasks().values()
    )
    assert timeout > longest
    assert timeout > REFRESH_DELAY_SECONDS
    assert timeout < 60 * 60
