"""Writes for life plans and the incentive ledger. Each raises `ServiceError` with a message for
the person and changes nothing when a rule refuses the write.

Plans:
1. A plan is drafted by an outreach worker or manager of the organisation that runs the program,
   for an enrolled or active enrolment, which has at most one current plan.
2. A manager of that organisation other than the drafter approves it; until then no incentive
   can be requested against it.
3. Every change to an approved plan is kept as a PlanChange (who, when, old and new value).
4. A new version copies the goals and milestones; the old version is kept, read only.

The ledger (money, held to a bank's standard):
1. A worker or manager requests a payment in cents for met milestones of an approved plan,
   for one month, from one funding source the program uses.
2. The program's rules are checked at request and again at approval: the program pays
   incentives, the person has been in the program long enough, and the month's cap, the total
   cap and the number of months are not exceeded. Requests on one enrolment are serialised by a
   row lock on it, so two at once cannot both slip under a cap.
3. A manager of the organisation other than the requester approves or declines (also a CHECK in
   the database); a finance member of the organisation marks an approved entry paid.
4. Nothing is edited or deleted (triggers of migration 0005); a paid entry is corrected by a
   reversing entry that goes through the same two-person approval."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import dateformat, timezone
from django.utils.translation import gettext

from interventions.errors import ServiceError
from interventions.models import Enrollment, Membership, PartnerOrganization, Session
from interventions.models.plans import (
    Domain,
    Goal,
    IncentiveEntry,
    IncentiveEntryMilestone,
    IncentiveRules,
    LifePlan,
    Milestone,
    MilestoneProgress,
    PlanChange,
    PlanTemplate,
)
from interventions.selectors.plans import PLAN_ENROLLMENT_STATUSES, holds_role, live_payments
from interventions.services import case as services

Role = Membership.Role
DESCRIPTION_MAX_LENGTH = 2000


def _require_role(
    user: AbstractBaseUser, organization: PartnerOrganization, what: str, *roles: str
) -> None:
    if not holds_role(user, organization.pk, *roles):
        raise ServiceError(
            gettext("Only %(who)s of %(organization)s can do this.")
            % {"who": what, "organization": organization}
        )


def _require_plan_worker(user: AbstractBaseUser, plan: LifePlan) -> None:
    _require_role(
        user,
        plan.enrollment.program.organization,
        gettext("outreach workers and managers"),
        Role.OUTREACH_WORKER,
        Role.MANAGER,
    )


def _require_current(plan: LifePlan) -> None:
    if plan.status == LifePlan.Status.SUPERSEDED:
        raise ServiceError(gettext("This is an earlier version of the plan; it is kept read only."))


def _clean_text(text: str, what: str) -> str:
    """`what` is "goal" or "milestone"; each has its own sentences (Spanish genders differ)."""
    text = (text or "").strip()
    if not text:
        raise ServiceError(
            gettext("Describe the goal.") if what == "goal" else gettext("Describe the milestone.")
        )
    if len(text) > DESCRIPTION_MAX_LENGTH:
        message = (
            gettext("Keep the goal under %(max_length)s characters.")
            if what == "goal"
            else gettext("Keep the milestone under %(max_length)s characters.")
        )
        raise ServiceError(message % {"max_length": DESCRIPTION_MAX_LENGTH})
    return text


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _log(plan: LifePlan, by: AbstractBaseUser, action: str, **details: Any) -> None:
    """Keep a change to an approved plan (drafts change freely until they are approved)."""
    if plan.status == LifePlan.Status.APPROVED:
        PlanChange.objects.create(plan=plan, action=action, changed_by=by, **details)


def _apply_changes(
    obj: Goal | Milestone,
    plan: LifePlan,
    by: AbstractBaseUser,
    action: str,
    changes: dict[str, Any],
    **about: Any,
) -> None:
    """Set the fields that really change, keeping each change of an approved plan."""
    changed = []
    for name, value in changes.items():
        old = getattr(obj, name)
        if old == value:
            continue
        _log(plan, by, action, field=name, old_value=str(old), new_value=str(value), **about)
        setattr(obj, name, value)
        changed.append(name)
    if changed:
        obj.save(update_fields=[*changed, "updated_at"])


# Plans ------------------------------------------------------------------------------------------


@transaction.atomic
def draft_plan(
    *,
    enrollment: Enrollment,
    by: AbstractBaseUser,
    template: PlanTemplate | None = None,
    on: date | None = None,
) -> LifePlan:
    """Start the plan of an enrolment, from a template's starting goals if one is given."""
    today = on or timezone.localdate()
    enrollment = (
        Enrollment.objects.select_for_update().select_related("program").get(pk=enrollment.pk)
    )
    _require_role(
        by,
        enrollment.program.organization,
        gettext("outreach workers and managers"),
        Role.OUTREACH_WORKER,
        Role.MANAGER,
    )
    if enrollment.status not in PLAN_ENROLLMENT_STATUSES:
        raise ServiceError(gettext("A plan is made for an enrolled or active enrolment."))
    if enrollment.plans.exclude(status=LifePlan.Status.SUPERSEDED).exists():
        raise ServiceError(gettext("This enrolment already has a current plan."))
    if template is not None and (
        template.program_id != enrollment.program_id or not template.is_active
    ):
        raise ServiceError(gettext("Choose a template of this program."))
    version = (
        enrollment.plans.order_by("-version").values_list("version", flat=True).first() or 0
    ) + 1
    plan = LifePlan.objects.create(
        enrollment=enrollment, version=version, drafted_by=by, reviewed_on=today
    )
    if template is not None:
        for order, template_goal in enumerate(template.goals.all()):
            target_on = today + timedelta(weeks=template_goal.target_weeks)
            goal = Goal.objects.create(
                plan=plan,
                domain=template_goal.domain,
                description=template_goal.description,
                target_on=target_on,
                order=order,
            )
            lines = [line.strip() for line in template_goal.milestones.splitlines() if line.strip()]
            span = (target_on - today).days
            Milestone.objects.bulk_create(
                Milestone(
                    goal=goal,
                    description=line,
                    due_on=today + timedelta(days=span * (index + 1) // len(lines)),
                    order=index,
                )
                for index, line in enumerate(lines)
            )
    return plan


@transaction.atomic
def approve_plan(*, plan: LifePlan, by: AbstractBaseUser) -> LifePlan:
    plan = (
        LifePlan.objects.select_for_update().select_related("enrollment__program").get(pk=plan.pk)
    )
    _require_role(by, plan.enrollment.program.organization, gettext("managers"), Role.MANAGER)
    if plan.status != LifePlan.Status.DRAFT:
        raise ServiceError(gettext("Only a draft plan can be approved."))
    if plan.drafted_by_id == by.pk:
        raise ServiceError(
            gettext("A plan is approved by a manager other than the person who drafted it.")
        )
    if not plan.goals.exists():
        raise ServiceError(gettext("Add at least one goal before approving the plan."))
    plan.status = LifePlan.Status.APPROVED
    plan.approved_by = by
    plan.approved_at = timezone.now()
    plan.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
    _log(plan, by, PlanChange.Action.APPROVED)
    return plan


@transaction.atomic
def review_plan(*, plan: LifePlan, by: AbstractBaseUser, on: date | None = None) -> LifePlan:
    _require_current(plan)
    _require_plan_worker(by, plan)
    day = on or timezone.localdate()
    services._not_after_today(day, gettext("The review date cannot be in the future."))
    if day < plan.reviewed_on:
        raise ServiceError(gettext("The review date cannot be before the last review."))
    _log(
        plan,
        by,
        PlanChange.Action.REVIEWED,
        field="reviewed_on",
        old_value=plan.reviewed_on.isoformat(),
        new_value=day.isoformat(),
    )
    plan.reviewed_on = day
    plan.save(update_fields=["reviewed_on", "updated_at"])
    return plan


@transaction.atomic
def start_new_version(*, plan: LifePlan, by: AbstractBaseUser) -> LifePlan:
    """A new draft with the goals and milestones of the current plan; the current one is kept,
    read only. The new version is approved again before incentives are requested against it."""
    plan = (
        LifePlan.objects.select_for_update().select_related("enrollment__program").get(pk=plan.pk)
    )
    _require_current(plan)
    _require_plan_worker(by, plan)
    if plan.status != LifePlan.Status.APPROVED:
        raise ServiceError(
            gettext("A draft is changed as it is; a new version starts from an approved plan.")
        )
    _log(plan, by, PlanChange.Action.NEW_VERSION)
    plan.status = LifePlan.Status.SUPERSEDED
    plan.superseded_at = timezone.now()
    plan.save(update_fields=["status", "superseded_at", "updated_at"])
    new = LifePlan.objects.create(
        enrollment=plan.enrollment,
        version=plan.version + 1,
        drafted_by=by,
        reviewed_on=timezone.localdate(),
    )
    for goal in plan.goals.prefetch_related("milestones"):
        copy = Goal.objects.create(
            plan=new,
            domain=goal.domain,
            description=goal.description,
            target_on=goal.target_on,
            status=goal.status,
            order=goal.order,
        )
        Milestone.objects.bulk_create(
            Milestone(
                goal=copy,
                description=m.description,
                due_on=m.due_on,
                met_on=m.met_on,
                met_in_session=m.met_in_session,
                order=m.order,
                origin_id=m.origin_id or m.pk,
            )
            for m in goal.milestones.all()
        )
    return new


@transaction.atomic
def add_goal(
    *,
    plan: LifePlan,
    by: AbstractBaseUser,
    domain: str,
    description: str,
    target_on: date,
) -> Goal:
    _require_current(plan)
    _require_plan_worker(by, plan)
    if domain not in Domain.values:
        raise ServiceError(gettext("Choose the goal's domain."))
    goal = Goal.objects.create(
        plan=plan,
        domain=domain,
        description=_clean_text(description, "goal"),
        target_on=target_on,
        order=plan.goals.count(),
    )
    _log(plan, by, PlanChange.Action.GOAL_ADDED, goal=goal, new_value=goal.description)
    return goal


GOAL_FIELDS = ("domain", "description", "target_on", "status")


@transaction.atomic
def update_goal(*, goal: Goal, by: AbstractBaseUser, **changes: Any) -> Goal:
    goal = (
        Goal.objects.select_for_update().select_related("plan__enrollment__program").get(pk=goal.pk)
    )
    _require_current(goal.plan)
    _require_plan_worker(by, goal.plan)
    unknown = set(changes) - set(GOAL_FIELDS)
    if unknown:
        raise ServiceError(f"These goal fields cannot be changed: {', '.join(sorted(unknown))}.")
    if "description" in changes:
        changes["description"] = _clean_text(changes["description"], "goal")
    if "status" in changes and changes["status"] not in Goal.Status.values:
        raise ServiceError(gettext("Choose the goal's status."))
    if "domain" in changes and changes["domain"] not in Domain.values:
        raise ServiceError(gettext("Choose the goal's domain."))
    _apply_changes(goal, goal.plan, by, PlanChange.Action.GOAL_CHANGED, changes, goal=goal)
    return goal


@transaction.atomic
def add_milestone(*, goal: Goal, by: AbstractBaseUser, description: str, due_on: date) -> Milestone:
    plan = goal.plan
    _require_current(plan)
    _require_plan_worker(by, plan)
    milestone = Milestone.objects.create(
        goal=goal,
        description=_clean_text(description, "milestone"),
        due_on=due_on,
        order=goal.milestones.count(),
    )
    _log(
        plan,
        by,
        PlanChange.Action.MILESTONE_ADDED,
        goal=goal,
        milestone=milestone,
        new_value=milestone.description,
    )
    return milestone


@transaction.atomic
def update_milestone(
    *, milestone: Milestone, by: AbstractBaseUser, description: str, due_on: date
) -> Milestone:
    milestone = (
        Milestone.objects.select_for_update()
        .select_related("goal__plan__enrollment__program")
        .get(pk=milestone.pk)
    )
    plan = milestone.goal.plan
    _require_current(plan)
    _require_plan_worker(by, plan)
    description = _clean_text(description, "milestone")
    _apply_changes(
        milestone,
        plan,
        by,
        PlanChange.Action.MILESTONE_CHANGED,
        {"description": description, "due_on": due_on},
        goal=milestone.goal,
        milestone=milestone,
    )
    return milestone


@transaction.atomic
def mark_milestone_met(
    *,
    milestone: Milestone,
    by: AbstractBaseUser,
    on: date | None = None,
    session: Session | None = None,
) -> Milestone:
    milestone = (
        Milestone.objects.select_for_update()
        .select_related("goal__plan__enrollment__program")
        .get(pk=milestone.pk)
    )
    plan = milestone.goal.plan
    _require_current(plan)
    _require_plan_worker(by, plan)
    day = on or timezone.localdate()
    services._not_after_today(day, gettext("The milestone date cannot be in the future."))
    if milestone.met_on is not None:
        raise ServiceError(gettext("This milestone is already met."))
    milestone.met_on = day
    milestone.met_in_session = session
    milestone.save(update_fields=["met_on", "met_in_session", "updated_at"])
    _log(
        plan,
        by,
        PlanChange.Action.MILESTONE_MET,
        goal=milestone.goal,
        milestone=milestone,
        field="met_on",
        new_value=day.isoformat(),
    )
    return milestone


# The session form's optional step ---------------------------------------------------------------


@transaction.atomic
def record_session_progress(
    *,
    session: Session,
    by: AbstractBaseUser,
    worked_on: Iterable[Milestone] = (),
    met: Iterable[Milestone] = (),
) -> list[MilestoneProgress]:
    """The milestones worked on or met in a session. A milestone of someone who was not in the
    session, or of another organisation's plan, is refused."""
    met = list(dict.fromkeys(met))
    worked_on = [m for m in dict.fromkeys(worked_on) if m not in met]
    milestones = [*worked_on, *met]
    if not milestones:
        return []
    attendees = set(session.attendance.values_list("participant_id", flat=True))
    found = {
        m.pk: m
        for m in Milestone.objects.filter(pk__in=[m.pk for m in milestones]).select_related(
            "goal__plan__enrollment__program"
        )
    }
    for milestone in found.values():
        plan = milestone.goal.plan
        if plan.enrollment.participant_id not in attendees:
            raise ServiceError(
                gettext("A milestone ticked belongs to someone who was not in the session.")
            )
        if plan.enrollment.program.organization_id != session.organization_id:
            raise ServiceError(
                gettext("Milestones are ticked in sessions of the plan's organisation.")
            )
    on = timezone.localtime(session.occurred_at).date()
    for milestone in met:
        mark_milestone_met(milestone=found[milestone.pk], by=by, on=on, session=session)
    return MilestoneProgress.objects.bulk_create(
        [
            MilestoneProgress(session=session, milestone=found[m.pk], met=m in met, recorded_by=by)
            for m in milestones
        ]
    )


@transaction.atomic
def log_session_with_progress(
    *,
    worked_on: Iterable[Milestone] = (),
    met: Iterable[Milestone] = (),
    **session_fields: Any,
) -> Session:
    """`services.log_session`, then the milestones ticked in the form's optional step, in one
    transaction: a refused tick logs no session."""
    session = services.log_session(**session_fields)
    worked_on, met = list(worked_on), list(met)
    if (worked_on or met) and not session.plan_progress.exists():
        record_session_progress(
            session=session, by=session_fields["worker"], worked_on=worked_on, met=met
        )
    return session


# The incentive ledger ---------------------------------------------------------------------------


def month_of(day: date) -> date:
    return day.replace(day=1)


def _rules_for(enrollment: Enrollment) -> IncentiveRules:
    rules = IncentiveRules.objects.filter(program_id=enrollment.program_id).first()
    if rules is None or not rules.pays_incentives:
        raise ServiceError(
            gettext("%(program)s does not pay incentives.") % {"program": enrollment.program}
        )
    return rules


def eligible_from(enrollment: Enrollment, rules: IncentiveRules) -> date:
    started = enrollment.enrolled_on or enrollment.active_on or enrollment.referred_on
    return add_months(started, rules.months_before_eligible)


def _check_rules(
    *,
    enrollment: Enrollment,
    month: date,
    amount_cents: int,
    funding_source: str,
    excluding: IncentiveEntry | None = None,
) -> None:
    """The program's rules for one more payment of `amount_cents` in `month`. At request time
    (`excluding` is None) requests still waiting count too, so a worker cannot queue more than
    the caps allow; at approval only what is approved or paid counts, so one waiting request
    does not block the approval of another."""
    rules = _rules_for(enrollment)
    if funding_source not in rules.funding_sources:
        raise ServiceError(
            gettext("%(program)s does not pay incentives from that source.")
            % {"program": enrollment.program}
        )
    start = eligible_from(enrollment, rules)
    today = timezone.localdate()
    if today < start or month < month_of(start):
        raise ServiceError(
            gettext(
                "Not yet eligible: incentives start after %(months)s months in the program, on "
                "%(start)s."
            )
            % {
                "months": rules.months_before_eligible,
                "start": dateformat.format(start, "M j, Y"),
            }
        )
    if month > month_of(today):
        raise ServiceError(
            gettext("An incentive is for this month or an earlier one, not a future one.")
        )
    counted = live_payments(IncentiveEntry.objects.filter(enrollment=enrollment))
    if excluding is not None:
        counted = counted.exclude(pk=excluding.pk).exclude(status=IncentiveEntry.Status.REQUESTED)
    in_month = counted.filter(month=month).aggregate(total=Sum("amount_cents"))["total"] or 0
    if in_month + amount_cents > rules.monthly_cap_cents:
        raise ServiceError(
            gettext(
                "Monthly cap exceeded: %(counted)s is already counted for %(month)s, and the cap "
                "is %(cap)s."
            )
            % {
                "counted": _dollars(in_month),
                "month": dateformat.format(month, "F Y"),
                "cap": _dollars(rules.monthly_cap_cents),
            }
        )
    total = counted.aggregate(total=Sum("amount_cents"))["total"] or 0
    if total + amount_cents > rules.total_cap_cents:
        raise ServiceError(
            gettext("Total cap exceeded: %(counted)s is already counted, and the cap is %(cap)s.")
            % {"counted": _dollars(total), "cap": _dollars(rules.total_cap_cents)}
        )
    months = set(counted.values_list("month", flat=True)) | {month}
    if len(months) > rules.max_months:
        raise ServiceError(
            gettext("Incentives are paid for at most %(months)s months in this program.")
            % {"months": rules.max_months}
        )


def _dollars(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"


@transaction.atomic
def request_incentive(
    *,
    milestones: Iterable[Milestone],
    by: AbstractBaseUser,
    month: date,
    amount_cents: int,
    funding_source: str,
) -> IncentiveEntry:
    milestones = list(dict.fromkeys(milestones))
    if not milestones:
        raise ServiceError(gettext("Choose the met milestones the incentive is for."))
    if not isinstance(amount_cents, int) or isinstance(amount_cents, bool) or amount_cents <= 0:
        raise ServiceError(gettext("The amount must be a whole number of cents above zero."))
    plans = set(
        Milestone.objects.filter(pk__in=[m.pk for m in milestones]).values_list(
            "goal__plan_id", flat=True
        )
    )
    if len(plans) != 1:
        raise ServiceError(gettext("An incentive is requested for milestones of one plan."))
    plan = LifePlan.objects.select_related("enrollment__program__organization").get(pk=plans.pop())
    # One request at a time per enrolment: the caps are read and written under this lock.
    enrollment = (
        Enrollment.objects.select_for_update().select_related("program").get(pk=plan.enrollment_id)
    )
    _require_role(
        by,
        enrollment.program.organization,
        gettext("outreach workers and managers"),
        Role.OUTREACH_WORKER,
        Role.MANAGER,
    )
    if plan.status != LifePlan.Status.APPROVED:
        raise ServiceError(gettext("Incentives are paid against an approved, current plan."))
    if enrollment.status not in PLAN_ENROLLMENT_STATUSES:
        raise ServiceError(
            gettext("Incentives are paid while the enrolment is enrolled or active.")
        )
    fresh = list(Milestone.objects.filter(pk__in=[m.pk for m in milestones]))
    if any(m.met_on is None for m in fresh):
        raise ServiceError(gettext("An incentive is paid for milestones that are met."))
    origins = {m.origin_id or m.pk for m in fresh}
    same = Milestone.objects.filter(Q(pk__in=origins) | Q(origin_id__in=origins))
    already = live_payments(IncentiveEntry.objects.filter(milestones__in=same))
    if already.exists():
        raise ServiceError(
            gettext("One of these milestones already has an incentive requested or paid.")
        )
    month = month_of(month)
    _check_rules(
        enrollment=enrollment, month=month, amount_cents=amount_cents, funding_source=funding_source
    )
    entry = IncentiveEntry.objects.create(
        enrollment=enrollment,
        plan=plan,
        month=month,
        amount_cents=amount_cents,
        funding_source=funding_source,
        requested_by=by,
    )
    IncentiveEntryMilestone.objects.bulk_create(
        IncentiveEntryMilestone(entry=entry, milestone=m) for m in fresh
    )
    return entry


def _locked_entry(entry: IncentiveEntry) -> IncentiveEntry:
    """The entry, after locking its enrolment (the same lock as requests take)."""
    Enrollment.objects.select_for_update().filter(pk=entry.enrollment_id).first()
    return (
        IncentiveEntry.objects.select_for_update(of=("self",))
        .select_related("enrollment__program__organization")
        .get(pk=entry.pk)
    )


def _require_decider(entry: IncentiveEntry, by: AbstractBaseUser) -> None:
    _require_role(by, entry.enrollment.program.organization, gettext("managers"), Role.MANAGER)
    if entry.requested_by_id == by.pk:
        raise ServiceError(
            gettext("A request is approved or declined by a manager other than its requester.")
        )
    if entry.status != IncentiveEntry.Status.REQUESTED:
        raise ServiceError(
            gettext("This entry is already %(status)s.")
            % {"status": entry.get_status_display().lower()}
        )


@transaction.atomic
def approve_incentive(*, entry: IncentiveEntry, by: AbstractBaseUser) -> IncentiveEntry:
    entry = _locked_entry(entry)
    _require_decider(entry, by)
    if entry.kind == IncentiveEntry.Kind.PAYMENT:
        if entry.plan.status != LifePlan.Status.APPROVED:
            raise ServiceError(gettext("Incentives are paid against an approved, current plan."))
        _check_rules(
            enrollment=entry.enrollment,
            month=entry.month,
            amount_cents=entry.amount_cents,
            funding_source=entry.funding_source,
            excluding=entry,
        )
    entry.status = IncentiveEntry.Status.APPROVED
    entry.decided_by = by
    entry.decided_at = timezone.now()
    entry.save(update_fields=["status", "decided_by", "decided_at"])
    return entry


@transaction.atomic
def decline_incentive(
    *, entry: IncentiveEntry, by: AbstractBaseUser, reason: str
) -> IncentiveEntry:
    entry = _locked_entry(entry)
    _require_decider(entry, by)
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(gettext("Say why the request is declined."))
    entry.status = IncentiveEntry.Status.DECLINED
    entry.decided_by = by
    entry.decided_at = timezone.now()
    entry.decline_reason = reason[:300]
    entry.save(update_fields=["status", "decided_by", "decided_at", "decline_reason"])
    return entry


@transaction.atomic
def mark_incentive_paid(
    *,
    entry: IncentiveEntry,
    by: AbstractBaseUser,
    paid_on: date,
    method: str,
    reference: str = "",
) -> IncentiveEntry:
    entry = _locked_entry(entry)
    _require_role(by, entry.enrollment.program.organization, gettext("finance staff"), Role.FINANCE)
    if entry.status != IncentiveEntry.Status.APPROVED:
        raise ServiceError(
            gettext("Only an approved entry can be marked paid; this one is %(status)s.")
            % {"status": entry.get_status_display().lower()}
        )
    if method not in IncentiveEntry.Method.values:
        raise ServiceError(gettext("Choose how it was paid."))
    services._not_after_today(paid_on, gettext("The payment date cannot be in the future."))
    if paid_on < timezone.localtime(entry.decided_at).date():
        raise ServiceError(gettext("The payment date cannot be before the approval."))
    entry.status = IncentiveEntry.Status.PAID
    entry.paid_by = by
    entry.paid_on = paid_on
    entry.payment_method = method
    entry.payment_reference = reference.strip()[:100]
    entry.paid_recorded_at = timezone.now()
    entry.save(
        update_fields=[
            "status",
            "paid_by",
            "paid_on",
            "payment_method",
            "payment_reference",
            "paid_recorded_at",
        ]
    )
    return entry


@transaction.atomic
def reverse_incentive(*, entry: IncentiveEntry, by: AbstractBaseUser) -> IncentiveEntry:
    """Correct a paid payment: a reversing entry of the opposite amount, approved by a second
    manager and posted by finance like any other entry."""
    entry = _locked_entry(entry)
    _require_role(
        by,
        entry.enrollment.program.organization,
        gettext("managers and finance staff"),
        Role.MANAGER,
        Role.FINANCE,
    )
    if entry.kind != IncentiveEntry.Kind.PAYMENT or entry.status != IncentiveEntry.Status.PAID:
        raise ServiceError(gettext("Only a paid payment is corrected by a reversing entry."))
    if IncentiveEntry.objects.filter(reverses=entry).exists():
        raise ServiceError(gettext("This payment already has a reversing entry."))
    return IncentiveEntry.objects.create(
        enrollment=entry.enrollment,
        plan=entry.plan,
        kind=IncentiveEntry.Kind.REVERSAL,
        reverses=entry,
        month=entry.month,
        amount_cents=-entry.amount_cents,
        funding_source=entry.funding_source,
        requested_by=by,
    )
