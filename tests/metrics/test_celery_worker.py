"""The rollup refresh on a real Celery worker over the Redis broker (not eagerly in process).

Needs CELERY_TEST_BROKER_URL (for example redis://127.0.0.1:6379/15). Without it the test is
skipped, unless GVR_REQUIRE_CELERY_WORKER=1 (CI), where a skip would hide a failure."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from celery.result import EagerResult

from metrics import tasks
from metrics.models import ActivityRollup, RollupFillState
from tests.celery_support import (  # noqa: F401 - _test_database_url is imported from here too
    _test_database_url,
    sending_to,
    start_worker,
    stop_worker,
)
from tests.factories import ParticipantFactory, SessionFactory

pytestmark = pytest.mark.celery_worker

BROKER_URL = os.environ.get("CELERY_TEST_BROKER_URL", "")
REQUIRED = os.environ.get("GVR_REQUIRE_CELERY_WORKER") == "1"
WAIT_SECONDS = 60


@pytest.fixture
def broker() -> Iterator[str]:
    if not BROKER_URL:
        if REQUIRED:
            pytest.fail("GVR_REQUIRE_CELERY_WORKER=1 but CELERY_TEST_BROKER_URL is not set")
        pytest.skip("CELERY_TEST_BROKER_URL is not set")
    import redis

    try:
        redis.Redis.from_url(BROKER_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as error:
        if REQUIRED:
            pytest.fail(f"Redis is unreachable at {BROKER_URL}: {error}")
        pytest.skip(f"Redis is unreachable at {BROKER_URL}")
    yield BROKER_URL


@pytest.fixture
def real_worker(broker: str, transactional_db: None, settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """A `celery worker` process on its own queue (so no other worker on the same broker takes
    our task), and this process set to send to it instead of running tasks eagerly."""
    queue = f"gvr-test-{uuid.uuid4().hex[:12]}"
    worker = start_worker(broker, queue)
    try:
        with sending_to(settings, broker, queue=queue):
            yield queue
    finally:
        stop_worker(worker)
        # Leave nothing queued behind for the next run.
        import redis

        redis.Redis.from_url(broker).delete(queue)


def test_refresh_runs_on_a_real_worker(real_worker: str, org_a) -> None:  # type: ignore[no-untyped-def]
    person = ParticipantFactory(organization=org_a.organization, identified_on=date(2023, 1, 1))
    when = datetime(2024, 3, 12, 15, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    for minutes in (30, 50):
        SessionFactory(
            organization=org_a.organization,
            program=org_a.program,
            worker=org_a.worker,
            occurred_at=when,
            duration_minutes=minutes,
            participants=[person],
        )
    assert not ActivityRollup.objects.exists()

    result = tasks.refresh_rollups.delay("2024-03", "2024-03")
    assert not isinstance(result, EagerResult)  # sent to the broker, not run in process

    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        if RollupFillState.objects.filter(month=date(2024, 3, 1)).exists():
            break
        time.sleep(0.5)
    else:
        pytest.fail(f"The worker did not refresh the rollup within {WAIT_SECONDS} s")

    row = ActivityRollup.objects.get()
    assert (row.month, row.organization_id, row.program_kind) == (
        date(2024, 3, 1),
        org_a.organization.pk,
        org_a.program.kind,
    )
    assert (row.sessions, row.contact_minutes, row.participants_served) == (2, 80, 1)


def test_a_long_evaluation_runs_on_a_real_worker_and_the_page_process_finds_it(
    real_worker: str, broker: str
) -> None:
    from django.test import override_settings

    from metrics import evaluation, services
    from metrics.models import CrimeOutcome
    from tests.factories import AreaFactory

    city = AreaFactory(name="Workerville", slug="workerville")
    months = evaluation.months_between(date(2015, 1, 1), date(2019, 12, 1))
    CrimeOutcome.objects.bulk_create(
        CrimeOutcome(
            area=city,
            period_start=month,
            granularity="month",
            measure="homicide",
            count=10 + month.month % 4 - (4 if month.year >= 2018 else 0),
            source="Test",
        )
        for month in months
    )
    inputs = services.EvaluationInputs(area="workerville", measure="homicide", start="2018-01")
    # The page's process and the worker share results through Redis when the broker is Redis.
    with override_settings(CELERY_BROKER_URL=broker):
        prepared = services.prepare_evaluation(inputs)
        assert services.cached_evaluation(prepared) is None
        assert services.request_evaluation(prepared) is True
        assert services.evaluation_pending(prepared)
        assert services.request_evaluation(prepared) is False  # queued once
        deadline = time.monotonic() + WAIT_SECONDS
        while (result := services.cached_evaluation(prepared)) is None:
            if time.monotonic() > deadline:
                pytest.fail(f"The worker did not store the evaluation within {WAIT_SECONDS} s")
            time.sleep(0.5)
        assert not services.evaluation_pending(prepared)
        import redis

        redis.Redis.from_url(broker).delete(prepared.cache_key)
    expected = prepared.fit()
    assert result["rate_ratio"] == pytest.approx(expected["rate_ratio"], rel=1e-9)
    assert result["series"] == expected["series"]
