"""A record of organisation A's about a participant shared with B, with every free-text field
of every case model (interventions/notes.py) written by A set to its own unique string."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone

from interventions import notes
from interventions.models import (
    CallIn,
    CustomNotification,
    EnrollmentStatusChange,
    IncidentParticipant,
    ReviewDecision,
    ShootingReview,
)
from interventions.models.plans import Goal, IncentiveEntry
from interventions.services import outcomes as outcome_services
from interventions.services import plans as plan_services
from tests.conftest import OrgSetup
from tests.factories import (
    ConsentFactory,
    ConsentOverrideFactory,
    EnrollmentFactory,
    GroupConflictFactory,
    GroupTieFactory,
    IncidentFactory,
    ParticipantFactory,
    ReferralFactory,
    ResponseTaskFactory,
    SessionFactory,
    StreetGroupFactory,
    UserFactory,
)
from tests.outcomes.factories import OutcomeEventFactory
from tests.plans.factories import plan_objects
from tests.test_scoping import content


def case_models() -> list[type[models.Model]]:
    return [model for app in notes.CASE_APPS for model in apps.get_app_config(app).get_models()]


def plant(model: type[models.Model], field: str) -> str:
    return f"zqplant-{model._meta.model_name}-{field}-qz"


def all_plants() -> list[str]:
    return [
        plant(model, field) for model in case_models() for field in notes.free_text_fields(model)
    ]


# The planted record -------------------------------------------------------------------------


@pytest.fixture
def planted(org_a: OrgSetup, org_b: OrgSetup) -> dict[str, Any]:
    """One record of every kind of A's, about a participant A shares with B, then every
    free-text field of every case model written by A set to its own unique string."""
    today = timezone.localdate()
    person = ParticipantFactory(organization=org_a.organization, first_name="Ysolde")
    ConsentFactory(
        participant=person,
        organization=org_b.organization,
        recorded_by=org_a.manager,
        granted_on=today - timedelta(days=5),
    )
    enrollment = EnrollmentFactory(
        participant=person, program=org_a.program, assigned_worker=org_a.worker
    )
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment, to_status="referred", changed_on=today, changed_by=org_a.worker
    )
    session = SessionFactory(
        organization=org_a.organization,
        program=org_a.program,
        worker=org_a.worker,
        participants=[person],
    )
    referral = ReferralFactory(participant=person, made_by=org_a.worker)
    other = UserFactory(username="someone-with-an-override")
    ConsentOverrideFactory(user=other, participant=person)
    call_in = CallIn.objects.create(
        held_on=today, place="Community hall", organization=org_a.organization
    )
    call_in.attendees.add(person)
    CustomNotification.objects.create(
        participant=person, organization=org_a.organization, delivered_on=today
    )
    review = ShootingReview.objects.create(
        period_start=today - timedelta(days=6),
        period_end=today,
        organization=org_a.organization,
        decisions="x",
        recorded_by=org_a.manager,
    )
    ReviewDecision.objects.create(review=review, assigned_to=org_a.manager, description="x")
    group = StreetGroupFactory()
    GroupTieFactory(participant=person, group=group)
    GroupConflictFactory(group_a=group)
    incident = IncidentFactory(organization=org_a.organization, entered_by=org_a.manager)
    IncidentParticipant.objects.create(incident=incident, participant=person, role="victim")
    task = ResponseTaskFactory(incident=incident, participant=person)
    # Outcomes: an event, and a tier set by hand (its reason is a note).
    OutcomeEventFactory(participant=person, recorded_by=org_a.worker)
    outcome_services.set_risk_tier_by_hand(
        participant=person,
        by=org_a.manager,
        tier=1 if person.risk_tier != 1 else 2,
        reason="x" * 20,
    )
    # A's approved plan with a goal, a met milestone, a change with old and new values, and an
    # incentive request declined with a reason (the ledger refuses any later change but the
    # next step, so the reason is written as the decline, not planted afterwards).
    plan_ids = plan_objects(org_a, enrollment)
    goal = Goal.objects.get(pk=plan_ids["goal_id"])
    plan_services.update_goal(
        goal=goal, by=org_a.worker, target_on=goal.target_on + timedelta(days=7)
    )
    plan_services.decline_incentive(
        entry=IncentiveEntry.objects.get(pk=plan_ids["entry_id"]),
        by=org_a.manager,
        reason=plant(IncentiveEntry, "decline_reason"),
    )

    missing = []
    for model in case_models():
        entry = notes.FREE_TEXT.get(model._meta.label)
        if entry is None:
            continue
        rows = model._default_manager.all()
        if entry.written_by is not None:
            rows = rows.filter(**{entry.written_by: org_a.organization})
        if not rows.exists():
            missing.append(model._meta.label)
            continue
        rows.update(**{field: plant(model, field) for field in entry.fields})
    assert not missing, f"add a row of A's for these models to the `planted` fixture: {missing}"
    return {
        "participant_id": person.pk,
        "enrollment_id": enrollment.pk,
        "session_id": session.pk,
        "referral_id": referral.pk,
        "incident_id": incident.pk,
        "responsetask_id": task.pk,
        "streetgroup_id": group.pk,
        "consent_id": person.consents.get().pk,
        **plan_ids,
    }


def leaks(response) -> list[str]:  # type: ignore[no-untyped-def]
    text = content(response).lower()
    return [secret for secret in all_plants() if secret in text]
