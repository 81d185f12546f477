"""Reads of life plans and the incentive ledger, scoped to the user.

Plan text (goals, milestones, changes, the reason an incentive was declined) is a note
(interventions/notes.py): only the organisation that runs the program of the plan's enrolment
reads it, through its workers and managers, and only while the participant is visible to the
user; the reads below that return it go through `access.with_notes_for`, the one rule. Consent
to another organisation opens nothing here. The
ledger is read by the organisation's managers and finance staff (finance sees the ledger and
nothing else); workers see the payments of a plan on the plan page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from interventions import access as selectors
from interventions.access import FINANCE, MANAGER, OUTREACH_WORKER, AnyUser
from interventions.models import Enrollment, Membership, Participant, PartnerOrganization
from interventions.models.plans import (
    FundingSource,
    Goal,
    IncentiveEntry,
    LifePlan,
    Milestone,
    PlanChange,
)

DEFAULT_REVIEW_DAYS = 30
# Statuses of an enrolment a plan can be drafted for and incentives paid in.
PLAN_ENROLLMENT_STATUSES = (Enrollment.Status.ENROLLED, Enrollment.Status.ACTIVE)
# An entry that counts toward the caps: not declined, and not corrected by an approved or posted
# reversal.
LIVE_STATUSES = (
    IncentiveEntry.Status.REQUESTED,
    IncentiveEntry.Status.APPROVED,
    IncentiveEntry.Status.PAID,
)


def review_days() -> int:
    return int(getattr(settings, "GVR_PLAN_REVIEW_DAYS", DEFAULT_REVIEW_DAYS))


def _organizations_where(user: AnyUser, roles: list[str]) -> QuerySet[PartnerOrganization]:
    if not user.is_authenticated or not user.is_active:
        return PartnerOrganization.objects.none()
    return PartnerOrganization.objects.filter(
        is_active=True,
        id__in=Membership.objects.filter(user=user, is_active=True, role__in=roles).values(
            "organization_id"
        ),
    )


def plan_organizations(user: AnyUser) -> QuerySet[PartnerOrganization]:
    """Organisations in which the user works on plans: outreach workers and managers."""
    return _organizations_where(user, [OUTREACH_WORKER, MANAGER])


def ledger_organizations(user: AnyUser) -> QuerySet[PartnerOrganization]:
    """Organisations whose ledger the user reads: managers and finance staff."""
    return _organizations_where(user, [MANAGER, FINANCE])


def holds_role(user: AnyUser, organization_id: int, *roles: str) -> bool:
    """An active membership of the active organisation in one of these roles."""
    return Membership.objects.filter(
        user=user,
        organization_id=organization_id,
        role__in=roles,
        is_active=True,
        organization__is_active=True,
    ).exists()


def plans_visible_to(user: AnyUser) -> QuerySet[LifePlan]:
    return LifePlan.objects.filter(
        enrollment__program__organization__in=plan_organizations(user),
        enrollment__participant__in=selectors.participants_visible_to(user),
    ).select_related("enrollment__participant", "enrollment__program", "drafted_by", "approved_by")


def goals_visible_to(user: AnyUser) -> QuerySet[Goal]:
    return selectors.with_notes_for(
        Goal.objects.filter(plan__in=plans_visible_to(user)).select_related("plan"), user
    )


def milestones_visible_to(user: AnyUser) -> QuerySet[Milestone]:
    return selectors.with_notes_for(
        Milestone.objects.filter(goal__plan__in=plans_visible_to(user)).select_related(
            "goal__plan"
        ),
        user,
    )


def plan_enrollments_for(user: AnyUser) -> QuerySet[Enrollment]:
    """Enrolments the user may draft a plan for: open, in a program of their organisation."""
    return selectors.enrollments_editable_by(user).filter(
        program__organization__in=plan_organizations(user), status__in=PLAN_ENROLLMENT_STATUSES
    )


def ledger_visible_to(user: AnyUser) -> QuerySet[IncentiveEntry]:
    return IncentiveEntry.objects.filter(
        enrollment__program__organization__in=ledger_organizations(user)
    ).select_related(
        "enrollment__participant",
        "enrollment__program",
        "requested_by",
        "decided_by",
        "paid_by",
    )


def incentive_entries_for_plan_page(user: AnyUser) -> QuerySet[IncentiveEntry]:
    """Entries the plan page may show: those of plans the user reads, the reason of a decline
    kept for the organisation running the program."""
    return selectors.with_notes_for(
        IncentiveEntry.objects.filter(plan__in=plans_visible_to(user)).select_related(
            "requested_by", "decided_by", "paid_by"
        ),
        user,
    )


# One plan, drawn --------------------------------------------------------------------------------


def plan_with_contents(plans: QuerySet[LifePlan], user: AnyUser) -> QuerySet[LifePlan]:
    """Plans with their goals and milestones in three queries, whatever their number; their
    text through the notes rule."""
    return plans.prefetch_related(
        Prefetch(
            "goals",
            queryset=selectors.with_notes_for(
                Goal.objects.order_by("order", "pk"), user
            ).prefetch_related(
                Prefetch(
                    "milestones",
                    queryset=selectors.with_notes_for(Milestone.objects.all(), user)
                    .prefetch_related(
                        Prefetch(
                            "incentive_entries",
                            queryset=IncentiveEntry.objects.filter(kind="payment").order_by("pk"),
                            to_attr="payments",
                        )
                    )
                    .order_by("due_on", "order", "pk"),
                )
            ),
        )
    )


@dataclass
class PlanGlance:
    """What the participant page shows of a current plan on a phone."""

    plan: LifePlan
    goals: list[Goal]
    milestones_met: int = 0
    milestones_planned: int = 0
    next_milestones: list[Milestone] = field(default_factory=list)
    overdue_milestones: list[Milestone] = field(default_factory=list)
    overdue_goals: list[Goal] = field(default_factory=list)
    review_due: bool = False


def glance(plan: LifePlan, today: date | None = None) -> PlanGlance:
    """Progress of a plan fetched with plan_with_contents (no further query)."""
    today = today or timezone.localdate()
    goals = list(plan.goals.all())
    result = PlanGlance(plan=plan, goals=goals)
    upcoming = []
    for goal in goals:
        goal.all_milestones = list(goal.milestones.all())  # type: ignore[attr-defined]
        goal.met_count = sum(1 for m in goal.all_milestones if m.met_on)  # type: ignore[attr-defined]
        result.milestones_planned += len(goal.all_milestones)  # type: ignore[attr-defined]
        result.milestones_met += goal.met_count  # type: ignore[attr-defined]
        is_open = goal.status in Goal.OPEN_STATUSES
        if is_open and goal.target_on < today:
            result.overdue_goals.append(goal)
        for milestone in goal.all_milestones:  # type: ignore[attr-defined]
            if milestone.met_on or not is_open:
                continue
            if milestone.due_on < today:
                result.overdue_milestones.append(milestone)
            else:
                upcoming.append(milestone)
    result.next_milestones = sorted(upcoming, key=lambda m: (m.due_on, m.pk))[:3]
    result.review_due = plan.reviewed_on <= today - timedelta(days=review_days())
    return result


def with_current_plan_id(user: AnyUser, enrollments: QuerySet[Enrollment]) -> QuerySet[Enrollment]:
    """Enrolments with `current_plan_id`: their current plan if the user may read it."""
    current = (
        plans_visible_to(user)
        .filter(enrollment=OuterRef("pk"))
        .exclude(status=LifePlan.Status.SUPERSEDED)
        .values("pk")[:1]
    )
    return enrollments.annotate(current_plan_id=Subquery(current))


def current_plans_for(user: AnyUser, plan_ids: list[int]) -> list[PlanGlance]:
    if not plan_ids:
        return []
    plans = plan_with_contents(
        plans_visible_to(user).filter(pk__in=plan_ids).order_by("enrollment__program__name"), user
    )
    return [glance(plan) for plan in plans]


def plan_changes(user: AnyUser, plan: LifePlan) -> QuerySet[PlanChange]:
    """The changes made to an approved plan; their old and new text are notes."""
    return selectors.with_notes_for(
        PlanChange.objects.filter(plan=plan).select_related("changed_by"), user
    )


def plan_versions(plan: LifePlan) -> QuerySet[LifePlan]:
    return LifePlan.objects.filter(enrollment_id=plan.enrollment_id).order_by("-version")


def plan_progress(plan_ids: list[int]) -> tuple[int, int] | None:
    """(milestones met, milestones planned) over these plans, in one query that reads no plan
    text; None when there is no plan. The ids come from `with_current_plan_id`, which only
    names plans the user may read."""
    if not plan_ids:
        return None
    counts = Milestone.objects.filter(goal__plan_id__in=plan_ids).aggregate(
        met=Count("pk", filter=Q(met_on__isnull=False)), planned=Count("pk")
    )
    return counts["met"], counts["planned"]


def participant_plan_panel(user: AnyUser, open_enrollments: list[Enrollment]) -> dict[str, object]:
    """The participant page's plan panel: current plans at a glance, and the user's own open
    enrolments without a plan. The enrolments come with_current_plan_id and `can_edit` (set by
    the page), so a person without a plan costs no query, and one with plans a fixed four."""
    plan_ids = [e.current_plan_id for e in open_enrollments if e.current_plan_id]
    startable = [
        enrollment
        for enrollment in open_enrollments
        if getattr(enrollment, "can_edit", False)
        and enrollment.status in PLAN_ENROLLMENT_STATUSES
        and not enrollment.current_plan_id
    ]
    return {"plan_glances": current_plans_for(user, plan_ids), "plan_enrollments": startable}


# The worker's home --------------------------------------------------------------------------------


def plans_due_for_review(user: AnyUser, today: date | None = None) -> QuerySet[LifePlan]:
    """Current plans of the user's own caseload last reviewed the review interval
    (GVR_PLAN_REVIEW_DAYS) ago or more, on `today` (the local day by default)."""
    cutoff = (today or timezone.localdate()) - timedelta(days=review_days())
    return (
        plans_visible_to(user)
        .filter(
            enrollment__assigned_worker=user,
            enrollment__status__in=PLAN_ENROLLMENT_STATUSES,
            reviewed_on__lte=cutoff,
        )
        .exclude(status=LifePlan.Status.SUPERSEDED)
        .order_by("reviewed_on", "pk")
    )


def goals_past_target(user: AnyUser) -> QuerySet[Goal]:
    return (
        goals_visible_to(user)
        .filter(
            plan__enrollment__assigned_worker=user,
            plan__enrollment__status__in=PLAN_ENROLLMENT_STATUSES,
            status__in=Goal.OPEN_STATUSES,
            target_on__lt=timezone.localdate(),
        )
        .exclude(plan__status=LifePlan.Status.SUPERSEDED)
        .select_related("plan__enrollment__participant")
        .order_by("target_on", "pk")
    )


def plans_to_look_at(user: AnyUser) -> QuerySet[LifePlan]:
    """The worker's home, in one query: current plans of their caseload that are due for review
    or have goals past their target date, with `review_due`, `goals_overdue` (how many) and
    `first_overdue_on`."""
    today = timezone.localdate()
    cutoff = today - timedelta(days=review_days())
    overdue = Q(
        goals__status__in=Goal.OPEN_STATUSES,
        goals__target_on__lt=today,
    )
    return (
        plans_visible_to(user)
        .filter(
            enrollment__assigned_worker=user,
            enrollment__status__in=PLAN_ENROLLMENT_STATUSES,
        )
        .exclude(status=LifePlan.Status.SUPERSEDED)
        .annotate(
            goals_overdue=Count("goals", filter=overdue),
            first_overdue_on=Min("goals__target_on", filter=overdue),
            review_due=Case(
                When(reviewed_on__lte=cutoff, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .filter(Q(review_due=True) | Q(goals_overdue__gt=0))
        .order_by("reviewed_on", "pk")
    )


def worker_home_plans(user: AnyUser) -> dict[str, object]:
    return {"plans_to_look_at": list(plans_to_look_at(user)[:20])}


# The session form's optional step ---------------------------------------------------------------


def open_milestones_for(user: AnyUser, participant_ids: list[int]) -> QuerySet[Milestone]:
    """Milestones a session with these participants can tick: open goals of current plans."""
    return (
        milestones_visible_to(user)
        .filter(
            goal__plan__enrollment__participant_id__in=participant_ids,
            goal__status__in=Goal.OPEN_STATUSES,
            met_on__isnull=True,
        )
        .exclude(goal__plan__status=LifePlan.Status.SUPERSEDED)
        .select_related("goal__plan__enrollment__participant")
        .order_by("goal__plan__enrollment__participant__last_name", "due_on", "pk")
    )


# The ledger ---------------------------------------------------------------------------------------


def live_payments(entries: QuerySet[IncentiveEntry]) -> QuerySet[IncentiveEntry]:
    """Payments that count toward the caps: requested, approved or paid, and not corrected by
    an approved or posted reversal."""
    reversed_ = IncentiveEntry.objects.filter(
        reverses=OuterRef("pk"),
        status__in=[IncentiveEntry.Status.APPROVED, IncentiveEntry.Status.PAID],
    )
    return entries.filter(kind=IncentiveEntry.Kind.PAYMENT, status__in=LIVE_STATUSES).exclude(
        Exists(reversed_)
    )


def paid_or_pending_milestone_ids(plan: LifePlan) -> QuerySet:
    """Milestones of the plan already in a live payment, in this version or an earlier one:
    they are not requested again."""
    paid = live_payments(IncentiveEntry.objects.filter(enrollment_id=plan.enrollment_id))
    roots = (
        Milestone.objects.filter(pk__in=paid.values("milestones"))
        .annotate(root=Coalesce("origin_id", "pk"))
        .values("root")
    )
    return Milestone.objects.filter(Q(pk__in=roots) | Q(origin_id__in=roots)).values("pk")


def _cents(**filters: object) -> Coalesce:
    return Coalesce(Sum("amount_cents", filter=Q(**filters)), Value(0), output_field=IntegerField())


def paid_cents_by_source() -> dict[str, Coalesce]:
    """Paid money (payments and posted reversals), each funding source on its own."""
    return {
        f"paid_{source}": _cents(status=IncentiveEntry.Status.PAID, funding_source=source)
        for source in FundingSource.values
    }


def ledger_by_program_and_month(entries: QuerySet[IncentiveEntry]) -> QuerySet:
    """One row per program and month: money paid per funding source (never added together),
    approved but unpaid, and requests waiting."""
    return (
        entries.values("enrollment__program__name", "month")
        .annotate(
            **paid_cents_by_source(),
            approved_unpaid=_cents(status=IncentiveEntry.Status.APPROVED),
            waiting=Count("pk", filter=Q(status=IncentiveEntry.Status.REQUESTED)),
            entries=Count("pk"),
        )
        .order_by("-month", "enrollment__program__name")
    )


def ledger_by_funding_source(entries: QuerySet[IncentiveEntry]) -> QuerySet:
    return (
        entries.values("funding_source")
        .annotate(
            paid=_cents(status=IncentiveEntry.Status.PAID),
            approved_unpaid=_cents(status=IncentiveEntry.Status.APPROVED),
            requested=_cents(status=IncentiveEntry.Status.REQUESTED),
            people=Count("enrollment__participant", distinct=True),
        )
        .order_by("funding_source")
    )


def ledger_export_rows(entries: QuerySet[IncentiveEntry]) -> QuerySet[IncentiveEntry]:
    return entries.annotate(
        participant_code=F("enrollment__participant__participant_code"),
        program_name=F("enrollment__program__name"),
    ).order_by("month", "pk")


def ledger_participants(user: AnyUser) -> QuerySet[Participant]:
    """The people whose payments the user may read on the ledger: finance reads a person's
    payments without any other access to their record."""
    return Participant.objects.filter(
        enrollments__program__organization__in=ledger_organizations(user)
    ).distinct()
