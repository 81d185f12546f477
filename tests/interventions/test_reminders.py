"""Reminders that reach people (issue 14): a new response task is told at once through the
outbox, the rest goes out as one morning digest; counts and a link only, never a name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.parse
from datetime import datetime, time, timedelta
from unittest import mock

import pytest
from django.core import mail
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from interventions import text_messages
from interventions.models import (
    IncidentParticipant,
    Participant,
    ReminderDelivery,
    ReminderPreference,
)
from interventions.outbox.models import OutboxMessage
from interventions.selectors import reminders as reminder_selectors
from interventions.services import reminders
from interventions.services import response as response_services
from tests.factories import EnrollmentFactory, IncidentFactory, ParticipantFactory, SessionFactory
from tests.plans.factories import GoalFactory, LifePlanFactory
from tests.test_settings import BASE_DIR, DATABASE_URL, PRODUCTION, SETUP

pytestmark = pytest.mark.django_db

# Planted in every record the reminders count: none of it may appear in any message.
PLANTED = ("Zacarias", "Quintanilla", "Flaco Secreto", "PLANT-001", "PLANT-002", "Ortega")


@pytest.fixture(autouse=True)
def texts(settings):
    settings.GVR_TEXT_BACKEND = "interventions.text_messages.MemoryBackend"
    settings.GVR_SITE_URL = "https://gvr.example.org"
    settings.GVR_DIGEST_HOUR = 7
    settings.GVR_COLD_AFTER_DAYS = 14
    text_messages.MemoryBackend.outbox.clear()
    return text_messages.MemoryBackend.outbox


def at(hour: int, minute: int = 0, days: int = 0) -> datetime:
    day = timezone.localdate() + timedelta(days=days)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


def wants_texts(user, **fields) -> ReminderPreference:
    return ReminderPreference.objects.create(
        user=user, by_text=True, phone="+16615550142", **fields
    )


@pytest.fixture
def caseload(org_a) -> dict:
    """Org A's worker with one person gone cold and one follow-up due today."""
    cold = ParticipantFactory(
        organization=org_a.organization,
        first_name="Zacarias",
        last_name="Quintanilla",
        aliases="Flaco Secreto",
        participant_code="PLANT-001",
    )
    Participant.objects.filter(pk=cold.pk).update(created_at=timezone.now() - timedelta(days=30))
    due = ParticipantFactory(
        organization=org_a.organization,
        first_name="Zacarias",
        last_name="Ortega",
        participant_code="PLANT-002",
    )
    for person in (cold, due):
        EnrollmentFactory(participant=person, program=org_a.program, assigned_worker=org_a.worker)
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=timezone.now() - timedelta(days=3),
        follow_up_on=timezone.localdate(),
        participants=[due],
        notes="Zacarias Quintanilla talked about the job fair.",
    )
    return {"cold": cold, "due": due}


def every_message(texts) -> list[str]:
    return [f"{m.subject}\n{m.body}" for m in mail.outbox] + [t.body for t in texts]


def assert_names_nothing(texts) -> None:
    messages = every_message(texts)
    assert messages
    for message in messages:
        for planted in PLANTED:
            assert planted not in message, (planted, message)


def test_the_digest_carries_counts_and_a_link_and_no_name(org_a, caseload, texts):
    wants_texts(org_a.worker)
    assert reminders.send_morning_digests(now=at(7, 15)) == 1
    [email] = mail.outbox
    assert email.to == [org_a.worker.email]
    assert "Follow-ups due today or overdue: 1" in email.body
    assert "People in your caseload gone cold: 1" in email.body
    assert "Plans due for review: 0" in email.body
    assert "https://gvr.example.org/caseload/" in email.body
    [text] = texts
    assert text.to == "+16615550142"
    assert text.body == (
        "GVR: 1 follow-up due, 1 person gone cold, 0 plans to review. "
        "https://gvr.example.org/caseload/"
    )
    assert_names_nothing(texts)


