"""Demo plans and incentives (part of `seed_demo`, idempotent): a finance login per demo
organisation, incentive rules and a plan template for each intensive case management program,
and for everyone enrolled in one a life plan (drafted by their worker, approved by the manager)
with milestones met over the past year and a year of incentives, requested, approved by the
manager and paid by finance. Every plan and person is invented."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from interventions.models import Enrollment, Membership, PartnerOrganization, Program
from interventions.models.plans import (
    Domain,
    FundingSource,
    IncentiveEntry,
    IncentiveEntryMilestone,
    IncentiveRules,
    LifePlan,
    Milestone,
    PlanTemplate,
    PlanTemplateGoal,
)
from interventions.selectors.plans import PLAN_ENROLLMENT_STATUSES
from interventions.services import plans as plan_services

# Operation Peacemaker's caps: up to $1,000 a month for 9 months. Its fellows become eligible
# after 6 months; the demo waits 2, so a year of demo enrolments shows a year of payments
# (each program sets its own in the admin).
RULES = {
    "pays_incentives": True,
    "months_before_eligible": 2,
    "monthly_cap_cents": 100_000,
    "total_cap_cents": 900_000,
    "max_months": 9,
    "funds_public_grant": True,
    "funds_private": True,
}
TEMPLATE_NAME = "LifeMAP (example)"
TEMPLATE_GOALS = [
    (
        Domain.IDENTITY_DOCUMENTS,
        "Get a California ID",
        8,
        "Birth certificate requested\nDMV appointment booked\nID in hand",
    ),
    (
        Domain.LEGAL,
        "Finish probation without a violation",
        40,
        "Meet the probation officer every month\nCourt fees on a payment plan\nProbation completed",
    ),
    (
        Domain.EDUCATION,
        "Finish my GED",
        30,
        "Enrolled in GED classes\nPassed the math test\nPassed the last test",
    ),
    (
        Domain.EMPLOYMENT,
        "Get a job I can keep",
        24,
        "Resume written\nThree applications sent\nFirst paycheck",
    ),
    (
        Domain.SAFETY,
        "Stay out of the conflict with the other block",
        52,
        "Safe route to work agreed\nNo contact with the other group for a month",
    ),
]
AMOUNTS_CENTS = (25_000, 50_000, 75_000, 100_000)


def seed_plans(
    organizations: list[PartnerOrganization], *, password: str, today: date | None = None
) -> list[tuple[str, str, str]]:
    """Returns the finance logins as (role, username, organisation) to print."""
    today = today or timezone.localdate()
    rng = random.Random(2026)  # noqa: S311 - demo data
    logins = []
    for organization in organizations:
        finance = _finance_user(organization, password)
        logins.append(("Finance", finance.get_username(), organization.name))
        manager = (
            get_user_model()
            .objects.filter(
                memberships__organization=organization,
                memberships__role=Membership.Role.MANAGER,
                memberships__is_active=True,
            )
            .order_by("pk")
            .first()
        )
        programs = Program.objects.filter(
            organization=organization, kind=Program.Kind.CASE_MANAGEMENT
        )
        for program in programs:
            IncentiveRules.objects.get_or_create(program=program, defaults=RULES)
            template = _template(program)
            enrollments = (
                Enrollment.objects.filter(program=program, status__in=PLAN_ENROLLMENT_STATUSES)
                .exclude(assigned_worker=None)
                .exclude(plans__isnull=False)
                .select_related("assigned_worker", "program__organization")
                .order_by("pk")
            )
            for enrollment in enrollments:
                if manager is None or manager == enrollment.assigned_worker:
                    continue
                _plan_and_incentives(enrollment, template, manager, finance, rng, today)
    return logins


def _finance_user(organization: PartnerOrganization, password: str) -> AbstractBaseUser:
    username = f"{_prefix(organization)}-finance"
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(
            username=username,
            password=password,
            first_name="Dana",
            last_name="Ledger",
            email=f"{username}@demo.invalid",
        )
    Membership.objects.get_or_create(
        user=user, organization=organization, defaults={"role": Membership.Role.FINANCE}
    )
    return user


def _prefix(organization: PartnerOrganization) -> str:
    """The demo's login prefix of an organisation (its managers are `<prefix>-manager`)."""
    manager = (
        Membership.objects.filter(
            organization=organization,
            role=Membership.Role.MANAGER,
            user__username__endswith="-manager",
        )
        .values_list("user__username", flat=True)
        .first()
    )
    return manager.removesuffix("-manager") if manager else organization.slug


