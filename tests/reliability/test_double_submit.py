"""A double-submitted form creates one record: each creating form carries a one-time token,
and a repeat of the same submission is sent to what the first one saved (interventions/
submissions.py). The session form has its own client key in the database (tested with the
worker pages)."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.forms import single_submit as submissions
from interventions.models import CallIn, CustomNotification, Incident, Participant, Referral
from tests.conftest import OrgSetup, logged_in
from tests.factories import ParticipantFactory, UserFactory


@pytest.fixture(autouse=True)
def _no_remembered_tokens() -> None:
    cache.clear()


def _token(client: Client, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200
    token = page.context["form"].initial[submissions.FIELD_NAME]
    assert f'name="{submissions.FIELD_NAME}" value="{token}"' in page.content.decode()
    return str(token)


def _register_data(org: OrgSetup, token: str, **changes: object) -> dict[str, object]:
    return {
        "first_name": "Tavion",
        "last_name": "Okafor",
        "referral_source": Participant.ReferralSource.CALL_IN,
        "risk_tier": Participant.RiskTier.HIGHEST,
        "identified_on": timezone.localdate().isoformat(),
        "program": org.program.pk,
        "status": "referred",
        "assign_to_me": "on",
        "form_token": token,
        **changes,
    }


@pytest.mark.django_db
def test_registering_twice_with_one_form_registers_once(
    org_a: OrgSetup, worker_client: Client
) -> None:
    url = reverse("participant_register")
    data = _register_data(org_a, _token(worker_client, url))
    first = worker_client.post(url, data)
    second = worker_client.post(url, data, follow=True)
    person = Participant.objects.get(last_name="Okafor")
    assert first.status_code == 302
    assert first["Location"] == reverse("participant_detail", args=[person.pk])
    assert second.redirect_chain[-1][0] == first["Location"]
    assert "already been sent; it was saved once" in second.content.decode()
    assert Participant.objects.filter(last_name="Okafor").count() == 1


@pytest.mark.django_db
def test_a_refused_form_can_be_corrected_and_sent_again(
    org_a: OrgSetup, worker_client: Client
) -> None:
    url = reverse("participant_register")
    token = _token(worker_client, url)
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    refused = worker_client.post(url, _register_data(org_a, token, identified_on=tomorrow))
    assert refused.status_code == 200
    assert not Participant.objects.filter(last_name="Okafor").exists()
    # The redrawn form keeps the same token...
    assert refused.context["form"]["form_token"].value() == token
    # ...and the corrected submission saves.
    assert worker_client.post(url, _register_data(org_a, token)).status_code == 302
    assert Participant.objects.filter(last_name="Okafor").count() == 1


@pytest.mark.django_db
def test_two_forms_make_two_records(org_a: OrgSetup, worker_client: Client) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    url = reverse("referral_create", args=[person.pk])
    for _ in range(2):
        data = {
            "service_category": Referral.ServiceCategory.EMPLOYMENT,
            "outside_provider": "Kern County Job Center",
            "made_on": timezone.localdate().isoformat(),
            "form_token": _token(worker_client, url),
        }
        assert worker_client.post(url, data).status_code == 302
    assert Referral.objects.filter(participant=person).count() == 2


@pytest.mark.django_db
def test_a_referral_sent_twice_is_made_once(org_a: OrgSetup, worker_client: Client) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    url = reverse("referral_create", args=[person.pk])
    data = {
        "service_category": Referral.ServiceCategory.HOUSING,
        "outside_provider": "Flood Ministries",
        "made_on": timezone.localdate().isoformat(),
        "form_token": _token(worker_client, url),
    }
    responses = [worker_client.post(url, data) for _ in range(3)]
    assert {r["Location"] for r in responses} == {reverse("participant_detail", args=[person.pk])}
    assert Referral.objects.filter(participant=person).count() == 1


@pytest.mark.django_db
def test_the_referral_form_carries_a_token(org_a: OrgSetup, worker_client: Client) -> None:
    # The participant page links to this form (it no longer renders a second copy of it).
    person = ParticipantFactory(organization=org_a.organization)
    page = worker_client.get(reverse("participant_detail", args=[person.pk])).content.decode()
    assert reverse("referral_create", args=[person.pk]) in page
    form = worker_client.get(reverse("referral_create", args=[person.pk]))
    assert f'name="{submissions.FIELD_NAME}"' in form.content.decode()


@pytest.mark.django_db
def test_an_incident_sent_twice_is_recorded_once(org_a: OrgSetup) -> None:
    client = logged_in(org_a.manager)
    url = reverse("incident_new")
    data = {
        "kind": "shots_fired",
        "occurred_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "organization": org_a.organization.pk,
        "victim_count": 0,
        "form_token": _token(client, url),
    }
    first, second = client.post(url, data), client.post(url, data)
    incident = Incident.objects.get()
    assert first["Location"] == second["Location"] == reverse("incident_detail", args=[incident.pk])


@pytest.mark.django_db
def test_a_call_in_and_a_notification_sent_twice_are_recorded_once(org_a: OrgSetup) -> None:
    client = logged_in(org_a.manager)
    person = ParticipantFactory(organization=org_a.organization)
    call_in = {
        "organization": org_a.organization.pk,
        "held_on": timezone.localdate().isoformat(),
        "place": "Community center",
        "attendees": [person.pk],
        "form_token": _token(client, reverse("callin_new")),
    }
    for _ in range(2):
        assert client.post(reverse("callin_new"), call_in).status_code == 302
    assert CallIn.objects.count() == 1

    notification = {
        "participant": person.pk,
        "delivered_on": timezone.localdate().isoformat(),
        "deliverers": [org_a.worker.pk],
        "message_delivered": "on",
        "form_token": _token(client, reverse("custom_notification_new")),
    }
    for _ in range(2):
        response = client.post(reverse("custom_notification_new"), notification)
        assert response.status_code == 302, response.content.decode()[:2000]
    assert CustomNotification.objects.count() == 1


@pytest.mark.django_db
def test_a_token_is_per_user(org_a: OrgSetup) -> None:
    token = uuid.uuid4()
    mine = submissions.claim(org_a.worker, token)
    assert not mine.is_repeat
    mine.saved("/participants/1/")
    # The same token from someone else (copied from a page) is theirs to use, not a way in.
    assert not submissions.claim(org_a.manager, token).is_repeat
    again = submissions.claim(org_a.worker, token)
    assert again.earlier_url == "/participants/1/"


@pytest.mark.django_db
def test_a_repeat_while_the_first_is_still_saving_waits_then_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(submissions, "WAIT_SECONDS", 0.3)
    user = UserFactory()
    token = uuid.uuid4()
    first = submissions.claim(user, token)
    repeat = submissions.claim(user, token)
    assert repeat.still_saving and repeat.earlier_url is None
    first.release()
    assert not submissions.claim(user, token).is_repeat


@pytest.mark.django_db
def test_a_post_without_a_token_is_saved_unchecked(org_a: OrgSetup, worker_client: Client) -> None:
    """Pages drawn before the token existed still work (and are the only way to get two)."""
    url = reverse("participant_register")
    data = _register_data(org_a, "")
    assert worker_client.post(url, data).status_code == 302


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_submissions_make_one_referral(org_a: OrgSetup) -> None:
    person = ParticipantFactory(organization=org_a.organization)
    url = reverse("referral_create", args=[person.pk])
    token = _token(logged_in(org_a.worker), url)
    data = {
        "service_category": Referral.ServiceCategory.EDUCATION,
        "outside_provider": "Bakersfield Adult School",
        "made_on": timezone.localdate().isoformat(),
        "form_token": token,
    }
    start = threading.Barrier(2, timeout=10)
    statuses: list[int] = []

    def send() -> None:
        try:
            client = logged_in(org_a.worker)
            start.wait()
            statuses.append(client.post(url, data).status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert statuses == [302, 302]
    assert Referral.objects.filter(participant=person).count() == 1