def test_the_digest_counts_the_workers_plans_due_for_review_and_names_none(
    org_a, caseload, texts, settings
):
    """Plans of the worker's caseload not reviewed for GVR_PLAN_REVIEW_DAYS are counted; a
    recently reviewed plan and a colleague's caseload are not; no plan text is in any message."""
    settings.GVR_PLAN_REVIEW_DAYS = 30
    today = timezone.localdate()
    due = LifePlanFactory(
        enrollment=caseload["due"].enrollments.get(),
        drafted_by=org_a.worker,
        reviewed_on=today - timedelta(days=30),
    )
    GoalFactory(plan=due, description="Zacarias wants to leave the Ortega crew")
    LifePlanFactory(
        enrollment=caseload["cold"].enrollments.get(),
        drafted_by=org_a.worker,
        reviewed_on=today - timedelta(days=29),
    )
    colleague = EnrollmentFactory(
        participant=ParticipantFactory(organization=org_a.organization),
        program=org_a.program,
        assigned_worker=org_a.manager,
    )
    LifePlanFactory(
        enrollment=colleague, drafted_by=org_a.manager, reviewed_on=today - timedelta(days=90)
    )
    assert reminder_selectors.digest_counts(org_a.worker, today).plans_due_for_review == 1

    wants_texts(org_a.worker)
    # The worker's digest, and the manager's (the colleague whose caseload has the third plan).
    assert reminders.send_morning_digests(now=at(7, 15)) == 2
    [email] = [m for m in mail.outbox if m.to == [org_a.worker.email]]
    assert "Plans due for review: 1" in email.body
    assert texts[0].body.startswith("GVR: 1 follow-up due, 1 person gone cold, 1 plan to review.")
    assert_names_nothing(texts)
    assert not any("crew" in message for message in every_message(texts))

    # A shorter interval makes the recently reviewed plan due as well.
    settings.GVR_PLAN_REVIEW_DAYS = 29
    assert reminder_selectors.digest_counts(org_a.worker, today).plans_due_for_review == 2