def _template(program: Program) -> PlanTemplate:
    template, created = PlanTemplate.objects.get_or_create(program=program, name=TEMPLATE_NAME)
    if created:
        PlanTemplateGoal.objects.bulk_create(
            PlanTemplateGoal(
                template=template,
                domain=domain,
                description=description,
                target_weeks=weeks,
                milestones=milestones,
                order=order,
            )
            for order, (domain, description, weeks, milestones) in enumerate(TEMPLATE_GOALS)
        )
    return template


def _plan_and_incentives(
    enrollment: Enrollment,
    template: PlanTemplate,
    manager: AbstractBaseUser,
    finance: AbstractBaseUser,
    rng: random.Random,
    today: date,
) -> None:
    worker = enrollment.assigned_worker
    started = enrollment.enrolled_on or enrollment.active_on or enrollment.referred_on
    plan = plan_services.draft_plan(enrollment=enrollment, by=worker, template=template, on=started)
    plan = plan_services.approve_plan(plan=plan, by=manager)
    # Milestones due by now are mostly met, a little late or early; a few slip.
    for milestone in Milestone.objects.filter(goal__plan=plan, due_on__lte=today).order_by("pk"):
        if rng.random() < 0.8:
            met_on = min(today, milestone.due_on + timedelta(days=rng.randint(-10, 14)))
            plan_services.mark_milestone_met(
                milestone=milestone, by=worker, on=max(met_on, started)
            )
    reviewed = today - timedelta(days=rng.choice((3, 12, 25, 40, 60)))
    if reviewed > plan.reviewed_on:
        plan_services.review_plan(plan=plan, by=worker, on=reviewed)
    _incentives(enrollment, plan, worker, manager, finance, rng, today)


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _incentives(
    enrollment: Enrollment,
    plan: LifePlan,
    worker: AbstractBaseUser,
    manager: AbstractBaseUser,
    finance: AbstractBaseUser,
    rng: random.Random,
    today: date,
) -> None:
    """A payment for each month from eligibility, for a milestone met by then. The history is
    written step by step as the ledger allows (requested, then approved, then paid), with the
    dates it happened on; this month's request is left waiting for the manager."""
    rules = IncentiveRules.objects.get(program=enrollment.program)
    month = plan_services.month_of(plan_services.eligible_from(enrollment, rules))
    this_month = plan_services.month_of(today)
    met = list(Milestone.objects.filter(goal__plan=plan, met_on__isnull=False).order_by("met_on"))
    paid_months = 0
    while month <= this_month and paid_months < rules.max_months and met:
        next_month = plan_services.add_months(month, 1)
        milestone = next((m for m in met if m.met_on < next_month), None)
        if milestone is None:
            month = next_month
            continue
        met.remove(milestone)
        source = FundingSource.PUBLIC_GRANT if paid_months % 3 else FundingSource.PRIVATE_FUNDS
        entry = IncentiveEntry.objects.create(
            enrollment=enrollment,
            plan=plan,
            month=month,
            amount_cents=rng.choice(AMOUNTS_CENTS),
            funding_source=source,
            requested_by=worker,
            requested_at=_at(max(month, milestone.met_on), 10),
        )
        IncentiveEntryMilestone.objects.create(entry=entry, milestone=milestone)
        paid_months += 1
        if month == this_month:
            break
        decided_on = min(today, max(month, milestone.met_on) + timedelta(days=2))
        IncentiveEntry.objects.filter(pk=entry.pk).update(
            status=IncentiveEntry.Status.APPROVED,
            decided_by=manager,
            decided_at=_at(decided_on, 15),
        )
        paid_on = min(today, decided_on + timedelta(days=5))
        IncentiveEntry.objects.filter(pk=entry.pk).update(
            status=IncentiveEntry.Status.PAID,
            paid_by=finance,
            paid_on=paid_on,
            payment_method=rng.choice(IncentiveEntry.Method.values),
            payment_reference=f"DEMO-{entry.pk:05d}",
            paid_recorded_at=_at(paid_on, 16),
        )
        month = next_month
