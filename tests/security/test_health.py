"""The health check: no login, no caching, 503 when a dependency is down."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_check_reports_database_and_broker_without_login(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "eager"}
    assert "no-store" in response["Cache-Control"]


def test_health_check_is_503_when_the_broker_is_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from gvr_site.celery import app

    app.conf.broker_url = settings.CELERY_BROKER_URL
    try:
        response = client.get(reverse("health"))
    finally:
        app.conf.broker_url = None
    assert response.status_code == 503
    assert response.json()["broker"] == "down"


def test_health_check_is_503_when_the_database_is_down(client, monkeypatch):
    from gvr_site import health

    monkeypatch.setattr(health, "database_state", lambda: "down")
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"
