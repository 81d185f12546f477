"""A program that pays incentives, a participant enrolled in it eight months ago with an
approved plan, and a finance member of organisation A."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from interventions.models import Enrollment, Membership
from interventions.models.plans import IncentiveRules, LifePlan, Milestone
from interventions.services import plans as plan_services

# The browser fixtures (Chromium, a 360 px page) of tests/browser, for test_browser.py.
# The check for uncaught JavaScript errors comes too.
from tests.browser.conftest import (  # noqa: F401
    chromium,
    no_uncaught_javascript_errors,
    phone,
)
from tests.conftest import OrgSetup
from tests.factories import EnrollmentFactory, MembershipFactory, ParticipantFactory, UserFactory
from tests.plans.factories import GoalFactory, IncentiveRulesFactory, MilestoneFactory

PLAN_NOTE = "wants to get his license back so he can drive his daughter to school"


@dataclass
class PlanWorld:
    org: OrgSetup
    enrollment: Enrollment
    plan: LifePlan
    met: list[Milestone]
    open: list[Milestone]
    rules: IncentiveRules
    finance: AbstractBaseUser
    manager2: AbstractBaseUser


def make_finance(org: OrgSetup, username: str) -> AbstractBaseUser:
    user = UserFactory(username=username)
    MembershipFactory(user=user, organization=org.organization, role=Membership.Role.FINANCE)
    return user


def make_plan_world(org: OrgSetup, *, months_enrolled: int = 8, prefix: str = "a") -> PlanWorld:
    rules = IncentiveRulesFactory(program=org.program)
    started = timezone.localdate() - timedelta(days=31 * months_enrolled)
    participant = ParticipantFactory(
        organization=org.organization,
        first_name="Lorenzo",
        last_name=f"Plansworth{prefix}",
        identified_on=started - timedelta(days=10),
    )
    enrollment = EnrollmentFactory(
        participant=participant,
        program=org.program,
        assigned_worker=org.worker,
        referred_on=started,
    )
    plan = plan_services.draft_plan(enrollment=enrollment, by=org.worker)
    goal = GoalFactory(plan=plan, description=PLAN_NOTE)
    met = [MilestoneFactory(goal=goal, description=f"Met step {i}") for i in range(3)]
    open_ = [MilestoneFactory(goal=goal, description=f"Open step {i}") for i in range(2)]
    plan = plan_services.approve_plan(plan=plan, by=org.manager)
    for milestone in met:
        plan_services.mark_milestone_met(milestone=milestone, by=org.worker)
    manager2 = UserFactory(username=f"{prefix}-manager2")
    MembershipFactory(user=manager2, organization=org.organization, role=Membership.Role.MANAGER)
    return PlanWorld(
        org=org,
        enrollment=enrollment,
        plan=plan,
        met=[Milestone.objects.get(pk=m.pk) for m in met],
        open=open_,
        rules=rules,
        finance=make_finance(org, f"{prefix}-finance"),
        manager2=manager2,
    )


@pytest.fixture
def pw(org_a: OrgSetup) -> PlanWorld:
    return make_plan_world(org_a)
