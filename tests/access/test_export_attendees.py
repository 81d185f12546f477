"""The manager's sessions export names only the attendees the manager may see: a group
session B logged with A's participant under a consent that A has since revoked lists B's own
people, not A's."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.access.conftest import share
from tests.conftest import logged_in
from tests.factories import ParticipantFactory, SessionFactory
from tests.test_scoping import content

pytestmark = pytest.mark.django_db


def exported_codes(client, organization) -> set[str]:  # type: ignore[no-untyped-def]
    response = client.get(reverse("export_sessions"), {"org": organization.slug})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(content(response))))
    return {code for row in rows for code in row["participant_codes"].split("; ") if code}


def test_a_revoked_consent_takes_the_person_out_of_the_sessions_export(a_record, org_a, org_b):
    share(a_record, org_a, org_b, granted_days_ago=30)
    own = ParticipantFactory(organization=org_b.organization)
    SessionFactory(
        organization=org_b.organization,
        program=org_b.program,
        worker=org_b.worker,
        occurred_at=timezone.now() - timedelta(days=20),
        participants=[a_record.participant, own],
    )
    client = logged_in(org_b.manager)
    # While the consent holds, B's export names both.
    assert exported_codes(client, org_b.organization) == {
        a_record.participant.participant_code,
        own.participant_code,
    }
    a_record.participant.consents.update(
        revoked_on=timezone.localdate() - timedelta(days=1), revoked_by=org_a.manager
    )
    client = logged_in(org_b.manager)
    assert exported_codes(client, org_b.organization) == {own.participant_code}
