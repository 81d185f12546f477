"""Saving through the pages, as the outbox tests do."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone

from interventions.models import Participant
from tests.conftest import OrgSetup, logged_in
from tests.interventions.test_worker_views import local_input


def post_incident(org: OrgSetup, victim: Participant) -> HttpResponse:
    """A manager records a non-fatal shooting of an hour ago for their organisation."""
    return logged_in(org.manager).post(
        reverse("incident_new"),
        {
            "kind": "nonfatal_shooting",
            "occurred_at": local_input(timezone.now() - timedelta(hours=1)),
            "organization": org.organization.pk,
            "victim_count": 1,
            "victims": [victim.pk],
        },
    )
