"""Server time and query counts of the participant page and the plan page with a life plan of
10 goals and 60 milestones.

    python bench/plans.py [--requests 30]

Makes (once, idempotently) a fictional organisation "Bench Plans (fictional)" with one
participant whose plan has 10 goals of 6 milestones, half of them met and a few paid for, then
requests both pages in-process through Django's full middleware stack. Targets (issue 11):
median under 100 ms, and the same query count as with a one-goal plan.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvr_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench._sessions import client_for  # noqa: E402
from bench.pages import measure  # noqa: E402
from interventions.audit.context import Actor, acting_as  # noqa: E402
from interventions.models import (  # noqa: E402
    Enrollment,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
)
from interventions.models.plans import Domain, IncentiveRules, LifePlan, Milestone  # noqa: E402
from interventions.services import plans as plan_services  # noqa: E402

SLUG = "bench-plans"
GOALS, MILESTONES_PER_GOAL = 10, 6


def bench_plan() -> tuple[LifePlan, object, object]:
    """The organisation, its worker and manager, and the participant's approved plan."""
    users = get_user_model().objects
    with acting_as(Actor(username="bench/plans.py")), transaction.atomic():
        organization, _ = PartnerOrganization.objects.get_or_create(
            slug=SLUG, defaults={"name": "Bench Plans (fictional)"}
        )
        program, _ = Program.objects.get_or_create(
            slug=f"{SLUG}-icm",
            defaults={
                "organization": organization,
                "name": "Intensive Case Management",
                "kind": Program.Kind.CASE_MANAGEMENT,
            },
        )
        worker, _ = users.get_or_create(username=f"{SLUG}-worker")
        manager, _ = users.get_or_create(username=f"{SLUG}-manager")
        finance, _ = users.get_or_create(username=f"{SLUG}-finance")
        for user, role in (
            (worker, Membership.Role.OUTREACH_WORKER),
            (manager, Membership.Role.MANAGER),
            (finance, Membership.Role.FINANCE),
        ):
            Membership.objects.get_or_create(
                user=user, organization=organization, defaults={"role": role}
            )
        plan = LifePlan.objects.filter(enrollment__program=program).first()
        if plan is not None:
            return plan, worker, manager
        today = timezone.localdate()
        started = today - timedelta(days=300)
        participant = Participant.objects.create(
            organization=organization,
            participant_code="BENCH-PLAN-1",
            first_name="Bench",
            last_name="Planner",
            identified_on=started,
        )
        enrollment = Enrollment.objects.create(
            participant=participant,
            program=program,
            status=Enrollment.Status.ACTIVE,
            assigned_worker=worker,
            referred_on=started,
            enrolled_on=started,
            active_on=started,
        )
        IncentiveRules.objects.create(
            program=program,
            monthly_cap_cents=100_000,
            total_cap_cents=900_000,
            pays_incentives=True,
        )
        plan = plan_services.draft_plan(enrollment=enrollment, by=worker, on=started)
        domains = list(Domain.values)
        for g in range(GOALS):
            goal = plan_services.add_goal(
                plan=plan,
                by=worker,
                domain=domains[g % len(domains)],
                description=f"Goal {g + 1} in the participant's words",
                target_on=today + timedelta(days=30 * (g - 3)),
            )
            for m in range(MILESTONES_PER_GOAL):
                plan_services.add_milestone(
                    goal=goal,
                    by=worker,
                    description=f"Milestone {g + 1}.{m + 1}",
                    due_on=today + timedelta(days=14 * (m - 3) + g),
                )
        plan = plan_services.approve_plan(plan=plan, by=manager)
        met = Milestone.objects.filter(goal__plan=plan, due_on__lt=today).order_by("pk")
        for milestone in met:
            plan_services.mark_milestone_met(milestone=milestone, by=worker, on=milestone.due_on)
        for months_ago, milestone in zip((3, 2, 1), met[:3], strict=True):
            entry = plan_services.request_incentive(
                milestones=[milestone],
                by=worker,
                month=plan_services.add_months(today, -months_ago),
                amount_cents=50_000,
                funding_source="public_grant",
            )
            plan_services.approve_incentive(entry=entry, by=manager)
            plan_services.mark_incentive_paid(
                entry=entry, by=finance, paid_on=today, method="check"
            )
        return plan, worker, manager


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=30)
    args = parser.parse_args()
    plan, worker, _ = bench_plan()
    goals = plan.goals.count()
    milestones = Milestone.objects.filter(goal__plan=plan).count()
    met = Milestone.objects.filter(goal__plan=plan, met_on__isnull=False).count()
    print(f"Plan: {goals} goals, {milestones} milestones ({met} met), version {plan.version}.")
    load = os.getloadavg()
    print(f"Load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} CPUs")
    client = client_for(worker)
    participant_url = reverse("participant_detail", args=[plan.enrollment.participant_id])
    # The participant page draws one tab at a time: Activity by default, the plan on its tab.
    pages = [
        ("participant page (worker)", participant_url),
        *(
            (f"  its {tab} tab", f"{participant_url}?tab={tab}")
            for tab in ("details", "plan", "related")
        ),
        ("plan page (worker)", reverse("plan_detail", args=[plan.pk])),
    ]
    print(
        f"\n{'page':30} {'median ms':>9} {'p95 ms':>7} {'CPU ms':>7} {'queries':>7} "
        f"{'DB ms':>6} {'KiB':>4}"
    )
    failures = []
    for label, url in pages:
        figures = measure(client, url, args.requests)
        flag = "" if figures["median"] < 100 else "  over the 100 ms target"
        if flag:
            failures.append(label)
        print(
            f"{label:30} {figures['median']:9.1f} {figures['p95']:7.1f} {figures['cpu']:7.1f} "
            f"{figures['queries']:7d} {figures['db']:6.1f} {figures['kib']:4.0f}{flag}"
        )
    if failures:
        raise SystemExit(f"Over the target: {', '.join(failures)}")


if __name__ == "__main__":
    main()
