"""Intensive case management: life plans with goals and milestones, and the incentive ledger.

A plan belongs to an enrolment; one plan per enrolment is current, earlier versions stay, read
only. The worker drafts it, a manager of the organisation other than the drafter approves it;
changes after approval are kept (PlanChange) with who and when.

The ledger is money, held to a bank's standard (SECURITY.md): integer cents; a request approved
or declined by someone other than its requester; nothing edited or deleted once settled. The
check constraints below and the triggers of migration 0005 keep those rules in the database, so
a write that goes around the services is refused too. A mistake is corrected by a reversing
entry. Plan, goal and milestone text is case-note-grade: it stays with the owning organisation
and is never listed or searched in the admin."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from interventions.models.case import Enrollment, Program, Session, TimeStamped


class Domain(models.TextChoices):
    SAFETY = "safety", _("Safety and conflict")
    LEGAL = "legal", _("Legal and court")
    EDUCATION = "education", _("Education")
    EMPLOYMENT = "employment", _("Employment")
    HOUSING = "housing", _("Housing")
    HEALTH = "health", _("Health and mental health")
    SUBSTANCE_USE = "substance_use", _("Substance use")
    FAMILY = "family", _("Family and relationships")
    IDENTITY_DOCUMENTS = "identity_documents", _("Identity documents")
    OTHER = "other", _("Other")


# Templates: starting goals per program, defined by a city admin ---------------------------------


class PlanTemplate(TimeStamped):
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="plan_templates", verbose_name=_("program")
    )
    name = models.CharField(max_length=120, verbose_name=_("name"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("plan template")
        verbose_name_plural = _("plan templates")
        ordering = ["program__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "name"],
                name="plantemplate_unique_name_per_program",
                violation_error_message=_("This program already has a template of that name."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program}: {self.name}"


class PlanTemplateGoal(models.Model):
    template = models.ForeignKey(
        PlanTemplate, on_delete=models.CASCADE, related_name="goals", verbose_name=_("template")
    )
    domain = models.CharField(max_length=30, choices=Domain.choices, verbose_name=_("domain"))
    description = models.CharField(
        max_length=300,
        help_text=_("A generic starting point; the worker adapts it with the person."),
        verbose_name=_("description"),
    )
    target_weeks = models.PositiveSmallIntegerField(
        default=12,
        help_text=_("Target date, in weeks from the day the plan is drafted."),
        verbose_name=_("target weeks"),
    )
    # Milestones proposed for this goal, one per line.
    milestones = models.TextField(
        blank=True, help_text=_("Starting milestones, one per line."), verbose_name=_("milestones")
    )
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        verbose_name = _("plan template goal")
        verbose_name_plural = _("plan template goals")
        ordering = ["template", "order", "pk"]

    def __str__(self) -> str:
        return f"{self.get_domain_display()}: {self.description}"


# Plans ------------------------------------------------------------------------------------------


class LifePlan(TimeStamped):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        APPROVED = "approved", _("Approved")
        SUPERSEDED = "superseded", _("Superseded")

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.PROTECT, related_name="plans", verbose_name=_("enrollment")
    )
    version = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.DRAFT, verbose_name=_("status")
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="plans_drafted",
        verbose_name=_("drafted by"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="plans_approved",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(null=True, blank=True, verbose_name=_("approved at"))
    reviewed_on = models.DateField(
        help_text=_("The last day the plan was reviewed with the person."),
        verbose_name=_("reviewed on"),
    )
    superseded_at = models.DateTimeField(null=True, blank=True, verbose_name=_("superseded at"))

    class Meta:
        verbose_name = _("life plan")
        verbose_name_plural = _("life plans")
        ordering = ["enrollment", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["enrollment"],
                condition=~Q(status="superseded"),
                name="lifeplan_one_current_per_enrollment",
                violation_error_message=_("This enrolment already has a current plan."),
            ),
            models.UniqueConstraint(
                fields=["enrollment", "version"], name="lifeplan_unique_version"
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("drafted_by")),
                name="lifeplan_approver_is_not_drafter",
                violation_error_message=_("A plan is approved by someone other than its drafter."),
            ),
            models.CheckConstraint(
                condition=Q(status="draft", approved_by__isnull=True, approved_at__isnull=True)
                | (~Q(status="draft") & Q(approved_by__isnull=False, approved_at__isnull=False)),
                name="lifeplan_approval_has_approver_and_time",
            ),
            models.CheckConstraint(
                condition=Q(status="superseded", superseded_at__isnull=False)
                | (~Q(status="superseded") & Q(superseded_at__isnull=True)),
                name="lifeplan_superseded_has_its_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Plan v{self.version} for enrolment {self.enrollment_id}"

    @property
    def is_current(self) -> bool:
        return self.status != self.Status.SUPERSEDED


class Goal(TimeStamped):
    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("Not started")
        IN_PROGRESS = "in_progress", _("In progress")
        ACHIEVED = "achieved", _("Achieved")
        CHANGED = "changed", _("Changed")
        DROPPED = "dropped", _("Dropped")

    OPEN_STATUSES = (Status.NOT_STARTED, Status.IN_PROGRESS)

    plan = models.ForeignKey(
        LifePlan, on_delete=models.PROTECT, related_name="goals", verbose_name=_("plan")
    )
    domain = models.CharField(max_length=30, choices=Domain.choices, verbose_name=_("domain"))
    # In the participant's own words: case-note-grade text.
    description = models.TextField(verbose_name=_("description"))
    target_on = models.DateField(verbose_name=_("target on"))
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.NOT_STARTED, verbose_name=_("status")
    )
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))

    class Meta:
        verbose_name = _("goal")
        verbose_name_plural = _("goals")
        ordering = ["plan", "order", "pk"]
        indexes = [models.Index(fields=["plan", "status"], name="goal_plan_status_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="goal_has_a_description",
                violation_error_message=_("Describe the goal in the participant's words."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_domain_display()} goal {self.pk}"


class Milestone(TimeStamped):
    goal = models.ForeignKey(
        Goal, on_delete=models.PROTECT, related_name="milestones", verbose_name=_("goal")
    )
    description = models.TextField(verbose_name=_("description"))
    due_on = models.DateField(verbose_name=_("due on"))
    met_on = models.DateField(null=True, blank=True, verbose_name=_("met on"))
    met_in_session = models.ForeignKey(
        Session,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="milestones_met",
        verbose_name=_("met in session"),
    )
    order = models.PositiveSmallIntegerField(default=0, verbose_name=_("order"))
    # The same milestone in the first plan version it appeared in: a milestone paid for in one
    # version is not paid again in the next.
    origin = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("origin"),
    )

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["goal", "due_on", "order", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(description=""),
                name="milestone_has_a_description",
                violation_error_message=_("Describe the milestone."),
            ),
            models.CheckConstraint(
                condition=Q(met_in_session__isnull=True) | Q(met_on__isnull=False),
                name="milestone_met_in_session_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"Milestone {self.pk} ({'met' if self.met_on else 'open'})"

    @property
    def is_met(self) -> bool:
        return self.met_on is not None


class MilestoneProgress(models.Model):
    """A milestone worked on, or met, in a session (the session form's optional step)."""

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="plan_progress", verbose_name=_("session")
    )
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, related_name="progress", verbose_name=_("milestone")
    )
    met = models.BooleanField(default=False, verbose_name=_("met"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    recorded_at = models.DateTimeField(db_default=Now(), verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("milestone progress")
        verbose_name_plural = _("milestone progresss")
        ordering = ["-recorded_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "milestone"], name="milestoneprogress_once_per_session"
            ),
        ]

    def __str__(self) -> str:
        return f"Milestone {self.milestone_id} in session {self.session_id}"


class PlanChange(models.Model):
    """A change to an approved plan: who, when, what. Old and new values are plan text, so this
    table is read with the plan, by the owning organisation only."""

    class Action(models.TextChoices):
        APPROVED = "approved", _("Approved")
        GOAL_ADDED = "goal_added", _("Goal added")
        GOAL_CHANGED = "goal_changed", _("Goal changed")
        MILESTONE_ADDED = "milestone_added", _("Milestone added")
        MILESTONE_CHANGED = "milestone_changed", _("Milestone changed")
        MILESTONE_MET = "milestone_met", _("Milestone met")
        REVIEWED = "reviewed", _("Reviewed")
        NEW_VERSION = "new_version", _("New version started")

    plan = models.ForeignKey(
        LifePlan, on_delete=models.PROTECT, related_name="changes", verbose_name=_("plan")
    )
    action = models.CharField(max_length=30, choices=Action.choices, verbose_name=_("action"))
    goal = models.ForeignKey(
        Goal,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("goal"),
    )
    milestone = models.ForeignKey(
        Milestone,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("milestone"),
    )
    field = models.CharField(max_length=40, blank=True, verbose_name=_("field"))
    old_value = models.TextField(blank=True, verbose_name=_("old value"))
    new_value = models.TextField(blank=True, verbose_name=_("new value"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("changed by"),
    )
    changed_at = models.DateTimeField(db_default=Now(), verbose_name=_("changed at"))

    class Meta:
        verbose_name = _("plan change")
        verbose_name_plural = _("plan changes")
        ordering = ["-changed_at", "-pk"]
        indexes = [models.Index(fields=["plan", "-changed_at"], name="planchange_plan_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} on plan {self.plan_id}"


# The incentive ledger -----------------------------------------------------------------------------


class FundingSource(models.TextChoices):
    PUBLIC_GRANT = "public_grant", _("Public grant")
    PRIVATE_FUNDS = "private_funds", _("Private funds")


class IncentiveRules(TimeStamped):
    """A program's incentive rules, set by a city admin. Caps are in cents and apply to the
    participant's enrolment, both funding sources together."""

    program = models.OneToOneField(
        Program, on_delete=models.PROTECT, related_name="incentive_rules", verbose_name=_("program")
    )
    pays_incentives = models.BooleanField(default=False, verbose_name=_("pays incentives"))
    months_before_eligible = models.PositiveSmallIntegerField(
        default=6,
        help_text=_("Months in the program before incentives can be paid."),
        verbose_name=_("months before eligible"),
    )
    monthly_cap_cents = models.PositiveIntegerField(
        help_text=_("In cents: 100000 is $1,000."), verbose_name=_("monthly cap cents")
    )
    total_cap_cents = models.PositiveIntegerField(
        help_text=_("In cents, for the whole enrolment."), verbose_name=_("total cap cents")
    )
    max_months = models.PositiveSmallIntegerField(
        default=9,
        help_text=_("How many different months can have an incentive."),
        verbose_name=_("max months"),
    )
    funds_public_grant = models.BooleanField(_("Paid from a public grant"), default=True)
    funds_private = models.BooleanField(_("Paid from private funds"), default=False)

    class Meta:
        verbose_name = _("incentive rules")
        verbose_name_plural = _("incentive rules")
        constraints = [
            models.CheckConstraint(
                condition=Q(monthly_cap_cents__gt=0)
                & Q(total_cap_cents__gte=F("monthly_cap_cents")),
                name="incentiverules_caps_positive_and_ordered",
                violation_error_message=_(
                    "The monthly cap must be above zero and not above the total cap."
                ),
            ),
            models.CheckConstraint(
                condition=Q(max_months__gte=1),
                name="incentiverules_at_least_one_month",
                violation_error_message=_("Allow at least one month of incentives."),
            ),
            models.CheckConstraint(
                condition=~Q(pays_incentives=True)
                | Q(funds_public_grant=True)
                | Q(funds_private=True),
                name="incentiverules_paying_program_has_a_source",
                violation_error_message=_("A program that pays incentives needs a funding source."),
            ),
        ]

    def __str__(self) -> str:
        return f"Incentive rules of {self.program}"

    @property
    def funding_sources(self) -> list[str]:
        sources = []
        if self.funds_public_grant:
            sources.append(FundingSource.PUBLIC_GRANT.value)
        if self.funds_private:
            sources.append(FundingSource.PRIVATE_FUNDS.value)
        return sources


class IncentiveEntry(models.Model):
    """One ledger entry: requested → approved or declined → (approved) paid.

    A payment entry has a positive amount and one or more met milestones; a reversal has the
    negative amount of the paid entry it corrects. Each step fills its own columns once; the
    trigger `incentive_entry_guard` (migration 0005) refuses any other UPDATE and every DELETE."""

    class Kind(models.TextChoices):
        PAYMENT = "payment", _("Payment")
        REVERSAL = "reversal", _("Reversal")

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")
        PAID = "paid", _("Paid")

    class Method(models.TextChoices):
        CHECK = "check", _("Check")
        CARD = "card", _("Card")
        CASH = "cash", _("Cash")
        TRANSFER = "transfer", _("Transfer")

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.PROTECT,
        related_name="incentive_entries",
        verbose_name=_("enrollment"),
    )
    plan = models.ForeignKey(
        LifePlan, on_delete=models.PROTECT, related_name="incentive_entries", verbose_name=_("plan")
    )
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.PAYMENT, verbose_name=_("kind")
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    month = models.DateField(
        help_text=_("The month the incentive is for (its first day)."), verbose_name=_("month")
    )
    amount_cents = models.IntegerField(verbose_name=_("amount cents"))
    funding_source = models.CharField(
        max_length=20, choices=FundingSource.choices, verbose_name=_("funding source")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.REQUESTED, verbose_name=_("status")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incentives_requested",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(db_default=Now(), verbose_name=_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incentives_decided",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(null=True, blank=True, verbose_name=_("decided at"))
    decline_reason = models.CharField(max_length=300, blank=True, verbose_name=_("decline reason"))
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incentives_paid",
        verbose_name=_("paid by"),
    )
    paid_on = models.DateField(null=True, blank=True, verbose_name=_("paid on"))
    payment_method = models.CharField(
        max_length=10, choices=Method.choices, blank=True, verbose_name=_("payment method")
    )
    payment_reference = models.CharField(
        max_length=100, blank=True, verbose_name=_("payment reference")
    )
    paid_recorded_at = models.DateTimeField(
        null=True, blank=True, verbose_name=_("paid recorded at")
    )
    milestones = models.ManyToManyField(
        Milestone,
        through="IncentiveEntryMilestone",
        related_name="incentive_entries",
        verbose_name=_("milestones"),
    )

    class Meta:
        verbose_name = _("incentive entry")
        verbose_name_plural = _("incentive entries")
        ordering = ["-month", "-requested_at", "-pk"]
        indexes = [
            models.Index(fields=["enrollment", "month"], name="incentive_enrollment_month_idx"),
            models.Index(fields=["month", "funding_source"], name="incentive_month_source_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="payment") & Q(amount_cents__gt=0) & Q(reverses__isnull=True))
                | (Q(kind="reversal") & Q(amount_cents__lt=0) & Q(reverses__isnull=False)),
                name="incentive_amount_sign_follows_kind",
                violation_error_message=_(
                    "A payment is a positive amount; a reversal is the negative amount of the "
                    "entry it corrects."
                ),
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="incentive_two_person_rule",
                violation_error_message=_(
                    "A request is approved or declined by someone other than its requester."
                ),
            ),
            models.CheckConstraint(
                condition=Q(month__day=1),
                name="incentive_month_is_first_day",
                violation_error_message=_("The month is given by its first day."),
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="requested", decided_by__isnull=True, decided_at__isnull=True)
                    | (
                        Q(status__in=["approved", "declined", "paid"])
                        & Q(decided_by__isnull=False, decided_at__isnull=False)
                    )
                ),
                name="incentive_decision_has_decider_and_time",
            ),
            models.CheckConstraint(
                condition=Q(status="declined") | Q(decline_reason=""),
                name="incentive_reason_only_when_declined",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status="paid")
                    & Q(
                        paid_by__isnull=False, paid_on__isnull=False, paid_recorded_at__isnull=False
                    )
                    & ~Q(payment_method="")
                )
                | (
                    ~Q(status="paid")
                    & Q(paid_by__isnull=True, paid_on__isnull=True, paid_recorded_at__isnull=True)
                    & Q(payment_method="", payment_reference="")
                ),
                name="incentive_payment_has_date_method_and_payer",
                violation_error_message=_("A paid entry has its date, method and who paid it."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.get_status_display()})"

    @property
    def amount_dollars(self) -> str:
        sign = "-" if self.amount_cents < 0 else ""
        cents = abs(self.amount_cents)
        return f"{sign}${cents // 100:,}.{cents % 100:02d}"


class IncentiveEntryMilestone(models.Model):
    entry = models.ForeignKey(
        IncentiveEntry, on_delete=models.PROTECT, related_name="+", verbose_name=_("entry")
    )
    milestone = models.ForeignKey(
        Milestone, on_delete=models.PROTECT, related_name="+", verbose_name=_("milestone")
    )

    class Meta:
        verbose_name = _("incentive entry milestone")
        verbose_name_plural = _("incentive entry milestones")
        constraints = [
            models.UniqueConstraint(
                fields=["entry", "milestone"], name="incentive_milestone_once_per_entry"
            ),
        ]

    def __str__(self) -> str:
        return f"Milestone {self.milestone_id} in entry {self.entry_id}"
