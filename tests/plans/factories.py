"""Factories for plans and the ledger. Every person and plan here is fictional."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from interventions.models.plans import (
    Domain,
    Goal,
    IncentiveRules,
    LifePlan,
    Milestone,
    PlanTemplate,
    PlanTemplateGoal,
)
from tests.factories import EnrollmentFactory, ProgramFactory, UserFactory


class IncentiveRulesFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncentiveRules
        django_get_or_create = ("program",)

    program = factory.SubFactory(ProgramFactory)
    pays_incentives = True
    months_before_eligible = 6
    monthly_cap_cents = 100_000
    total_cap_cents = 900_000
    max_months = 9
    funds_public_grant = True
    funds_private = True


class LifePlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LifePlan

    enrollment = factory.SubFactory(EnrollmentFactory)
    drafted_by = factory.SubFactory(UserFactory)
    reviewed_on = factory.LazyFunction(timezone.localdate)


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    plan = factory.SubFactory(LifePlanFactory)
    domain = Domain.EMPLOYMENT
    description = factory.Sequence(lambda n: f"Get a job I can keep ({n})")
    target_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=90))


class MilestoneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Milestone

    goal = factory.SubFactory(GoalFactory)
    description = factory.Sequence(lambda n: f"Step {n}")
    due_on = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=30))


class PlanTemplateFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTemplate

    program = factory.SubFactory(ProgramFactory)
    name = factory.Sequence(lambda n: f"Template {n}")


class PlanTemplateGoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanTemplateGoal

    template = factory.SubFactory(PlanTemplateFactory)
    domain = Domain.IDENTITY_DOCUMENTS
    description = "Get a California ID"
    target_weeks = 8
    milestones = "Birth certificate requested\nDMV appointment booked"


def plan_objects(org, enrollment) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The URL kwargs of the plan and ledger pages, for the route walks of tests/security:
    an approved plan of the enrolment with a met milestone and a requested incentive."""
    from interventions.models.plans import FundingSource
    from interventions.services import plans as plan_services

    IncentiveRulesFactory(program=enrollment.program, months_before_eligible=0)
    plan = plan_services.draft_plan(enrollment=enrollment, by=org.worker)
    goal = GoalFactory(plan=plan)
    milestone = MilestoneFactory(goal=goal)
    plan_services.approve_plan(plan=plan, by=org.manager)
    plan_services.mark_milestone_met(milestone=milestone, by=org.worker)
    entry = plan_services.request_incentive(
        milestones=[milestone],
        by=org.worker,
        month=timezone.localdate(),
        amount_cents=10_000,
        funding_source=FundingSource.PUBLIC_GRANT,
    )
    return {
        "plan_id": plan.pk,
        "goal_id": goal.pk,
        "milestone_id": milestone.pk,
        "entry_id": entry.pk,
    }