def test_a_new_response_task_is_told_at_once_through_the_outbox(
    org_a, caseload, texts, django_capture_on_commit_callbacks
):
    wants_texts(org_a.worker)
    incident = IncidentFactory()
    IncidentParticipant.objects.create(
        incident=incident, participant=caseload["cold"], role=IncidentParticipant.Role.VICTIM
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert response_services.generate_response_tasks(incident.pk) == 1
    row = OutboxMessage.objects.get(task_name="interventions.send_response_task_alerts")
    assert row.kwargs == {"incident_id": incident.pk}
    # No broker in tests: the outbox ran it in process right after the commit.
    [email] = mail.outbox
    assert "You have 1 new shooting-response task: reach each person within 24 hours." in (
        email.body
    )
    assert "https://gvr.example.org/response/tasks/" in email.body
    assert len(texts) == 1
    assert_names_nothing(texts)
    # Run again (the relay sent it twice): nobody is told twice.
    assert reminders.send_response_task_alerts(incident.pk) == 0
    assert len(mail.outbox) == 1


def test_one_digest_a_day_however_often_the_beat_runs(org_a, caseload):
    for minute in (0, 15, 30):
        reminders.send_morning_digests(now=at(8, minute))
    assert len(mail.outbox) == 1
    assert ReminderDelivery.objects.filter(user=org_a.worker, kind="morning_digest").count() == 1
    # The database itself refuses a second digest for the same user and day.
    with pytest.raises(IntegrityError):
        ReminderDelivery.objects.create(
            user=org_a.worker, day=timezone.localdate(), kind="morning_digest"
        )


def test_the_digest_waits_for_the_morning_and_for_quiet_hours_to_end(org_a, caseload, texts):
    wants_texts(org_a.worker, quiet_from=time(6, 0), quiet_until=time(9, 0))
    assert reminders.send_morning_digests(now=at(5, 45)) == 0  # before GVR_DIGEST_HOUR
    assert reminders.send_morning_digests(now=at(8, 45)) == 0  # quiet hours
    assert mail.outbox == [] and texts == []
    assert reminders.send_morning_digests(now=at(9, 0)) == 1
    assert len(mail.outbox) == 1 and len(texts) == 1


def test_an_alert_in_quiet_hours_comes_by_email_only(org_a, caseload, texts):
    wants_texts(org_a.worker, quiet_from=time(22, 0), quiet_until=time(7, 0))
    incident = IncidentFactory()
    IncidentParticipant.objects.create(
        incident=incident, participant=caseload["cold"], role=IncidentParticipant.Role.SUSPECT
    )
    with mock.patch.object(reminders, "enqueue_response_task_alerts"):
        response_services.generate_response_tasks(incident.pk)
    assert reminders.send_response_task_alerts(incident.pk, now=at(23, 30)) == 1
    assert len(mail.outbox) == 1
    assert texts == []


def test_reminders_turned_off_are_not_sent(org_a, caseload, texts):
    ReminderPreference.objects.create(user=org_a.worker, morning_digest=False)
    assert reminders.send_morning_digests(now=at(8)) == 0
    assert mail.outbox == []


def test_nothing_to_tell_sends_nothing_and_decides_the_day(org_a):
    assert reminders.send_morning_digests(now=at(8)) == 0
    assert mail.outbox == []
    assert ReminderDelivery.objects.get(user=org_a.worker).channels == ""


def test_a_failed_send_gives_the_claim_back_for_the_next_run(org_a, caseload):
    with mock.patch.object(reminders, "send_mail", side_effect=OSError("SMTP down")):
        assert reminders.send_morning_digests(now=at(8)) == 0
    assert not ReminderDelivery.objects.filter(user=org_a.worker).exists()
    assert reminders.send_morning_digests(now=at(8, 15)) == 1
    assert len(mail.outbox) == 1


def test_twilio_backend_posts_to_the_rest_api_without_the_network(settings):
    settings.TWILIO_ACCOUNT_SID = "AC123"
    settings.TWILIO_AUTH_TOKEN = "secret-token"
    settings.TWILIO_FROM_NUMBER = "+16615550100"
    sent = []

    class Answer:
        status = 201

        def __enter__(self):
            return self

        def __exit__(self, *args):
            return False

    def urlopen(request, timeout):
        sent.append(request)
        return Answer()

    with mock.patch("urllib.request.urlopen", urlopen):
        text_messages.TwilioBackend().send(text_messages.TextMessage("+16615550142", "GVR: 2"))
    [request] = sent
    assert request.full_url == "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    assert request.get_method() == "POST"
    assert request.get_header("Authorization").startswith("Basic ")
    assert urllib.parse.parse_qs(request.data.decode()) == {
        "To": ["+16615550142"],
        "From": ["+16615550100"],
        "Body": ["GVR: 2"],
    }

    def refused(request, timeout):
        raise OSError("connection refused")

    with (
        mock.patch("urllib.request.urlopen", refused),
        pytest.raises(text_messages.TextMessageError),
    ):
        text_messages.TwilioBackend().send(text_messages.TextMessage("+16615550142", "GVR: 2"))


def test_file_backend_appends_one_line_per_message(settings, tmp_path):
    settings.GVR_TEXT_BACKEND = "interventions.text_messages.FileBackend"
    settings.GVR_TEXT_FILE_PATH = str(tmp_path / "texts.jsonl")
    text_messages.send_text("+16615550142", "GVR: 1")
    text_messages.send_text("+16615550142", "GVR: 2")
    lines = (tmp_path / "texts.jsonl").read_text().splitlines()
    assert [json.loads(line)["body"] for line in lines] == ["GVR: 1", "GVR: 2"]


def test_the_settings_page_saves_choices_and_wants_a_number_for_texts(org_a, worker_client):
    url = reverse("reminder_settings")
    assert worker_client.get(url).status_code == 200
    refused = worker_client.post(url, {"morning_digest": "on", "by_text": "on", "phone": ""})
    assert refused.status_code == 200
    assert "Give a mobile number to receive text messages." in refused.content.decode()
    assert not ReminderPreference.objects.exists()
    saved = worker_client.post(
        url,
        {
            "morning_digest": "on",
            "by_text": "on",
            "phone": "+1 661 555 0142",
            "quiet_from": "22:00",
            "quiet_until": "07:00",
        },
    )
    assert saved.status_code == 302
    preference = ReminderPreference.objects.get(user=org_a.worker)
    assert preference.phone == "+16615550142"
    assert (preference.response_tasks, preference.morning_digest) == (False, True)
    assert (preference.by_email, preference.by_text) == (False, True)
    assert preference.quiet_from == time(22, 0)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, "django.core.mail.backends.console.EmailBackend smtp-password-unset"),
        (PRODUCTION, "django.core.mail.backends.smtp.EmailBackend smtp-password-unset"),
        (
            PRODUCTION | {"EMAIL_HOST": "smtp.example.org", "EMAIL_HOST_PASSWORD_FILE": "{file}"},
            "django.core.mail.backends.smtp.EmailBackend smtp.example.org from-a-file",
        ),
    ],
)
def test_email_goes_to_the_console_in_development_and_smtp_in_production(
    environment, expected, tmp_path
):
    secret = tmp_path / "smtp"
    secret.write_text("from-a-file\n")
    env = {key: value.replace("{file}", str(secret)) for key, value in environment.items()}
    script = SETUP + (
        "from django.conf import settings; "
        "print(settings.EMAIL_BACKEND, "
        "settings.EMAIL_HOST if settings.EMAIL_HOST_PASSWORD else '', "
        "settings.EMAIL_HOST_PASSWORD or 'smtp-password-unset')"
    )
    done = subprocess.run(  # noqa: S603 - our own interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=BASE_DIR,
        env={"PATH": os.environ.get("PATH", ""), "DATABASE_URL": DATABASE_URL} | env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert " ".join(done.stdout.split()) == expected
