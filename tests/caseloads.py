"""A participant on a worker's caseload: the set-up most page tests start from."""

from __future__ import annotations

from typing import Any

from interventions.models import Enrollment, Participant
from tests.factories import EnrollmentFactory, ParticipantFactory


def on_caseload(org: Any, **participant_fields: Any) -> Participant:
    """A participant of `org` (a tests.conftest.OrgSetup) actively enrolled in its program and
    assigned to its worker."""
    participant = ParticipantFactory(organization=org.organization, **participant_fields)
    EnrollmentFactory(
        participant=participant,
        program=org.program,
        assigned_worker=org.worker,
        status=Enrollment.Status.ACTIVE,
    )
    return participant
