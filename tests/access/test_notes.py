"""Narrative notes are visible only inside the organisation that wrote them: never to an
organisation the record is shared with, never in the admin, the metrics, an analyst's view or
an export."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions import access
from interventions.models import Participant
from interventions.selectors import worker as worker_selectors
from tests.access.conftest import REFERRAL_NOTE, SESSION_NOTE, fresh, share
from tests.conftest import logged_in
from tests.factories import AreaFactory
from tests.test_scoping import content

pytestmark = pytest.mark.django_db

NOTES = (SESSION_NOTE, REFERRAL_NOTE)


def shows_notes(text: str) -> bool:
    return any(note in text for note in NOTES)


def test_notes_are_read_inside_the_writing_organisation(a_record, org_a):
    user = fresh(org_a.worker)
    assert access.sessions_visible_to(user).get(pk=a_record.session.pk).notes == SESSION_NOTE
    assert access.referrals_visible_to(user).get(pk=a_record.referral.pk).notes == REFERRAL_NOTE
    assert access.can_read_notes(user, a_record.session)
    page = logged_in(org_a.worker).get(
        reverse("participant_detail", args=[a_record.participant.pk])
    )
    assert SESSION_NOTE in page.content.decode()


def test_the_selectors_blank_notes_for_a_consented_organisation(a_record, org_a, org_b):
    share(a_record, org_a, org_b)
    user = fresh(org_b.worker)
    session = access.sessions_visible_to(user).get(pk=a_record.session.pk)
    referral = access.referrals_visible_to(user).get(pk=a_record.referral.pk)
    assert session.notes == "" and referral.notes == ""
    assert not access.can_read_notes(user, a_record.session)
    # Every way of reading the rows keeps them blank.
    assert all(s.notes == "" for s in access.sessions_visible_to(user).iterator())
    assert access.sessions_visible_to(user).filter(pk=a_record.session.pk).first().notes == ""
    timeline, _ = worker_selectors.participant_timeline(user, a_record.participant, page=1)
    assert all(getattr(entry.item, "notes", "") == "" for entry in timeline)


WORKER_PAGES = ("caseload", "referral_list", "response_tasks")
MANAGER_PAGES = (
    "org_sessions",
    "org_referrals",
    "export_sessions",
    "export_caseload",
    "response_tasks",
)


def test_a_consented_organisation_never_sees_notes_on_any_page(a_record, org_a, org_b):
    """Each page is opened (200) by a user of B whose role may open it, so "no notes" is about
    the page's content, never a refusal."""
    share(a_record, org_a, org_b)
    pk = a_record.participant.pk
    record_pages = (
        reverse("participant_detail", args=[pk]),
        reverse("participant_detail", args=[pk]) + "?page=1",
    )
    for user, pages in ((org_b.worker, WORKER_PAGES), (org_b.manager, MANAGER_PAGES)):
        client = logged_in(user)
        for url in (*record_pages, *(reverse(name) for name in pages)):
            response = client.get(url)
            assert response.status_code == 200, f"{user} at {url}: {response.status_code}"
            assert not shows_notes(content(response)), f"{user} sees notes at {url}"
    # The control: B sees the shared session on the page, without its notes.
    page = logged_in(org_b.worker).get(reverse("participant_detail", args=[pk]))
    assert "Mentoring" in page.content.decode()


def test_notes_never_reach_the_admin_even_by_a_lookup(a_record, admin_client_city):
    for url in (
        reverse("admin:interventions_session_change", args=[a_record.session.pk]),
        reverse("admin:interventions_session_changelist"),
        reverse("admin:interventions_referral_change", args=[a_record.referral.pk]),
        reverse("admin:interventions_participant_change", args=[a_record.participant.pk]),
    ):
        response = admin_client_city.get(url)
        assert response.status_code == 200
        assert not shows_notes(response.content.decode()), url
    # A changelist filter on the notes would answer questions about them: refused.
    probe = admin_client_city.get(
        reverse("admin:interventions_session_changelist"), {"notes__icontains": "brother"}
    )
    assert probe.status_code == 400
    probe = admin_client_city.get(
        reverse("admin:interventions_referral_changelist"), {"notes__icontains": "mother"}
    )
    assert probe.status_code == 400


def test_notes_never_reach_city_wide_or_analyst_views(a_record, analyst, admin_client_city):
    area = AreaFactory(slug="notes-city")
    Participant.objects.filter(pk=a_record.participant.pk).update(area=area)
    query = {"area": area.slug, "start": "2024-01", "end": "2024-12", "activity": "all"}
    for client in (logged_in(analyst), admin_client_city):
        for url in (reverse("metrics:dashboard"), reverse("metrics:dashboard_csv")):
            response = client.get(url, query)
            assert response.status_code == 200
            assert not shows_notes(content(response))
