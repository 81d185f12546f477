"""Celery beat runs the relay every minute and the response sweep every 10 minutes, under names
that the tasks keep wherever their code moves."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings

from gvr_site.celery import app


def test_every_scheduled_task_is_registered_under_its_name():
    app.loader.import_default_modules()
    missing = {
        entry["task"]
        for entry in settings.CELERY_BEAT_SCHEDULE.values()
        if entry["task"] not in app.tasks
    }
    assert missing == set()


def test_the_relay_runs_every_minute_and_the_sweep_every_ten():
    by_task = {entry["task"]: entry["schedule"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert by_task["outbox.relay_pending"] == crontab()
    assert by_task["interventions.sweep_missing_response_tasks"] == crontab(minute="*/10")


def test_the_task_names_outbox_rows_hold_are_registered():
    # Rows written before a deploy are sent after it: a renamed task would strand them.
    app.loader.import_default_modules()
    held = {"interventions.tasks.generate_response_tasks_task", "metrics.refresh_month"}
    assert held - set(app.tasks) == set()
