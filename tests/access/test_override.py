"""Overriding consent in an emergency is a separate permission, needs a reason, lasts a limited
time and is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from interventions import access
from interventions.audit.models import AuditEvent
from interventions.models import ConsentOverride
from tests.access.conftest import SESSION_NOTE, fresh
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

REASON = "Hospital called: he was shot tonight and asked for his outreach worker"


@pytest.fixture
def overrider(org_b):  # type: ignore[no-untyped-def]
    org_b.manager.user_permissions.add(Permission.objects.get(codename="override_consent"))
    return org_b.manager


def test_overriding_needs_its_own_permission(a_record, org_b):
    client = logged_in(org_b.manager)
    assert client.get(reverse("consent_override")).status_code == 403
    response = client.post(
        reverse("consent_override"),
        {"participant_code": a_record.participant.participant_code, "reason": REASON},
    )
    assert response.status_code == 403
    assert not ConsentOverride.objects.exists()
    assert not access.participants_visible_to(fresh(org_b.manager)).exists()


def test_overriding_needs_a_reason(a_record, overrider):
    response = logged_in(overrider).post(
        reverse("consent_override"),
        {"participant_code": a_record.participant.participant_code, "reason": "urgent"},
    )
    assert response.status_code == 200
    assert "at least" in response.content.decode()
    assert not ConsentOverride.objects.exists()
    assert not AuditEvent.objects.filter(action="override").exists()


def test_an_override_opens_one_record_for_a_day_and_is_audited(a_record, overrider):
    client = logged_in(overrider)
    response = client.post(
        reverse("consent_override"),
        {"participant_code": a_record.participant.participant_code, "reason": REASON},
    )
    assert response.status_code == 302
    override = ConsentOverride.objects.get()
    assert override.user == overrider and override.reason == REASON
    assert override.expires_at - override.granted_at == timedelta(hours=24)
    event = AuditEvent.objects.get(action="override")
    assert event.user_id == overrider.pk and event.participant_id == a_record.participant.pk
    assert event.detail.get("override_id") == override.pk
    page = client.get(reverse("participant_detail", args=[a_record.participant.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "Emergency access" in text
    assert SESSION_NOTE not in text, "an override shows no notes of another organisation"
    # Only this person, only this user.
    assert access.participants_visible_to(fresh(overrider)).count() == 1
    other_manager_sees = access.participants_visible_to(fresh(a_record.session.worker))
    assert other_manager_sees.count() == 1  # A's own worker, unchanged


def test_an_expired_override_hides_the_record_again(a_record, overrider):
    logged_in(overrider).post(
        reverse("consent_override"),
        {"participant_code": a_record.participant.participant_code, "reason": REASON},
    )
    ConsentOverride.objects.update(
        granted_at=timezone.now() - timedelta(hours=25), expires_at=timezone.now()
    )
    assert not access.participants_visible_to(fresh(overrider)).exists()
    page = logged_in(overrider).get(reverse("participant_detail", args=[a_record.participant.pk]))
    assert page.status_code == 404


def test_only_holders_of_the_permission_are_offered_the_override(org_b, overrider, org_a):
    url = reverse("consent_override")
    assert url in logged_in(overrider).get(reverse("caseload")).content.decode()
    assert url not in logged_in(org_a.worker).get(reverse("caseload")).content.decode()
