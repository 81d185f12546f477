"""Reads for a nonprofit manager's pages: the organisation's caseload (its own participants
and those shared with it and enrolled in its programs), its workers' loads, its sessions and
waiting referrals, the dashboard figures and the export rows. Every read of case data starts
from a `*_visible_to(user)` of `interventions.access`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.postgres.aggregates import StringAgg
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import TruncMonth
from django.utils import timezone

from interventions.access import (
    OUTREACH_WORKER,
    AnyUser,
    access_facts,
    enrollments_editable_by,
    participants_visible_to,
    referrals_visible_to,
    sessions_visible_to,
)
from interventions.dates import local_midnight, previous_month
from interventions.models import (
    CaseloadCount,
    CaseloadFillState,
    Enrollment,
    Membership,
    Participant,
    PartnerOrganization,
    Referral,
    Session,
)
from interventions.selectors.worker import gone_cold_q, with_contact_facts

# Consent ---------------------------------------------------------------------------------------


# Street-outreach models recommend 15-20 active participants per worker.
CASELOAD_GUIDELINE_MIN = 15


CASELOAD_GUIDELINE_MAX = 20


def assignable_or_assigned_workers(organization: PartnerOrganization) -> QuerySet:
    """Members of the organisation, past and present, and anyone holding one of its
    enrolments: everyone a manager may need to filter by."""
    from django.contrib.auth import get_user_model

    # Two id subqueries rather than joins: joining both relations multiplies a worker's rows
    # by their enrolments and needs a DISTINCT over every column of the user table.
    members = Membership.objects.filter(organization=organization).values("user_id")
    assigned = Enrollment.objects.filter(
        participant__organization=organization, assigned_worker__isnull=False
    ).values("assigned_worker_id")
    return (
        get_user_model()
        .objects.filter(Q(pk__in=members) | Q(pk__in=assigned))
        .order_by("first_name", "last_name", "username")
    )


def organization_caseload_q(
    organization: PartnerOrganization, shared_ids: Iterable[int] | None = None
) -> Q:
    """The people an organisation's manager looks after: its own participants, and anyone
    another organisation shares with it who is enrolled in one of its programs (the consent
    that allowed the enrolment is what makes them visible; the selectors still check it).

    `shared_ids`, when the viewer's shared participants are known (access_facts), narrows the
    second part to them: then the organisation index and the primary key serve both halves,
    where an OR with a subquery would read every participant."""
    ours = Q(organization=organization)
    in_our_programs = Enrollment.objects.filter(program__organization=organization)
    if shared_ids is None:
        return ours | Q(pk__in=in_our_programs.values("participant_id"))
    shared = sorted(shared_ids)
    if not shared:
        return ours
    return ours | (Q(pk__in=shared) & Q(Exists(in_our_programs.filter(participant=OuterRef("pk")))))


def organization_participants(
    user: AnyUser, organization: PartnerOrganization
) -> QuerySet[Participant]:
    """An organisation's participants as its manager sees them (`organization_caseload_q`):
    contact facts and `is_cold` annotated; area, the owning organisation and every enrolment
    (open first, with program and worker) fetched too."""
    enrollments = Enrollment.objects.select_related("program", "assigned_worker").order_by(
        Case(When(status=Enrollment.Status.EXITED, then=Value(1)), default=Value(0)),
        "-referred_on",
        "pk",
    )
    return (
        with_contact_facts(
            participants_visible_to(user).filter(
                organization_caseload_q(organization, access_facts(user).shared_participant_ids)
            )
        )
        .annotate(
            is_cold=Case(
                When(gone_cold_q(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .select_related("area", "organization")
        .prefetch_related(Prefetch("enrollments", queryset=enrollments))
    )


def organization_enrollments(
    user: AnyUser, organization: PartnerOrganization
) -> QuerySet[Enrollment]:
    """The enrolments in the organisation's programs: the ones its manager assigns."""
    return enrollments_editable_by(user).filter(program__organization=organization)


def organization_sessions(user: AnyUser, organization: PartnerOrganization) -> QuerySet[Session]:
    """The organisation's sessions, newest first, with worker, program and attendees."""
    return (
        sessions_visible_to(user)
        .filter(organization=organization)
        .select_related("worker", "program")
        .prefetch_related(
            Prefetch(
                "participants",
                queryset=participants_visible_to(user)
                .only("pk", "participant_code", "first_name", "last_name")
                .order_by("participant_code"),
            )
        )
        .order_by("-occurred_at", "-pk")
    )


