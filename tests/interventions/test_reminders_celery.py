"""One digest per person per day even when two beats overlap, proved on real Celery workers
over Redis: two workers each run the digest task at the same moment, and the database's
unique (user, day, kind) constraint lets only one of them send each person's digest.

Needs CELERY_TEST_BROKER_URL (for example redis://127.0.0.1:6379/14); skipped without it,
unless GVR_REQUIRE_CELERY_WORKER=1."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from interventions.models import Participant, ReminderDelivery
from interventions.tasks import send_morning_digests
from tests.celery_support import sending_to, start_worker
from tests.factories import EnrollmentFactory, MembershipFactory, ParticipantFactory, UserFactory

# The same Redis as the rollup's real-worker test, skipped or failed the same way without one.
from tests.metrics.test_celery_worker import broker  # noqa: F401

pytestmark = pytest.mark.celery_worker

WAIT_SECONDS = 90
PLANTED = "Quintanilla"


def _cold_person_for(org, worker) -> None:
    person = ParticipantFactory(organization=org.organization, last_name=PLANTED)
    Participant.objects.filter(pk=person.pk).update(created_at=timezone.now() - timedelta(days=30))
    EnrollmentFactory(participant=person, program=org.program, assigned_worker=worker)


def _messages(mail_dir: Path) -> list[str]:
    return [
        message
        for path in sorted(mail_dir.glob("*.log"))
        for message in path.read_text().split("-" * 79)
        if "Subject:" in message
    ]


def test_two_overlapping_beats_send_one_digest_per_person(
    broker,  # noqa: F811 - the fixture imported above
    transactional_db,
    settings,
    tmp_path,
    org_a,
):
    second = UserFactory(username="org-a-second-worker")
    MembershipFactory(user=second, organization=org_a.organization)
    for worker in (org_a.worker, second):
        _cold_person_for(org_a, worker)
    members = 3  # the two workers and the manager (nothing to tell: decided, not sent)

    queue = f"gvr-test-{uuid.uuid4().hex[:12]}"
    mail_dir = tmp_path / "mail"
    env = {
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "GVR_DIGEST_HOUR": "0",  # due whenever the test runs
        "GVR_TEXT_BACKEND": "interventions.text_messages.FileBackend",
        "GVR_TEXT_FILE_PATH": str(tmp_path / "texts.jsonl"),
    }
    workers = [start_worker(broker, queue, name=f"{queue}-{n}", extra_env=env) for n in (1, 2)]
    outputs = []
    import redis

    client = redis.Redis.from_url(broker)
    try:
        with sending_to(settings, broker, queue=queue):
            # Two beats at once: the same task twice, one for each worker.
            send_morning_digests.delay()
            send_morning_digests.delay()
        deadline = time.monotonic() + WAIT_SECONDS
        decided = ReminderDelivery.objects.filter(kind="morning_digest", sent_at__isnull=False)
        while time.monotonic() < deadline:
            if decided.count() == members and client.llen(queue) == 0:
                break
            time.sleep(0.5)
    finally:
        for worker in workers:
            worker.terminate()  # a warm shutdown: a task under way is finished first
        for worker in workers:
            output, _ = worker.communicate(timeout=60)
            outputs.append(output)
        client.delete(queue)

    ran = sum(output.count("interventions.send_morning_digests") for output in outputs)
    assert sum(o.count("succeeded") for o in outputs) == 2, outputs
    assert ran >= 2, outputs
    assert ReminderDelivery.objects.filter(kind="morning_digest").count() == members
    messages = _messages(mail_dir)
    assert len(messages) == 2, messages
    recipients = sorted(
        line.split(":", 1)[1].strip()
        for message in messages
        for line in message.splitlines()
        if line.startswith("To:")
    )
    assert recipients == sorted([org_a.worker.email, second.email])
    for message in messages:
        assert "gone cold: 1" in message
        assert PLANTED not in message
