"""Celery beat runs the relay every minute and the response sweep every 10 minutes, under names
that the tasks keep wherever their code moves."""

from __future__ import annotations

from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError

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


def test_every_project_task_retries_database_errors_a_bounded_number_of_times():
    # A PostgreSQL restart fails the tasks running at that moment; they try again, with growing
    # pauses, a few times, and never forever.
    app.loader.import_default_modules()
    project = [
        task
        for name, task in app.tasks.items()
        if name.split(".")[0] in {"interventions", "metrics", "outbox"}
    ]
    assert len(project) >= 6
    for task in project:
        assert any(issubclass(OperationalError, kind) for kind in task.autoretry_for), task.name
        assert task.retry_backoff, task.name
        assert 1 <= task.max_retries <= 5, task.name
        # Celery's own cap when a task sets none is 600 seconds.
        assert getattr(task, "retry_backoff_max", 600) <= 600, task.name