def organization_referrals_q(organization: PartnerOrganization) -> Q:
    """Referrals of the organisation's participants, and those it made for people shared with
    it: the referral list and the dashboard's count of those waiting."""
    return Q(participant__organization=organization) | Q(organization=organization)


def organization_referrals(user: AnyUser, organization: PartnerOrganization) -> QuerySet[Referral]:
    return (
        referrals_visible_to(user)
        .filter(organization_referrals_q(organization))
        .select_related("participant", "made_by", "to_organization")
        .order_by("made_on", "pk")
    )


def session_export_rows(user: AnyUser, sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Sessions for a grant report: one row each, the codes of the attendees the user may see
    aggregated in the database (a group session with another organisation's participant
    whose consent has ended does not name them). Never the notes: they do not leave the
    organisation's screens."""
    return (
        sessions.order_by()
        .annotate(
            participant_codes=StringAgg(
                "attendance__participant__participant_code",
                delimiter="; ",
                order_by="attendance__participant__participant_code",
                default=Value(""),
                filter=Q(attendance__participant__in=participants_visible_to(user)),
            )
        )
        .values_list(
            "occurred_at",
            "worker__first_name",
            "worker__last_name",
            "worker__username",
            "kind",
            "duration_minutes",
            "location",
            "participant_codes",
            "program__name",
        )
        .order_by("occurred_at", "pk")
    )


@dataclass
class WorkerFigures:
    worker: AbstractBaseUser | None
    is_member: bool = True
    caseload: int = 0
    gone_cold: int = 0
    sessions_this_month: int = 0
    minutes_this_month: int = 0
    sessions_last_month: int = 0
    minutes_last_month: int = 0
    # The row's links to the filtered lists, set by the page that shows it.
    links: dict[str, str] = field(default_factory=dict)

    @property
    def caseload_flag(self) -> str:
        if self.worker is None:
            return ""
        if self.caseload < CASELOAD_GUIDELINE_MIN:
            return "under"
        if self.caseload > CASELOAD_GUIDELINE_MAX:
            return "over"
        return ""

    @property
    def hours_this_month(self) -> float:
        return round(self.minutes_this_month / 60, 1)

    @property
    def hours_last_month(self) -> float:
        return round(self.minutes_last_month / 60, 1)


@dataclass
class DashboardFigures:
    today: date
    this_month: date
    last_month: date
    caseload_total: int
    by_status: list[tuple[str, str, int]]
    workers: list[WorkerFigures]
    unassigned: WorkerFigures
    referrals_waiting: int
    new_participants: int
    sessions_this_month: int
    minutes_this_month: int
    sessions_last_month: int
    minutes_last_month: int
    cold_after_days: int

    @property
    def last_month_end(self) -> date:
        return self.this_month - timedelta(days=1)

    @property
    def hours_this_month(self) -> float:
        return round(self.minutes_this_month / 60, 1)

    @property
    def hours_last_month(self) -> float:
        return round(self.minutes_last_month / 60, 1)


# Statuses shown on the dashboard: everyone not exited.
OPEN_STATUSES = (*Enrollment.CASELOAD_STATUSES, Enrollment.Status.INACTIVE)


def dashboard_figures(organization: PartnerOrganization) -> DashboardFigures:
    """Every figure of the manager's dashboard, counted in the database: six queries whatever
    the number of participants, sessions or workers.

    Counts are of distinct participants (a person in two programs counts once), so each one
    equals the number of rows of the participant list it links to. Caseloads are the
    enrolments in the organisation's programs, a shared participant's included; its own
    participants' enrolments elsewhere are the other organisation's caseload."""
    from django.contrib.auth import get_user_model

    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = previous_month(today)
    last_start = local_midnight(last_month)
    open_enrollments = Enrollment.objects.filter(
        program__organization=organization, status__in=OPEN_STATUSES
    )

    status_counts = open_enrollments.aggregate(
        caseload_total=Count(
            "participant", distinct=True, filter=Q(status__in=Enrollment.CASELOAD_STATUSES)
        ),
        **{
            status: Count("participant", distinct=True, filter=Q(status=status))
            for status in OPEN_STATUSES
        },
    )

    per_worker_caseload = (
        open_enrollments.filter(status__in=Enrollment.CASELOAD_STATUSES)
        .values("assigned_worker")
        .annotate(
            caseload=Count("participant", distinct=True),
            gone_cold=Count(
                "participant", distinct=True, filter=gone_cold_q(participant="participant_id")
            ),
        )
        .order_by()
    )
    per_worker_sessions = (
        Session.objects.filter(organization=organization, occurred_at__gte=last_start)
        .annotate(month=TruncMonth("occurred_at"))
        .values("worker", "month")
        .annotate(sessions=Count("pk"), minutes=Sum("duration_minutes"))
        .order_by()
    )

    figures: dict[int | None, WorkerFigures] = {None: WorkerFigures(worker=None)}

    def row(worker_id: int | None) -> WorkerFigures:
        return figures.setdefault(worker_id, WorkerFigures(worker=None))

    for entry in per_worker_caseload:
        figure = row(entry["assigned_worker"])
        figure.caseload, figure.gone_cold = entry["caseload"], entry["gone_cold"]
    for entry in per_worker_sessions:
        figure = row(entry["worker"])
        if entry["month"].date() == this_month:
            figure.sessions_this_month = entry["sessions"]
            figure.minutes_this_month = entry["minutes"]
        else:
            figure.sessions_last_month = entry["sessions"]
            figure.minutes_last_month = entry["minutes"]

    # Everyone in the organisation's outreach roles, and anyone else who carries a caseload or
    # logged sessions (a former worker's participants must not be lost from sight).
    membership = Membership.objects.filter(
        user=OuterRef("pk"), organization=organization, is_active=True
    )
    people = (
        get_user_model()
        .objects.filter(
            Q(
                memberships__organization=organization,
                memberships__is_active=True,
                memberships__role=OUTREACH_WORKER,
                is_active=True,
            )
            | Q(pk__in=[worker_id for worker_id in figures if worker_id is not None])
        )
        .annotate(is_member=Exists(membership.filter(user__is_active=True)))
        .distinct()
        .order_by("first_name", "last_name", "username")
    )
    workers = []
    for person in people:
        figure = row(person.pk)
        figure.worker, figure.is_member = person, person.is_member
        workers.append(figure)

    unassigned = figures[None]
    unassigned.is_member = False
    all_rows = [*workers, unassigned]
    return DashboardFigures(
        today=today,
        this_month=this_month,
        last_month=last_month,
        caseload_total=status_counts["caseload_total"],
        by_status=[
            (status.value, status.label, status_counts[status.value]) for status in OPEN_STATUSES
        ],
        workers=workers,
        unassigned=unassigned,
        referrals_waiting=Referral.objects.filter(
            organization_referrals_q(organization), status__in=Referral.WAITING_STATUSES
        ).count(),
        new_participants=Participant.objects.filter(
            organization_caseload_q(organization), identified_on__gte=this_month
        ).count(),
        sessions_this_month=sum(figure.sessions_this_month for figure in all_rows),
        minutes_this_month=sum(figure.minutes_this_month for figure in all_rows),
        sessions_last_month=sum(figure.sessions_last_month for figure in all_rows),
        minutes_last_month=sum(figure.minutes_last_month for figure in all_rows),
        cold_after_days=settings.GVR_COLD_AFTER_DAYS,
    )


# The dashboard and the worker list, from the kept counts --------------------------------------

# Workers shown on the dashboard itself; the rest are a page away (the worker list).
DASHBOARD_WORKERS = 10

WORKER_SORTS = {
    "attention": ("-over_guideline", "-gone_cold", "-caseload", "worker_name", "worker_id"),
    "name": ("worker_name", "worker_id"),
    "-name": ("-worker_name", "-worker_id"),
    "caseload": ("caseload", "worker_name", "worker_id"),
    "-caseload": ("-caseload", "worker_name", "worker_id"),
    "gone_cold": ("gone_cold", "worker_name", "worker_id"),
    "-gone_cold": ("-gone_cold", "worker_name", "worker_id"),
    "-sessions": ("-sessions_this_month", "worker_name", "worker_id"),
}


@dataclass
class DashboardSummary:
    """What the dashboard shows: the organisation's totals and the workers who need attention
    first. From the kept counts (`CaseloadCount`) when the organisation has a fill state;
    counted live (`dashboard_figures`) before its first refresh."""

    figures: DashboardFigures
    attention: list[WorkerFigures]
    workers_total: int
    refreshed_at: datetime | None


def _attention_key(row: WorkerFigures) -> tuple:
    name = (row.worker.get_full_name() or row.worker.get_username()) if row.worker else ""
    return (row.caseload <= CASELOAD_GUIDELINE_MAX, -row.gone_cold, -row.caseload, name)


def kept_worker_figures(row: CaseloadCount) -> WorkerFigures:
    return WorkerFigures(
        worker=row.worker,
        is_member=row.is_member,
        caseload=row.caseload,
        gone_cold=row.gone_cold,
        sessions_this_month=row.sessions_this_month,
        minutes_this_month=row.minutes_this_month,
        sessions_last_month=row.sessions_last_month,
        minutes_last_month=row.minutes_last_month,
    )


def kept_worker_counts(organization: PartnerOrganization) -> QuerySet[CaseloadCount]:
    """The organisation's worker rows of the kept counts, with `over_guideline` for sorting."""
    return (
        CaseloadCount.objects.filter(organization=organization, scope=CaseloadCount.Scope.WORKER)
        .annotate(
            over_guideline=Case(
                When(caseload__gt=CASELOAD_GUIDELINE_MAX, then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .select_related("worker")
    )


def worker_list(
    organization: PartnerOrganization, *, search: str = "", sort: str = "attention"
) -> QuerySet[CaseloadCount]:
    """The worker list: searchable by name or username, sortable by WORKER_SORTS."""
    rows = kept_worker_counts(organization)
    if search:
        rows = rows.filter(Q(worker_name__icontains=search) | Q(worker__username__icontains=search))
    return rows.order_by(*WORKER_SORTS.get(sort, WORKER_SORTS["attention"]))


def dashboard_summary(organization: PartnerOrganization) -> DashboardSummary:
    """The dashboard's figures in a fixed number of queries whatever the organisation's size."""
    fill = CaseloadFillState.objects.filter(organization=organization).first()
    today = timezone.localdate()
    this_month = today.replace(day=1)
    if fill is None or timezone.localtime(fill.refreshed_at).date() < this_month:
        # Never refreshed, or not since the month turned (the nightly run has not been yet).
        figures = dashboard_figures(organization)
        ranked = sorted(figures.workers, key=_attention_key)
        figures.workers = ranked[:DASHBOARD_WORKERS]
        return DashboardSummary(figures, figures.workers, len(ranked), None)
    kept = {
        row.scope: row
        for row in CaseloadCount.objects.filter(organization=organization).exclude(
            scope=CaseloadCount.Scope.WORKER
        )
    }
    total = kept[CaseloadCount.Scope.ORGANIZATION]
    unassigned = kept_worker_figures(kept[CaseloadCount.Scope.UNASSIGNED])
    unassigned.is_member = False
    workers = kept_worker_counts(organization).order_by(*WORKER_SORTS["attention"])
    attention = [kept_worker_figures(row) for row in workers[:DASHBOARD_WORKERS]]
    figures = DashboardFigures(
        today=today,
        this_month=this_month,
        last_month=previous_month(today),
        caseload_total=total.caseload,
        by_status=[
            (status.value, status.label, total.by_status.get(status.value, 0))
            for status in OPEN_STATUSES
        ],
        workers=attention,
        unassigned=unassigned,
        referrals_waiting=total.referrals_waiting,
        new_participants=total.new_participants,
        sessions_this_month=total.sessions_this_month,
        minutes_this_month=total.minutes_this_month,
        sessions_last_month=total.sessions_last_month,
        minutes_last_month=total.minutes_last_month,
        cold_after_days=settings.GVR_COLD_AFTER_DAYS,
    )
    workers_total = CaseloadCount.objects.filter(
        organization=organization, scope=CaseloadCount.Scope.WORKER
    ).count()
    return DashboardSummary(figures, attention, workers_total, fill.refreshed_at)
