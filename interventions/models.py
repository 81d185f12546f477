"""The case-management data model. The database keeps every rule it can (see Meta.constraints);
writes that have rules go through services.py, reads of case data through selectors.py."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Area(TimeStamped):
    class Kind(models.TextChoices):
        COUNTY = "county", "County"
        CITY = "city", "City"
        NEIGHBORHOOD = "neighborhood", "Neighborhood"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.CITY)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    class Meta:
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
        NONPROFIT = "nonprofit", "Nonprofit"
        CITY = "city", "City"
        COUNTY = "county", "County"
        HOSPITAL = "hospital", "Hospital"
        SCHOOL = "school", "School"
        FAITH = "faith", "Faith-based"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.NONPROFIT)
    areas_served = models.ManyToManyField(Area, blank=True, related_name="organizations")
    is_active = models.BooleanField(default=True)
    phone = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)

    class Meta:
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
        OUTREACH_WORKER = "outreach_worker", "Outreach worker"
        MANAGER = "manager", "Manager"
        # Marks approved incentives paid and reads the ledger; sees no case record.
        FINANCE = "finance", "Finance"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.OUTREACH_WORKER)
    is_active = models.BooleanField(default=True)

    class Meta:
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
        GANG_INTERVENTION = "gang_intervention", "Gang intervention"
        MENTORING = "mentoring", "Mentoring"
        STREET_OUTREACH = "street_outreach", "Street outreach"
        LIFE_COACHING = "life_coaching", "Life coaching"
        HOSPITAL_BASED = "hospital_based", "Hospital-based intervention"
        CASE_MANAGEMENT = "case_management", "Case management"

    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="programs"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="programs"
    )
    description = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["organization__name", "name"]

    def __str__(self) -> str:
        return self.name


class Participant(TimeStamped):
    class ReferralSource(models.TextChoices):
        CALL_IN = "call_in", "Call-in"
        CUSTOM_NOTIFICATION = "custom_notification", "Custom notification"
        POLICE = "police", "Police"
        PROBATION = "probation", "Probation"
        HOSPITAL = "hospital", "Hospital"
        SCHOOL = "school", "School"
        FAMILY_SELF = "family_self", "Family / self"
        COMMUNITY = "community", "Community"

    class RiskTier(models.IntegerChoices):
        HIGHEST = 1, "Tier 1: highest risk"
        HIGH = 2, "Tier 2: high risk"
        ELEVATED = 3, "Tier 3: elevated risk"

    # The organisation that registered the person owns the record; other organisations see it
    # only under consent.
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="participants"
    )
    participant_code = models.CharField(max_length=20, unique=True)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    aliases = models.CharField(
        max_length=200, blank=True, help_text="Street names and other names, comma-separated."
    )
    date_of_birth = models.DateField(null=True, blank=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="participants"
    )
    referral_source = models.CharField(
        max_length=30, choices=ReferralSource.choices, default=ReferralSource.COMMUNITY
    )
    risk_tier = models.PositiveSmallIntegerField(choices=RiskTier.choices, default=RiskTier.HIGH)
    phone = models.CharField(max_length=40, blank=True)
    # The funnel: identified -> notified -> engaged.
    identified_on = models.DateField()
    notified_on = models.DateField(null=True, blank=True)
    engaged_on = models.DateField(null=True, blank=True)

    class Meta:
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


class Enrollment(TimeStamped):
    class Status(models.TextChoices):
        REFERRED = "referred", "Referred"
        CONTACTED = "contacted", "Contacted"
        ENGAGED = "engaged", "Engaged"
        ENROLLED = "enrolled", "Enrolled"
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"
        EXITED = "exited", "Exited"

    class ExitReason(models.TextChoices):
        GRADUATED = "graduated", "Graduated"
        MOVED = "moved", "Moved away"
        INCARCERATED = "incarcerated", "Incarcerated"
        DECEASED = "deceased", "Deceased"
        DECLINED = "declined", "Declined services"
        LOST_CONTACT = "lost_contact", "Lost contact"

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
        Participant, on_delete=models.PROTECT, related_name="enrollments"
    )
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="enrollments")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REFERRED)
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_enrollments",
    )
    referred_on = models.DateField()
    contacted_on = models.DateField(null=True, blank=True)
    engaged_on = models.DateField(null=True, blank=True)
    enrolled_on = models.DateField(null=True, blank=True)
    active_on = models.DateField(null=True, blank=True)
    inactive_on = models.DateField(null=True, blank=True)
    exited_on = models.DateField(null=True, blank=True)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)

    class Meta:
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
                violation_error_message=(
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
        return f"{self.participant} in {self.program}"

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.EXITED


class EnrollmentStatusChange(models.Model):
    """The dated history of an enrolment's lifecycle (shown on the participant's timeline)."""

    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.CASCADE, related_name="status_changes"
    )
    from_status = models.CharField(max_length=20, choices=Enrollment.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Enrollment.Status.choices)
    changed_on = models.DateField()
    changed_at = models.DateTimeField(auto_now_add=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
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
        MENTORING = "mentoring", "Mentoring"
        GANG_INTERVENTION = "gang_intervention", "Gang intervention"
        STREET_OUTREACH = "street_outreach", "Street outreach"
        LIFE_COACHING = "life_coaching", "Life coaching"
        GROUP_SESSION = "group_session", "Group session"
        CALL_IN = "call_in", "Call-in"
        CUSTOM_NOTIFICATION = "custom_notification", "Custom notification"
        CRISIS_RESPONSE = "crisis_response", "Crisis response"
        HOSPITAL_VISIT = "hospital_visit", "Hospital visit"
        FAMILY_CONTACT = "family_contact", "Family contact"

    class Location(models.TextChoices):
        STREET = "street", "Street"
        OFFICE = "office", "Office"
        HOME = "home", "Home"
        SCHOOL = "school", "School"
        HOSPITAL = "hospital", "Hospital"
        PHONE = "phone", "Phone"
        VIDEO = "video", "Video"
        DETENTION = "detention", "Detention"

    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="sessions"
    )
    program = models.ForeignKey(
        Program, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="sessions_logged"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField()
    location = models.CharField(max_length=20, choices=Location.choices)
    participants = models.ManyToManyField(
        Participant, through="SessionParticipant", related_name="sessions"
    )
    notes = models.TextField(blank=True)
    follow_up_on = models.DateField(null=True, blank=True)
    # Generated by the form when it is drawn; a second submit of the same form finds the
    # session the first one created instead of making another.
    client_key = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [
            # Month rollups and date-range reports scan sessions by time across organisations.
            models.Index(fields=["occurred_at"], name="session_occurred_at_idx"),
            models.Index(fields=["organization", "-occurred_at"]),
            models.Index(fields=["worker", "-occurred_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(duration_minutes__gte=1) & Q(duration_minutes__lte=1440),
                name="session_duration_1_to_1440_minutes",
                violation_error_message="Duration must be between 1 and 1440 minutes.",
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__lte=Now() + CLOCK_SKEW_ALLOWANCE),
                name="session_not_in_future",
                violation_error_message="A session cannot be in the future.",
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

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="attendance")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="attendance"
    )
    occurred_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["session", "participant"], name="session_participant_once"
            ),
        ]
        indexes = [
            models.Index(fields=["participant", "-occurred_at"], name="last_session_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} @ session {self.session_id}"


class Referral(TimeStamped):
    class ServiceCategory(models.TextChoices):
        EMPLOYMENT = "employment", "Employment"
        EDUCATION = "education", "Education"
        HOUSING = "housing", "Housing"
        MENTAL_HEALTH = "mental_health", "Mental health"
        SUBSTANCE_USE = "substance_use", "Substance use"
        LEGAL_AID = "legal_aid", "Legal aid"
        TATTOO_REMOVAL = "tattoo_removal", "Tattoo removal"
        RELOCATION = "relocation", "Relocation"
        HEALTH = "health", "Health care"
        FAMILY_SUPPORT = "family_support", "Family support"
        OTHER = "other", "Other"

    class Status(models.TextChoices):
        MADE = "made", "Made"
        ACCEPTED = "accepted", "Accepted"
        COMPLETED = "completed", "Completed"
        DECLINED = "declined", "Declined"
        NO_SHOW = "no_show", "No-show"

    WAITING_STATUSES = (Status.MADE, Status.ACCEPTED)
    CLOSED_STATUSES = (Status.COMPLETED, Status.DECLINED, Status.NO_SHOW)

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="referrals")
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="referrals_made",
        help_text="The organisation that made the referral.",
    )
    made_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referrals_made"
    )
    service_category = models.CharField(max_length=30, choices=ServiceCategory.choices)
    to_organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="referrals_received",
    )
    outside_provider = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.MADE)
    made_on = models.DateField()
    accepted_on = models.DateField(null=True, blank=True)
    closed_on = models.DateField(null=True, blank=True)
    outcome = models.CharField(max_length=500, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
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
                violation_error_message=(
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


# Shootings and the retaliation response -------------------------------------------------------
# Street groups, ties and conflicts are among the most sensitive facts in the system: pages show
# them only to users holding `interventions.view_street_intelligence` (city admins hold it as
# superusers; managers are granted it one by one).


class StreetGroup(TimeStamped):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        INACTIVE = "inactive", "Inactive"

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=120, unique=True)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="street_groups"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            (
                "view_street_intelligence",
                "Can view street groups, group ties and group conflicts",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class GroupTie(TimeStamped):
    """A participant's tie to a street group. A tie is current on a day when it started on or
    before that day (or has no start) and has not ended before it."""

    class Kind(models.TextChoices):
        MEMBER = "member", "Member"
        ASSOCIATE = "associate", "Associate"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="group_ties"
    )
    group = models.ForeignKey(StreetGroup, on_delete=models.PROTECT, related_name="ties")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MEMBER)
    since = models.DateField(null=True, blank=True)
    until = models.DateField(null=True, blank=True)
    source = models.CharField(
        max_length=300, blank=True, help_text="How the tie is known (self-reported, outreach…)."
    )

    class Meta:
        ordering = ["group__name", "participant__last_name"]
        indexes = [models.Index(fields=["group", "participant"], name="grouptie_group_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(since__isnull=True) | Q(until__isnull=True) | Q(until__gte=F("since")),
                name="grouptie_until_not_before_since",
                violation_error_message="A tie cannot end before it started.",
            ),
            models.UniqueConstraint(
                fields=["participant", "group"],
                condition=Q(until__isnull=True),
                name="grouptie_one_open_per_group",
                violation_error_message="This person already has an open tie to this group.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.get_kind_display().lower()} of {self.group}"


class GroupConflict(TimeStamped):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        DORMANT = "dormant", "Dormant"
        TRUCE = "truce", "Truce"

    group_a = models.ForeignKey(StreetGroup, on_delete=models.PROTECT, related_name="+")
    group_b = models.ForeignKey(StreetGroup, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    since = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-since"]
        indexes = [
            models.Index(fields=["group_a", "status"], name="groupconflict_a_idx"),
            models.Index(fields=["group_b", "status"], name="groupconflict_b_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(group_a=F("group_b")),
                name="groupconflict_two_different_groups",
                violation_error_message="A conflict is between two different groups.",
            ),
            # A-vs-B and B-vs-A are the same conflict.
            models.UniqueConstraint(
                models.functions.Least("group_a", "group_b"),
                models.functions.Greatest("group_a", "group_b"),
                name="groupconflict_one_per_pair",
                violation_error_message="These two groups already have a conflict on record.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_a} vs {self.group_b} ({self.get_status_display().lower()})"


class Incident(TimeStamped):
    """A shooting. Every incident here involves a firearm: a homicide is a gun homicide."""

    class Kind(models.TextChoices):
        HOMICIDE = "homicide", "Homicide"
        NONFATAL_SHOOTING = "nonfatal_shooting", "Non-fatal shooting"
        SHOTS_FIRED = "shots_fired", "Shots fired"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="incidents"
    )
    location_description = models.CharField(max_length=300, blank=True)
    victim_count = models.PositiveSmallIntegerField(default=0)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="incidents_entered"
    )
    # Null when the city entered it.
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_entered",
    )
    participants = models.ManyToManyField(
        Participant, through="IncidentParticipant", related_name="incidents"
    )
    groups = models.ManyToManyField(StreetGroup, through="IncidentGroup", related_name="incidents")

    class Meta:
        ordering = ["-occurred_at"]
        indexes = [models.Index(fields=["area", "occurred_at"], name="incident_area_time_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(victim_count__gte=0),
                name="incident_victim_count_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__lte=Now() + CLOCK_SKEW_ALLOWANCE),
                name="incident_not_in_future",
                violation_error_message="An incident cannot be in the future.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d %H:%M}"


class IncidentParticipant(models.Model):
    class Role(models.TextChoices):
        VICTIM = "victim", "Victim"
        SUSPECT = "suspect", "Suspect"
        WITNESS = "witness", "Witness"
        ASSOCIATE = "associate", "Associate"

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="involvements")
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="incident_involvements"
    )
    role = models.CharField(max_length=10, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "participant"], name="incidentparticipant_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} ({self.role}) in incident {self.incident_id}"


class IncidentGroup(models.Model):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="group_links")
    group = models.ForeignKey(StreetGroup, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["incident", "group"], name="incidentgroup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.group} in incident {self.incident_id}"


RESPONSE_WINDOW = timedelta(hours=24)


class ResponseTask(TimeStamped):
    """Reach one person connected to a shooting within 24 hours, before anyone retaliates."""

    class Kind(models.TextChoices):
        HOSPITAL_VISIT = "hospital_visit", "Hospital visit"
        HOME_VISIT = "home_visit", "Home visit"
        MEDIATION = "mediation", "Mediation"
        CUSTOM_NOTIFICATION = "custom_notification", "Custom notification"

    class Reason(models.TextChoices):
        INVOLVED = "involved", "Involved in the incident"
        TIED_TO_INVOLVED_GROUP = "tied_to_involved_group", "Tied to a group involved"
        TIED_TO_RIVAL_GROUP = (
            "tied_to_rival_group",
            "Tied to a group in active conflict with a group involved",
        )

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    # Indexed by the unique (incident, participant) constraint; a task table is written in bulk
    # after every shooting, so it carries no index it does not use.
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="response_tasks", db_index=False
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="response_tasks"
    )
    # The participant's organisation: its managers see the task, and unassigned ones.
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="response_tasks"
    )
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="response_tasks",
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    reason = models.CharField(max_length=30, choices=Reason.choices)
    via_group = models.ForeignKey(
        StreetGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    completed_session = models.ForeignKey(
        "Session", null=True, blank=True, on_delete=models.SET_NULL, related_name="response_tasks"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["assigned_worker", "due_at"],
                name="responsetask_worker_open_idx",
                condition=Q(status="open"),
            ),
            models.Index(
                fields=["organization", "due_at"],
                name="responsetask_org_open_idx",
                condition=Q(status="open"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "participant"], name="responsetask_once_per_person"
            ),
            models.CheckConstraint(
                condition=(Q(status="done") & Q(completed_at__isnull=False))
                | (~Q(status="done") & Q(completed_at__isnull=True)),
                name="responsetask_done_has_completion_time",
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} for {self.participant_id} after incident {self.incident_id}"
        )


class CallIn(TimeStamped):
    """A group meeting that delivers the message of consequences and the offer of help."""

    held_on = models.DateField()
    place = models.CharField(max_length=200)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="call_ins"
    )
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="call_ins"
    )
    attendees = models.ManyToManyField(Participant, blank=True, related_name="call_ins")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"Call-in at {self.place} on {self.held_on:%Y-%m-%d}"


class CustomNotification(TimeStamped):
    """The message delivered to one person, usually at home."""

    class Response(models.TextChoices):
        ACCEPTED_HELP = "accepted_help", "Accepted the offer of help"
        UNDECIDED = "undecided", "Undecided"
        DECLINED = "declined", "Declined"
        NOT_REACHED = "not_reached", "Not reached"

    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="custom_notifications"
    )
    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.PROTECT, related_name="custom_notifications"
    )
    delivered_on = models.DateField()
    deliverers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="custom_notifications_delivered"
    )
    message_delivered = models.BooleanField(default=True)
    response = models.CharField(max_length=20, choices=Response.choices, blank=True)
    response_notes = models.TextField(blank=True)

    class Meta:
        ordering = ["-delivered_on"]

    def __str__(self) -> str:
        return f"Custom notification to {self.participant_id} on {self.delivered_on:%Y-%m-%d}"


class ShootingReview(TimeStamped):
    """The weekly multi-agency shooting review: the period it covered and what it decided."""

    period_start = models.DateField()
    period_end = models.DateField()
    # Null for a city-wide review.
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shooting_reviews",
    )
    decisions = models.TextField()
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="shootingreview_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return f"Shooting review {self.period_start:%Y-%m-%d} to {self.period_end:%Y-%m-%d}"


class ReviewDecision(TimeStamped):
    """A follow-up the review assigned to someone."""

    review = models.ForeignKey(ShootingReview, on_delete=models.CASCADE, related_name="follow_ups")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_follow_ups"
    )
    description = models.CharField(max_length=500)
    due_on = models.DateField(null=True, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description


# Consent: what may be shared with whom -----------------------------------------------------------
# A participant belongs to the organisation that registered them. Another organisation sees the
# record only while a consent covers it: granted on or before today, not yet expired, not
# revoked. The selectors (selectors.py) apply that rule to every read.


class Consent(TimeStamped):
    class Scope(models.TextChoices):
        ORGANIZATION = "organization", "A partner organisation"
        # Shared with the city: every partner organisation of kind "city".
        CITY = "city", "The city"

    participant = models.ForeignKey(Participant, on_delete=models.PROTECT, related_name="consents")
    scope = models.CharField(max_length=20, choices=Scope.choices, default=Scope.ORGANIZATION)
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents_received",
        help_text="The partner organisation the record is shared with (empty for the city).",
    )
    granted_on = models.DateField()
    # The first day the consent no longer applies; empty: until revoked.
    expires_on = models.DateField(null=True, blank=True)
    # The first day the consent no longer applies because the person withdrew it.
    revoked_on = models.DateField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consents_recorded"
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="consents_revoked",
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-granted_on", "-id"]
        indexes = [
            models.Index(fields=["participant", "organization"], name="consent_participant_idx"),
            models.Index(fields=["organization", "participant"], name="consent_organization_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope="organization") & Q(organization__isnull=False))
                | (Q(scope="city") & Q(organization__isnull=True)),
                name="consent_scope_is_organization_or_city",
                violation_error_message=(
                    "A consent shares with one partner organisation or with the city, not both."
                ),
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("granted_on")),
                name="consent_expires_after_granted",
                violation_error_message="A consent must expire after the day it was granted.",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=F("granted_on")),
                name="consent_revoked_not_before_granted",
                violation_error_message="A consent cannot be revoked before it was granted.",
            ),
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_by__isnull=False),
                name="consent_revocation_has_its_author",
            ),
        ]
        permissions = [
            (
                "override_consent",
                "Can open one participant's record without consent in an emergency",
            ),
        ]

    def __str__(self) -> str:
        return f"Consent for {self.participant_id} to {self.shared_with}"

    @property
    def shared_with(self) -> str:
        if self.scope == self.Scope.CITY:
            return "the city"
        return self.organization.name if self.organization else "-"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (
            self.organization_id is not None
            and self.participant_id is not None
            and self.organization_id == self.participant.organization_id
        ):
            raise ValidationError(
                {"organization": "This organisation holds the record; no consent is needed."}
            )

    def is_valid_on(self, day: date) -> bool:
        return (
            self.granted_on <= day
            and (self.expires_on is None or day < self.expires_on)
            and (self.revoked_on is None or day < self.revoked_on)
        )


CONSENT_OVERRIDE_DURATION = timedelta(hours=24)


class ConsentOverride(models.Model):
    """Emergency access by one user to one participant's record, without consent, for a limited
    time. Kept for good: the row says who, when, for how long and why."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="consent_overrides"
    )
    participant = models.ForeignKey(
        Participant, on_delete=models.PROTECT, related_name="consent_overrides"
    )
    reason = models.CharField(max_length=1000)
    granted_at = models.DateTimeField(db_default=Now())
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-granted_at", "-id"]
        indexes = [
            models.Index(fields=["user", "expires_at"], name="consentoverride_user_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_at__gt=F("granted_at")),
                name="consentoverride_expires_after_granted",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="consentoverride_has_a_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"Override by {self.user_id} for {self.participant_id} until {self.expires_at}"


# Life plans and the incentive ledger (issue 11).
from interventions import plan_models  # noqa: E402, F401
