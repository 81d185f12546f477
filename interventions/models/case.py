"""The case records: areas, partner organisations and their members, programs, participants,
enrolments and their status changes, sessions and referrals. The database keeps every rule it
can (see Meta.constraints); writes that have rules go through the services, reads of case data
through `interventions.access`."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Area(TimeStamped):
    class Kind(models.TextChoices):
        COUNTY = "county", _("County")
        CITY = "city", _("City")
        NEIGHBORHOOD = "neighborhood", _("Neighborhood")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.CITY, verbose_name=_("kind")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent"),
    )

    class Meta:
        verbose_name = _("area")
        verbose_name_plural = _("areas")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=F("id")),
                name="area_not_its_own_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerOrganization(TimeStamped):
    class Kind(models.TextChoices):
        NONPROFIT = "nonprofit", _("Nonprofit")
        CITY = "city", _("City")
        COUNTY = "county", _("County")
        HOSPITAL = "hospital", _("Hospital")
        SCHOOL = "school", _("School")
        FAITH = "faith", _("Faith-based")

    name = models.CharField(max_length=200, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    kind = models.CharField(
        max_length=20, choices=Kind.choices, default=Kind.NONPROFIT, verbose_name=_("kind")
    )
    areas_served = models.ManyToManyField(
        Area, blank=True, related_name="organizations", verbose_name=_("areas served")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))
    phone = models.CharField(max_length=40, blank=True, verbose_name=_("phone"))
    email = models.EmailField(blank=True, verbose_name=_("email"))

    class Meta:
        verbose_name = _("partner organization")
        verbose_name_plural = _("partner organizations")
        ordering = ["name"]
        # The analyst's one permission: figures across organisations, never a record.
        permissions = [
            (
                "view_aggregate_metrics",
                "Can view aggregate metrics across partner organisations (no records, no notes)",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(TimeStamped):
    class Role(models.TextChoices):
        OUTREACH_WORKER = "outreach_worker", _("Outreach worker")
        MANAGER = "manager", _("Manager")
        # Marks approved incentives paid and reads the ledger; sees no case record.
        FINANCE = "finance", _("Finance")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("organization"),
    )
    role = models.CharField(
        max_length=20, choices=Role.choices, default=Role.OUTREACH_WORKER, verbose_name=_("role")
    )
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["organization__name", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="membership_one_role_per_organization"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organization} ({self.get_role_display()})"


class Program(TimeStamped):
    class Kind(models.TextChoices):
        GANG_INTERVENTION = "gang_intervention", _("Gang intervention")
        MENTORING = "mentoring", _("Mentoring")
        STREET_OUTREACH = "street_outreach", _("Street outreach")
        LIFE_COACHING = "life_coaching", _("Life coaching")
        HOSPITAL_BASED = "hospital_based", _("Hospital-based intervention")
        CASE_MANAGEMENT = "case_management", _("Case management")

    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="programs",
        verbose_name=_("organization"),
    )
    name = models.CharField(max_length=200, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    kind = models.CharField(max_length=30, choices=Kind.choices, verbose_name=_("kind"))
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="programs",
        verbose_name=_("area"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    is_active = models.BooleanField(default=True, verbose_name=_("is active"))

    class Meta:
        verbose_name = _("program")
        verbose_name_plural = _("programs")
        ordering = ["organization__name", "name"]

    def __str__(self) -> str:
        return self.name


class Participant(TimeStamped):
    class ReferralSource(models.TextChoices):
        CALL_IN = "call_in", _("Call-in")
        CUSTOM_NOTIFICATION = "custom_notification", _("Custom notification")
        POLICE = "police", _("Police")
        PROBATION = "probation", _("Probation")
        HOSPITAL = "hospital", _("Hospital")
        SCHOOL = "school", _("School")
        FAMILY_SELF = "family_self", _("Family / self")
        COMMUNITY = "community", _("Community")

    class RiskTier(models.IntegerChoices):
        HIGHEST = 1, _("Tier 1: highest risk")
        HIGH = 2, _("Tier 2: high risk")
        ELEVATED = 3, _("Tier 3: elevated risk")

    # The organisation that registered the person owns the record; other organisations see it
    # only under consent.
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="participants",
        verbose_name=_("organization"),
    )
    participant_code = models.CharField(
        max_length=20, unique=True, verbose_name=_("participant code")
    )
    first_name = models.CharField(max_length=100, verbose_name=_("first name"))
    last_name = models.CharField(max_length=100, verbose_name=_("last name"))
    aliases = models.CharField(
        max_length=200,
        blank=True,
        help_text=_("Street names and other names, comma-separated."),
        verbose_name=_("aliases"),
    )
    date_of_birth = models.DateField(null=True, blank=True, verbose_name=_("date of birth"))
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participants",
        verbose_name=_("area"),
    )
    referral_source = models.CharField(
        max_length=30,
        choices=ReferralSource.choices,
        default=ReferralSource.COMMUNITY,
        verbose_name=_("referral source"),
    )
    risk_tier = models.PositiveSmallIntegerField(
        choices=RiskTier.choices, default=RiskTier.HIGH, verbose_name=_("risk tier")
    )
    phone = models.CharField(max_length=40, blank=True, verbose_name=_("phone"))
    # The funnel: identified -> notified -> engaged.
    identified_on = models.DateField(verbose_name=_("identified on"))
    notified_on = models.DateField(null=True, blank=True, verbose_name=_("notified on"))
    engaged_on = models.DateField(null=True, blank=True, verbose_name=_("engaged on"))

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["last_name", "first_name"]
        indexes = [
            models.Index(fields=["organization", "last_name", "first_name"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(notified_on__isnull=True) | Q(notified_on__gte=F("identified_on")),
                name="participant_notified_not_before_identified",
            ),
            models.CheckConstraint(
                condition=Q(engaged_on__isnull=True) | Q(engaged_on__gte=F("identified_on")),
                name="participant_engaged_not_before_identified",
            ),
            models.CheckConstraint(
                condition=Q(engaged_on__isnull=True)
                | Q(notified_on__isnull=True)
                | Q(engaged_on__gte=F("notified_on")),
                name="participant_engaged_not_before_notified",
            ),
            models.CheckConstraint(
                condition=Q(date_of_birth__isnull=True) | Q(date_of_birth__lte=F("identified_on")),
                name="participant_born_before_identified",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.participant_code})"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    @property
    def first_contact_due_on(self) -> date:
        """The last local calendar day on which a first contact keeps a newly registered
        person from going cold (`selectors.worker.gone_cold_q` counts the same days)."""
        registered_on = timezone.localdate(self.created_at)
        return registered_on + timedelta(days=settings.GVR_COLD_AFTER_DAYS - 1)


class Enrollment(TimeStamped):
    class Status(models.TextChoices):
        REFERRED = "referred", _("Referred")
        CONTACTED = "contacted", _("Contacted")
        ENGAGED = "engaged", _("Engaged")
        ENROLLED = "enrolled", _("Enrolled")
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")
        EXITED = "exited", _("Exited")

    class ExitReason(models.TextChoices):
        GRADUATED = "graduated", _("Graduated")
        MOVED = "moved", _("Moved away")
        INCARCERATED = "incarcerated", _("Incarcerated")
        DECEASED = "deceased", _("Deceased")
        DECLINED = "declined", _("Declined services")
        LOST_CONTACT = "lost_contact", _("Lost contact")

    # A worker's caseload: the people they are working with now.
    CASELOAD_STATUSES = (
        Status.REFERRED,
        Status.CONTACTED,
        Status.ENGAGED,
        Status.ENROLLED,
        Status.ACTIVE,
    )
    # The date field that records when each status was reached.
    STATUS_DATE_FIELDS = {
        Status.REFERRED: "referred_on",
        Status.CONTACTED: "contacted_on",
        Status.ENGAGED: "engaged_on",
        Status.ENROLLED: "enrolled_on",
        Status.ACTIVE: "active_on",
        Status.INACTIVE: "inactive_on",
        Status.EXITED: "exited_on",
    }

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="enrollments",
        verbose_name=_("participant"),
    )
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="enrollments", verbose_name=_("program")
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.REFERRED, verbose_name=_("status")
    )
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_enrollments",
        verbose_name=_("assigned worker"),
    )
    referred_on = models.DateField(verbose_name=_("referred on"))
    contacted_on = models.DateField(null=True, blank=True, verbose_name=_("contacted on"))
    engaged_on = models.DateField(null=True, blank=True, verbose_name=_("engaged on"))
    enrolled_on = models.DateField(null=True, blank=True, verbose_name=_("enrolled on"))
    active_on = models.DateField(null=True, blank=True, verbose_name=_("active on"))
    inactive_on = models.DateField(null=True, blank=True, verbose_name=_("inactive on"))
    exited_on = models.DateField(null=True, blank=True, verbose_name=_("exited on"))
    exit_reason = models.CharField(
        max_length=20, choices=ExitReason.choices, blank=True, verbose_name=_("exit reason")
    )

    class Meta:
        verbose_name = _("enrollment")
        verbose_name_plural = _("enrollments")
        ordering = ["-referred_on"]
        indexes = [
            models.Index(
                fields=["assigned_worker", "status"],
                name="enrollment_caseload_idx",
                condition=~Q(status="exited"),
            ),
            models.Index(fields=["program", "status"], name="enrollment_program_status_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["participant", "program"],
                condition=~Q(status="exited"),
                name="enrollment_one_open_per_program",
                violation_error_message=_(
                    "This participant already has an open enrolment in this program."
                ),
            ),
            models.CheckConstraint(
                condition=Q(exited_on__isnull=True) | Q(exited_on__gte=F("referred_on")),
                name="enrollment_exit_not_before_referral",
            ),
            models.CheckConstraint(
                condition=Q(exited_on__isnull=True)
                | Q(enrolled_on__isnull=True)
                | Q(exited_on__gte=F("enrolled_on")),
                name="enrollment_exit_not_before_enrolment",
            ),
            models.CheckConstraint(
                condition=(Q(status="exited") & Q(exited_on__isnull=False) & ~Q(exit_reason=""))
                | (~Q(status="exited") & Q(exited_on__isnull=True) & Q(exit_reason="")),
                name="enrollment_exit_has_date_and_reason",
            ),
            # Reaching a step dates it: an enrolment that is "active" has an active_on.
            *[
                models.CheckConstraint(
                    condition=~Q(status=status) | Q(**{f"{field}__isnull": False}),
                    name=f"enrollment_{status}_has_its_date",
                )
                for status, field in (
                    ("contacted", "contacted_on"),
                    ("engaged", "engaged_on"),
                    ("enrolled", "enrolled_on"),
                    ("active", "active_on"),
                    ("inactive", "inactive_on"),
                )
            ],
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{field}__isnull": True})
                    | Q(**{f"{field}__gte": F("referred_on")}),
                    name=f"enrollment_{field}_not_before_referral",
                )
                for field in (
                    "contacted_on",
                    "engaged_on",
                    "enrolled_on",
                    "active_on",
                    "inactive_on",
                )
            ],
        ]

    def __str__(self) -> str:
        return gettext("%(participant)s in %(program)s") % {
            "participant": self.participant,
            "program": self.program,
        }

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.EXITED


class EnrollmentStatusChange(models.Model):
    """The dated history of an enrolment's lifecycle (shown on the participant's timeline)."""

    enrollment = models.ForeignKey(
        Enrollment,
        on_delete=models.CASCADE,
        related_name="status_changes",
        verbose_name=_("enrollment"),
    )
    from_status = models.CharField(
        max_length=20, choices=Enrollment.Status.choices, blank=True, verbose_name=_("from status")
    )
    to_status = models.CharField(
        max_length=20, choices=Enrollment.Status.choices, verbose_name=_("to status")
    )
    changed_on = models.DateField(verbose_name=_("changed on"))
    changed_at = models.DateTimeField(auto_now_add=True, verbose_name=_("changed at"))
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("changed by"),
    )
    note = models.CharField(max_length=500, blank=True, verbose_name=_("note"))

    class Meta:
        verbose_name = _("enrollment status change")
        verbose_name_plural = _("enrollment status changes")
        ordering = ["-changed_on", "-changed_at"]
        indexes = [models.Index(fields=["enrollment", "-changed_on"])]

    def __str__(self) -> str:
        return f"{self.enrollment}: {self.from_status or '—'} → {self.to_status}"


# Phones in the field disagree with the server's clock by a little; a session dated a few
# minutes ahead is a clock difference, not a session in the future.
CLOCK_SKEW_ALLOWANCE = timedelta(minutes=5)


class Session(TimeStamped):
    """A contact with one or more participants (more than one for a group session)."""

    class Kind(models.TextChoices):
        MENTORING = "mentoring", _("Mentoring")
        GANG_INTERVENTION = "gang_intervention", _("Gang intervention")
        STREET_OUTREACH = "street_outreach", _("Street outreach")
        LIFE_COACHING = "life_coaching", _("Life coaching")
        GROUP_SESSION = "group_session", _("Group session")
        CALL_IN = "call_in", _("Call-in")
        CUSTOM_NOTIFICATION = "custom_notification", _("Custom notification")
        CRISIS_RESPONSE = "crisis_response", _("Crisis response")
        HOSPITAL_VISIT = "hospital_visit", _("Hospital visit")
        FAMILY_CONTACT = "family_contact", _("Family contact")

    class Location(models.TextChoices):
        STREET = "street", _("Street")
        OFFICE = "office", _("Office")
        HOME = "home", _("Home")
        SCHOOL = "school", _("School")
        HOSPITAL = "hospital", _("Hospital")
        PHONE = "phone", _("Phone")
        VIDEO = "video", _("Video")
        DETENTION = "detention", _("Detention")

    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="sessions",
        verbose_name=_("organization"),
    )
    program = models.ForeignKey(
        Program,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
        verbose_name=_("program"),
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="sessions_logged",
        verbose_name=_("worker"),
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, verbose_name=_("kind"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    duration_minutes = models.PositiveIntegerField(verbose_name=_("duration minutes"))
    location = models.CharField(max_length=20, choices=Location.choices, verbose_name=_("location"))
    participants = models.ManyToManyField(
        Participant,
        through="SessionParticipant",
        related_name="sessions",
        verbose_name=_("participants"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    follow_up_on = models.DateField(null=True, blank=True, verbose_name=_("follow up on"))
    # Generated by the form when it is drawn; a second submit of the same form finds the
    # session the first one created instead of making another.
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-occurred_at"]
        indexes = [
            # Month rollups and date-range reports scan sessions by time across organisations.
            models.Index(fields=["occurred_at"], name="session_occurred_at_idx"),
            # A participant's next follow-up: their sessions that set one, found by id and
            # read from this index alone (most sessions set none).
            models.Index(
                fields=["id"],
                include=["follow_up_on"],
                condition=models.Q(follow_up_on__isnull=False),
                name="session_follow_up_idx",
            ),
            # The funder report's sessions and hours by kind, read from the index alone.
            models.Index(
                fields=["occurred_at"],
                include=["kind", "duration_minutes", "organization"],
                name="session_time_kind_idx",
            ),
            models.Index(fields=["organization", "-occurred_at"]),
            models.Index(fields=["worker", "-occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=1440),
                name="session_duration_1_to_1440_minutes",
                violation_error_message=_("Duration must be between 1 and 1440 minutes."),
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__lte=Now() + CLOCK_SKEW_ALLOWANCE),
                name="session_not_in_future",
                violation_error_message=_("A session cannot be in the future."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d}"

    @property
    def contact_hours(self) -> float:
        return round(self.duration_minutes / 60, 2)


class SessionParticipant(models.Model):
    """Who was in a session. `occurred_at` is copied from the session so "last contact per
    participant" is one index scan instead of a join over every session."""

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="attendance", verbose_name=_("session")
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="attendance",
        verbose_name=_("participant"),
    )
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))

    class Meta:
        verbose_name = _("session participant")
        verbose_name_plural = _("session participants")
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="session_participant_once"
            ),
        ]
        indexes = [
            # Last contact, gone cold and the sessions behind the next follow-up, per
            # participant, from the index alone (the session id is carried in it).
            models.Index(
                fields=["participant", "-occurred_at"],
                include=["session"],
                name="last_session_covering_idx",
            ),
            # One month's attendance for the metrics rollup's refresh of that month.
            models.Index(fields=["occurred_at"], name="attendance_occurred_at_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} @ session {self.session_id}"


class Referral(TimeStamped):
    class ServiceCategory(models.TextChoices):
        EMPLOYMENT = "employment", _("Employment")
        EDUCATION = "education", _("Education")
        HOUSING = "housing", _("Housing")
        MENTAL_HEALTH = "mental_health", _("Mental health")
        SUBSTANCE_USE = "substance_use", _("Substance use")
        LEGAL_AID = "legal_aid", _("Legal aid")
        TATTOO_REMOVAL = "tattoo_removal", _("Tattoo removal")
        RELOCATION = "relocation", _("Relocation")
        HEALTH = "health", _("Health care")
        FAMILY_SUPPORT = "family_support", _("Family support")
        OTHER = "other", _("Other")

    class Status(models.TextChoices):
        MADE = "made", _("Made")
        ACCEPTED = "accepted", _("Accepted")
        COMPLETED = "completed", _("Completed")
        DECLINED = "declined", _("Declined")
        NO_SHOW = "no_show", _("No-show")

    WAITING_STATUSES = (Status.MADE, Status.ACCEPTED)
    CLOSED_STATUSES = (Status.COMPLETED, Status.DECLINED, Status.NO_SHOW)

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="referrals",
        verbose_name=_("participant"),
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="referrals_made",
        help_text=_("The organisation that made the referral."),
        verbose_name=_("organization"),
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="referrals_made",
        verbose_name=_("made by"),
    )
    service_category = models.CharField(
        max_length=30, choices=ServiceCategory.choices, verbose_name=_("service category")
    )
    to_organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
        verbose_name=_("to organization"),
    )
    outside_provider = models.CharField(
        max_length=200, blank=True, verbose_name=_("outside provider")
    )
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.MADE, verbose_name=_("status")
    )
    made_on = models.DateField(verbose_name=_("made on"))
    accepted_on = models.DateField(null=True, blank=True, verbose_name=_("accepted on"))
    closed_on = models.DateField(null=True, blank=True, verbose_name=_("closed on"))
    outcome = models.CharField(max_length=500, blank=True, verbose_name=_("outcome"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-made_on", "-id"]
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["made_by", "status"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(to_organization__isnull=False) & Q(outside_provider=""))
                | (Q(to_organization__isnull=True) & ~Q(outside_provider="")),
                name="referral_to_partner_or_outside_provider",
                violation_error_message=_(
                    "Refer to a partner organisation or name an outside provider, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(accepted_on__isnull=True) | Q(accepted_on__gte=F("made_on")),
                name="referral_accepted_not_before_made",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True) | Q(closed_on__gte=F("made_on")),
                name="referral_closed_not_before_made",
            ),
            models.CheckConstraint(
                condition=Q(closed_on__isnull=True)
                | Q(accepted_on__isnull=True)
                | Q(closed_on__gte=F("accepted_on")),
                name="referral_closed_not_before_accepted",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_on__isnull=False),
                name="referral_accepted_has_date",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status__in=["completed", "declined", "no_show"]) & Q(closed_on__isnull=False)
                )
                | (Q(status__in=["made", "accepted"]) & Q(closed_on__isnull=True)),
                name="referral_closed_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_service_category_display()} for {self.participant}"

    @property
    def provider_name(self) -> str:
        return self.to_organization.name if self.to_organization_id else self.outside_provider
