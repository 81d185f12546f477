"""The health check: no login, no caching, 503 when a dependency is down."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_health_check_reports_database_and_broker_without_login(client):
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "database": "ok",
        "broker": "eager",
        "outbox": "ok",
        "outbox_oldest_pending_minutes": 0,
    }
    assert "no-store" in response["Cache-Control"]


def test_health_check_is_degraded_not_503_when_the_broker_is_down(client, broker_unreachable):
    # Pages still save (the work waits in the outbox): a load balancer must not take every
    # instance out of service because Redis restarts.
    response = client.get(reverse("health"))
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["broker"] == "down"


def test_health_check_is_503_when_the_database_is_down(client, monkeypatch):
    from gvr_site import health

    monkeypatch.setattr(health, "database_state", lambda: "down")
    response = client.get(reverse("health"))
    assert response.status_code == 503
    assert response.json()["database"] == "down"
