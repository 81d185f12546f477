"""The shooting response: street groups, ties and conflicts, incidents, response tasks,
call-ins, custom notifications and the weekly shooting review."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from interventions.models.case import (
    CLOCK_SKEW_ALLOWANCE,
    Area,
    Participant,
    PartnerOrganization,
    TimeStamped,
)

# Shootings and the retaliation response -------------------------------------------------------
# Street groups, ties and conflicts are among the most sensitive facts in the system: pages show
# them only to users holding `interventions.view_street_intelligence` (city admins hold it as
# superusers; managers are granted it one by one).


class StreetGroup(TimeStamped):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        INACTIVE = "inactive", _("Inactive")

    name = models.CharField(max_length=120, verbose_name=_("name"))
    slug = models.SlugField(max_length=120, unique=True, verbose_name=_("slug"))
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="street_groups",
        verbose_name=_("area"),
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))

    class Meta:
        verbose_name = _("street group")
        verbose_name_plural = _("street groups")
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
        MEMBER = "member", _("Member")
        ASSOCIATE = "associate", _("Associate")

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="group_ties",
        verbose_name=_("participant"),
    )
    group = models.ForeignKey(
        StreetGroup, on_delete=models.PROTECT, related_name="ties", verbose_name=_("group")
    )
    kind = models.CharField(
        max_length=10, choices=Kind.choices, default=Kind.MEMBER, verbose_name=_("kind")
    )
    since = models.DateField(null=True, blank=True, verbose_name=_("since"))
    until = models.DateField(null=True, blank=True, verbose_name=_("until"))
    source = models.CharField(
        max_length=300,
        blank=True,
        help_text=_("How the tie is known (self-reported, outreach…)."),
        verbose_name=_("source"),
    )

    class Meta:
        verbose_name = _("group tie")
        verbose_name_plural = _("group ties")
        ordering = ["group__name", "participant__last_name"]
        indexes = [models.Index(fields=["group", "participant"], name="grouptie_group_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(since__isnull=True) | Q(until__isnull=True) | Q(until__gte=F("since")),
                name="grouptie_until_not_before_since",
                violation_error_message=_("A tie cannot end before it started."),
            ),
            models.UniqueConstraint(
                fields=["participant", "group"],
                condition=Q(until__isnull=True),
                name="grouptie_one_open_per_group",
                violation_error_message=_("This person already has an open tie to this group."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} {self.get_kind_display().lower()} of {self.group}"


class GroupConflict(TimeStamped):
    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        DORMANT = "dormant", _("Dormant")
        TRUCE = "truce", _("Truce")

    group_a = models.ForeignKey(
        StreetGroup, on_delete=models.PROTECT, related_name="+", verbose_name=_("group a")
    )
    group_b = models.ForeignKey(
        StreetGroup, on_delete=models.PROTECT, related_name="+", verbose_name=_("group b")
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.ACTIVE, verbose_name=_("status")
    )
    since = models.DateField(null=True, blank=True, verbose_name=_("since"))
    notes = models.TextField(blank=True, verbose_name=_("notes"))

    class Meta:
        verbose_name = _("group conflict")
        verbose_name_plural = _("group conflicts")
        ordering = ["-since"]
        indexes = [
            models.Index(fields=["group_a", "status"], name="groupconflict_a_idx"),
            models.Index(fields=["group_b", "status"], name="groupconflict_b_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(group_a=F("group_b")),
                name="groupconflict_two_different_groups",
                violation_error_message=_("A conflict is between two different groups."),
            ),
            # A-vs-B and B-vs-A are the same conflict.
            models.UniqueConstraint(
                models.functions.Least("group_a", "group_b"),
                models.functions.Greatest("group_a", "group_b"),
                name="groupconflict_one_per_pair",
                violation_error_message=_("These two groups already have a conflict on record."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_a} vs {self.group_b} ({self.get_status_display().lower()})"


class Incident(TimeStamped):
    """A shooting. Every incident here involves a firearm: a homicide is a gun homicide."""

    class Kind(models.TextChoices):
        HOMICIDE = "homicide", _("Homicide")
        NONFATAL_SHOOTING = "nonfatal_shooting", _("Non-fatal shooting")
        SHOTS_FIRED = "shots_fired", _("Shots fired")

    kind = models.CharField(max_length=20, choices=Kind.choices, verbose_name=_("kind"))
    occurred_at = models.DateTimeField(verbose_name=_("occurred at"))
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        verbose_name=_("area"),
    )
    location_description = models.CharField(
        max_length=300, blank=True, verbose_name=_("location description")
    )
    victim_count = models.PositiveSmallIntegerField(default=0, verbose_name=_("victim count"))
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="incidents_entered",
        verbose_name=_("entered by"),
    )
    # Null when the city entered it.
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents_entered",
        verbose_name=_("organization"),
    )
    participants = models.ManyToManyField(
        Participant,
        through="IncidentParticipant",
        related_name="incidents",
        verbose_name=_("participants"),
    )
    groups = models.ManyToManyField(
        StreetGroup, through="IncidentGroup", related_name="incidents", verbose_name=_("groups")
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
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
                violation_error_message=_("An incident cannot be in the future."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.occurred_at:%Y-%m-%d %H:%M}"


class IncidentParticipant(models.Model):
    class Role(models.TextChoices):
        VICTIM = "victim", _("Victim")
        SUSPECT = "suspect", _("Suspect")
        WITNESS = "witness", _("Witness")
        ASSOCIATE = "associate", _("Associate")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="involvements", verbose_name=_("incident")
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="incident_involvements",
        verbose_name=_("participant"),
    )
    role = models.CharField(max_length=10, choices=Role.choices, verbose_name=_("role"))

    class Meta:
        verbose_name = _("incident participant")
        verbose_name_plural = _("incident participants")
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "participant"], name="incidentparticipant_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.participant_id} ({self.role}) in incident {self.incident_id}"


class IncidentGroup(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="group_links", verbose_name=_("incident")
    )
    group = models.ForeignKey(
        StreetGroup, on_delete=models.PROTECT, related_name="+", verbose_name=_("group")
    )

    class Meta:
        verbose_name = _("incident group")
        verbose_name_plural = _("incident groups")
        constraints = [
            models.UniqueConstraint(fields=["incident", "group"], name="incidentgroup_once"),
        ]

    def __str__(self) -> str:
        return f"{self.group} in incident {self.incident_id}"


RESPONSE_WINDOW = timedelta(hours=24)


class ResponseTask(TimeStamped):
    """Reach one person connected to a shooting within 24 hours, before anyone retaliates."""

    class Kind(models.TextChoices):
        HOSPITAL_VISIT = "hospital_visit", _("Hospital visit")
        HOME_VISIT = "home_visit", _("Home visit")
        MEDIATION = "mediation", _("Mediation")
        CUSTOM_NOTIFICATION = "custom_notification", _("Custom notification")

    class Reason(models.TextChoices):
        INVOLVED = "involved", _("Involved in the incident")
        TIED_TO_INVOLVED_GROUP = "tied_to_involved_group", _("Tied to a group involved")
        TIED_TO_RIVAL_GROUP = (
            "tied_to_rival_group",
            _("Tied to a group in active conflict with a group involved"),
        )

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    # Indexed by the unique (incident, participant) constraint; a task table is written in bulk
    # after every shooting, so it carries no index it does not use.
    incident = models.ForeignKey(
        Incident,
        on_delete=models.CASCADE,
        related_name="response_tasks",
        db_index=False,
        verbose_name=_("incident"),
    )
    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="response_tasks",
        verbose_name=_("participant"),
    )
    # The participant's organisation: its managers see the task, and unassigned ones.
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="response_tasks",
        verbose_name=_("organization"),
    )
    assigned_worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="response_tasks",
        verbose_name=_("assigned worker"),
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, verbose_name=_("kind"))
    reason = models.CharField(max_length=30, choices=Reason.choices, verbose_name=_("reason"))
    via_group = models.ForeignKey(
        StreetGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("via group"),
    )
    due_at = models.DateTimeField(verbose_name=_("due at"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.OPEN, verbose_name=_("status")
    )
    completed_session = models.ForeignKey(
        "Session",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="response_tasks",
        verbose_name=_("completed session"),
    )
    completed_at = models.DateTimeField(null=True, blank=True, verbose_name=_("completed at"))
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
        verbose_name=_("completed by"),
    )

    class Meta:
        verbose_name = _("response task")
        verbose_name_plural = _("response tasks")
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

    held_on = models.DateField(verbose_name=_("held on"))
    place = models.CharField(max_length=200, verbose_name=_("place"))
    area = models.ForeignKey(
        Area,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="call_ins",
        verbose_name=_("area"),
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="call_ins",
        verbose_name=_("organization"),
    )
    attendees = models.ManyToManyField(
        Participant, blank=True, related_name="call_ins", verbose_name=_("attendees")
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))

    class Meta:
        verbose_name = _("call in")
        verbose_name_plural = _("call ins")
        ordering = ["-held_on"]

    def __str__(self) -> str:
        return f"Call-in at {self.place} on {self.held_on:%Y-%m-%d}"


class CustomNotification(TimeStamped):
    """The message delivered to one person, usually at home."""

    class Response(models.TextChoices):
        ACCEPTED_HELP = "accepted_help", _("Accepted the offer of help")
        UNDECIDED = "undecided", _("Undecided")
        DECLINED = "declined", _("Declined")
        NOT_REACHED = "not_reached", _("Not reached")

    participant = models.ForeignKey(
        Participant,
        on_delete=models.PROTECT,
        related_name="custom_notifications",
        verbose_name=_("participant"),
    )
    organization = models.ForeignKey(
        PartnerOrganization,
        on_delete=models.PROTECT,
        related_name="custom_notifications",
        verbose_name=_("organization"),
    )
    delivered_on = models.DateField(verbose_name=_("delivered on"))
    deliverers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="custom_notifications_delivered",
        verbose_name=_("deliverers"),
    )
    message_delivered = models.BooleanField(default=True, verbose_name=_("message delivered"))
    response = models.CharField(
        max_length=20, choices=Response.choices, blank=True, verbose_name=_("response")
    )
    response_notes = models.TextField(blank=True, verbose_name=_("response notes"))

    class Meta:
        verbose_name = _("custom notification")
        verbose_name_plural = _("custom notifications")
        ordering = ["-delivered_on"]

    def __str__(self) -> str:
        return f"Custom notification to {self.participant_id} on {self.delivered_on:%Y-%m-%d}"


class ShootingReview(TimeStamped):
    """The weekly multi-agency shooting review: the period it covered and what it decided."""

    period_start = models.DateField(verbose_name=_("period start"))
    period_end = models.DateField(verbose_name=_("period end"))
    # Null for a city-wide review.
    organization = models.ForeignKey(
        PartnerOrganization,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="shooting_reviews",
        verbose_name=_("organization"),
    )
    decisions = models.TextField(verbose_name=_("decisions"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    class Meta:
        verbose_name = _("shooting review")
        verbose_name_plural = _("shooting reviews")
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

    review = models.ForeignKey(
        ShootingReview,
        on_delete=models.CASCADE,
        related_name="follow_ups",
        verbose_name=_("review"),
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="review_follow_ups",
        verbose_name=_("assigned to"),
    )
    description = models.CharField(max_length=500, verbose_name=_("description"))
    due_on = models.DateField(null=True, blank=True, verbose_name=_("due on"))
    done = models.BooleanField(default=False, verbose_name=_("done"))

    class Meta:
        verbose_name = _("review decision")
        verbose_name_plural = _("review decisions")
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        # Not the description: it is a note (interventions/notes.py), and a name is shown
        # wherever the record is named (the admin's inlines, history and delete pages).
        due = f", due {self.due_on:%Y-%m-%d}" if self.due_on else ""
        return f"Follow-up {self.pk} of review {self.review_id}{due}"
