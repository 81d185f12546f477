"""The installable app's views (interventions/views/field.py): manifest, service worker, the
offline queue's way in and the keep-alive behind "Stay signed in"."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from interventions.audit.signals import LAST_SEEN_KEY
from interventions.models import Session
from tests.caseloads import on_caseload

pytestmark = pytest.mark.django_db


def _session_post(participant, **extra):  # type: ignore[no-untyped-def]
    data = {
        "participants": [participant.pk],
        "kind": Session.Kind.MENTORING,
        "location": Session.Location.STREET,
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "duration_minutes": "30",
        "notes": "Sent from the queue.",
        "client_key": str(uuid.uuid4()),
    }
    data.update(extra)
    return data


@pytest.fixture
def person(org_a):  # type: ignore[no-untyped-def]
    return on_caseload(org_a)


def test_manifest_names_the_app_and_its_icons(client, settings):
    response = client.get(reverse("manifest"))
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["start_url"] == reverse("home") and data["display"] == "standalone"
    sizes = {icon["sizes"] for icon in data["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in data["icons"]:
        assert finders.find(icon["src"].removeprefix(settings.STATIC_URL)), icon["src"]


def test_service_worker_is_served_at_the_root_uncached_and_names_only_the_kept_pages(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]
    assert response["Service-Worker-Allowed"] == "/"
    assert "script-src 'self'" in response["Content-Security-Policy"]
    script = response.content.decode()
    pages_line = next(line for line in script.splitlines() if line.startswith("const PAGES"))
    pages = json.loads(pages_line.split("=", 1)[1].strip().rstrip(";"))
    assert pages == [reverse("home"), reverse("caseload"), reverse("session_log")]
    assert "__VERSION__" not in script and "{%" not in script


def test_page_of_a_worker_registers_the_service_worker_and_a_managers_does_not(
    worker_client, manager_client
):
    page = worker_client.get(reverse("caseload")).content.decode()
    assert 'data-service-worker-url="/sw.js"' in page
    assert 'rel="manifest"' in page and "icons/icon.svg" in page
    manager_page = manager_client.get(reverse("org_participants")).content.decode()
    assert "data-service-worker-url" not in manager_page
    assert "data-offline-user" not in manager_page


def test_queued_session_is_saved_once_however_often_it_is_sent(worker_client, person):
    data = _session_post(person)
    for _ in range(2):
        response = worker_client.post(reverse("send_queued_session"), data)
        assert response.status_code == 200
        assert response.json() == {"saved": True}
    session = Session.objects.get()
    assert session.client_key == uuid.UUID(data["client_key"])
    assert list(session.attendance.values_list("participant_id", flat=True)) == [person.pk]


def test_queued_session_for_someone_no_longer_visible_is_refused_with_the_reason(
    worker_client, person, org_b
):
    person.organization = org_b.organization
    person.save()
    response = worker_client.post(reverse("send_queued_session"), _session_post(person))
    assert response.status_code == 422
    assert "Choose participants from your organisation." in response.content.decode()
    assert not Session.objects.exists()


def test_queued_session_sent_after_the_session_ended_is_kept_for_later(client, person):
    response = client.post(reverse("send_queued_session"), _session_post(person))
    assert response.status_code == 401
    assert response.json()["signed_in"] is False
    assert not Session.objects.exists()


def test_keep_alive_counts_as_activity(worker_client, settings):
    session = worker_client.session
    stale = int(time.time()) - (settings.GVR_SESSION_IDLE_MINUTES - 1) * 60
    session[LAST_SEEN_KEY] = stale
    session.save()
    response = worker_client.post(reverse("keep_alive"))
    assert response.status_code == 200
    assert response.json() == {
        "signed_in": True,
        "seconds_left": settings.GVR_SESSION_IDLE_MINUTES * 60,
    }
    assert worker_client.session[LAST_SEEN_KEY] > stale + 60


def test_keep_alive_after_the_idle_limit_says_the_session_ended(worker_client, settings):
    session = worker_client.session
    session[LAST_SEEN_KEY] = int(time.time()) - (settings.GVR_SESSION_IDLE_MINUTES + 1) * 60
    session.save()
    response = worker_client.post(reverse("keep_alive"))
    assert response.status_code == 401
    assert worker_client.get(reverse("caseload")).status_code == 302


def test_keep_alive_is_post_only(worker_client):
    assert worker_client.get(reverse("keep_alive")).status_code == 405


def test_logout_tells_the_browser_to_clear_what_it_kept_for_offline_use(worker_client):
    response = worker_client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"storage"'
