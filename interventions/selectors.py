"""Reads of case data. One door: every query for participants, enrolments, sessions and
referrals made on behalf of a user starts from one of the `*_visible_to(user)` functions, which
scope it to the organisations the user belongs to. Outsiders get nothing, so views that fetch
through them answer 404.

Sharing: another organisation's participant is visible while a valid consent covers one of the
user's organisations (granted on or before today, not expired, not revoked), or while the user
holds an emergency override for that person. Narrative notes stay with the organisation that
wrote them: sessions and referrals fetched through these selectors come with `notes` blanked
for everyone else (see `_with_notes_for`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.postgres.aggregates import StringAgg
from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, ExtractDay, TruncDate, TruncMonth
from django.db.models.query import ModelIterable
from django.utils import timezone

from interventions.models import (
    Area,
    Consent,
    ConsentOverride,
    Enrollment,
    EnrollmentStatusChange,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    Session,
    SessionParticipant,
)

CITY_ADMIN = "city_admin"
ANALYST = "analyst"
MANAGER = Membership.Role.MANAGER.value
OUTREACH_WORKER = Membership.Role.OUTREACH_WORKER.value
FINANCE = Membership.Role.FINANCE.value

AnyUser = AbstractBaseUser | AnonymousUser


@dataclass(frozen=True)
class AccessFacts:
    """What the user may reach, read in one query and kept on the user object for the request:
    their roles, the participants of other organisations open to them (valid consent to one of
    their organisations, or their own emergency override), and whether any of their own
    organisations' participants has ever been shared (only then can another organisation have
    logged sessions with them)."""

    roles: frozenset[str]
    shared_participant_ids: frozenset[int]
    shares_out: bool


def access_facts(user: AnyUser) -> AccessFacts:
    if not user.is_authenticated or not user.is_active:
        return AccessFacts(frozenset(), frozenset(), False)
    cached = getattr(user, "_gvr_access", None)
    if cached is not None:
        return cached
    from django.contrib.auth.models import Group
    from django.db.models import CharField

    from interventions.roles import ANALYST_GROUP, CITY_ADMIN_GROUP

    group_roles = {CITY_ADMIN_GROUP: CITY_ADMIN, ANALYST_GROUP: ANALYST}
    organizations = organizations_of(user)

    def tagged(queryset: QuerySet, tag: str, value: object) -> QuerySet:
        return queryset.order_by().values_list(
            Value(tag, output_field=CharField()), Cast(value, CharField())
        )

    rows = tagged(
        Membership.objects.filter(user=user, is_active=True, organization__is_active=True),
        "role",
        F("role"),
    ).union(
        tagged(Group.objects.filter(user=user, name__in=list(group_roles)), "group", F("name")),
        tagged(consents_covering(organizations), "shared", F("participant_id")),
        tagged(active_overrides(user), "shared", F("participant_id")),
        tagged(
            Consent.objects.filter(participant__organization__in=organizations),
            "out",
            Value(""),
        )[:1],
    )
    roles, shared, shares_out = set(), set(), False
    for tag, value in rows:
        if tag == "role":
            roles.add(value)
        elif tag == "group":
            roles.add(group_roles[value])
        elif tag == "shared":
            shared.add(int(value))
        else:
            shares_out = True
    if user.is_superuser:
        roles.add(CITY_ADMIN)
    facts = AccessFacts(frozenset(roles), frozenset(shared), shares_out)
    user._gvr_access = facts  # type: ignore[union-attr]
    return facts


def user_roles(user: AnyUser) -> frozenset[str]:
    """The roles a user holds in any active organisation, plus city admin for superusers and
    members of the City admin group, and analyst for members of the Analyst group.

    The staff flag alone grants no role: it opens the admin's door, and what a staff user may
    do there, or see on the city-wide pages, comes from their groups (least privilege)."""
    return access_facts(user).roles


def organizations_of(user: AnyUser, *, role: str | None = None) -> QuerySet[PartnerOrganization]:
    """Active organisations in which the user has an active membership (optionally in a role).
    Without a role, finance memberships do not count: finance staff reach the incentive ledger
    (plan_selectors.ledger_organizations) and no case record."""
    if not user.is_authenticated or not user.is_active:
        return PartnerOrganization.objects.none()
    memberships = Membership.objects.filter(user=user, is_active=True)
    if role is not None:
        memberships = memberships.filter(role=role)
    else:
        memberships = memberships.exclude(role=FINANCE)
    return PartnerOrganization.objects.filter(
        is_active=True, id__in=memberships.values("organization_id")
    )


# Consent ---------------------------------------------------------------------------------------


def valid_consents(on: date | None = None) -> QuerySet[Consent]:
    """Consents in force on a day (today by default): granted on or before it, and neither
    expired nor revoked by then (expires_on and revoked_on are the first days without it)."""
    day = on or timezone.localdate()
    return Consent.objects.filter(
        Q(granted_on__lte=day),
        Q(expires_on__isnull=True) | Q(expires_on__gt=day),
        Q(revoked_on__isnull=True) | Q(revoked_on__gt=day),
    )


def consents_covering(
    organizations: QuerySet[PartnerOrganization], on: date | None = None
) -> QuerySet[Consent]:
    """Valid consents that share with one of these organisations: named, or "the city" when one
    of them is a city organisation."""
    is_city = Exists(organizations.filter(kind=PartnerOrganization.Kind.CITY))
    return valid_consents(on).filter(
        Q(organization__in=organizations) | (Q(scope=Consent.Scope.CITY) & Q(is_city))
    )


def consent_covers(
    participant: Participant, organization: PartnerOrganization, on: date | None = None
) -> bool:
    """Whether the organisation may work with the participant: it owns the record, or a valid
    consent shares it with the organisation."""
    if participant.organization_id == organization.pk:
        return True
    return (
        consents_covering(PartnerOrganization.objects.filter(pk=organization.pk), on)
        .filter(participant=participant)
        .exists()
    )


def active_overrides(user: AnyUser) -> QuerySet[ConsentOverride]:
    if not user.is_authenticated or not user.is_active:
        return ConsentOverride.objects.none()
    return ConsentOverride.objects.filter(user=user, expires_at__gt=timezone.now())


# The doors -------------------------------------------------------------------------------------


class _NotesRedactedIterable(ModelIterable):
    """Model instances whose narrative notes are blanked unless the row says they may be read."""

    def __iter__(self):  # type: ignore[no-untyped-def]
        for obj in super().__iter__():
            if not getattr(obj, "notes_readable", False):
                obj.notes = ""
            yield obj


def _with_notes_for(queryset: QuerySet, user: AnyUser) -> QuerySet:
    """Sessions or referrals whose `notes` are kept only for the organisation that wrote them:
    every row carries `notes_readable`, and rows of other organisations come with no notes."""
    queryset = queryset.annotate(
        notes_readable=Case(
            When(organization__in=organizations_of(user), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )
    queryset._iterable_class = _NotesRedactedIterable
    return queryset


def can_read_notes(user: AnyUser, obj: Session | Referral) -> bool:
    """Narrative notes are for the organisation that wrote them, and nobody else."""
    readable = getattr(obj, "notes_readable", None)
    if readable is not None:
        return bool(readable)
    return organizations_of(user).filter(pk=obj.organization_id).exists()


def participants_visible_to(user: AnyUser) -> QuerySet[Participant]:
    """The participants of the user's organisations, those another organisation shares with one
    of them under a valid consent, and those the user holds an emergency override for."""
    if not user.is_authenticated or not user.is_active:
        return Participant.objects.none()
    # The shared ids are read once per request (access_facts) and given as a list: an OR of
    # subqueries here would hide the organisation index from the planner on every page.
    visible = Q(organization__in=organizations_of(user))
    shared = access_facts(user).shared_participant_ids
    if shared:
        visible |= Q(pk__in=sorted(shared))
    return Participant.objects.filter(visible)


def enrollments_visible_to(user: AnyUser) -> QuerySet[Enrollment]:
    """Every enrolment of a visible participant, whichever organisation runs the program."""
    return Enrollment.objects.filter(participant__in=participants_visible_to(user))


def enrollments_editable_by(user: AnyUser) -> QuerySet[Enrollment]:
    """Visible enrolments in the programs of the user's organisations: a shared participant's
    enrolment elsewhere can be seen, not changed."""
    return enrollments_visible_to(user).filter(program__organization__in=organizations_of(user))


def sessions_visible_to(user: AnyUser) -> QuerySet[Session]:
    """Sessions the user's organisations logged, and sessions attended by a visible participant
    (a shared person's contacts elsewhere), notes kept for the organisation that wrote them."""
    if not user.is_authenticated or not user.is_active:
        return Session.objects.none()
    organizations = organizations_of(user)
    facts = access_facts(user)
    visible = Q(organization__in=organizations)
    if facts.shared_participant_ids:
        visible |= Q(
            pk__in=SessionParticipant.objects.filter(
                participant_id__in=sorted(facts.shared_participant_ids)
            ).values("session_id")
        )
    if facts.shares_out:
        # Another organisation may have met one of ours while a consent was in force.
        visible |= Exists(
            SessionParticipant.objects.filter(
                session=OuterRef("pk"), participant__organization__in=organizations
            )
        )
    return _with_notes_for(Session.objects.filter(visible), user)


def referrals_visible_to(user: AnyUser) -> QuerySet[Referral]:
    """Referrals of visible participants, notes kept for the organisation that made them."""
    return _with_notes_for(
        Referral.objects.filter(participant__in=participants_visible_to(user)), user
    )


def referrals_editable_by(user: AnyUser) -> QuerySet[Referral]:
    """Visible referrals the user's organisations made: only they follow them up."""
    return referrals_visible_to(user).filter(organization__in=organizations_of(user))


def sharing_organization_for(
    user: AnyUser, participants: Iterable[Participant]
) -> PartnerOrganization | None:
    """The organisation on whose behalf the user works with these participants: the one that
    owns them when the user belongs to it, otherwise the first of the user's organisations that
    a consent covers for every one of them. None: no organisation of the user may."""
    people = list(participants)
    organizations = list(organizations_of(user).order_by("name", "pk"))
    owners = {p.organization_id for p in people}
    for organization in organizations:
        if owners == {organization.pk}:
            return organization
    for organization in organizations:
        if all(consent_covers(p, organization) for p in people):
            return organization
    return None


def workers_of(organization: PartnerOrganization) -> QuerySet:
    """Users who can be assigned participants in an organisation (its active members)."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            memberships__organization=organization,
            memberships__is_active=True,
        )
        .order_by("first_name", "last_name", "username")
    )


def with_contact_facts(participants: QuerySet[Participant]) -> QuerySet[Participant]:
    """Annotate last_contact_at, next_follow_up_on and days_since_last_contact, each one
    correlated subquery on an index (no query per row).

    next_follow_up_on is the earliest follow-up date, today or later, set on any of the
    participant's sessions; days_since_last_contact is None for someone never contacted.
    """
    today = timezone.localdate()
    last_contact = (
        SessionParticipant.objects.filter(participant=OuterRef("pk"))
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    next_follow_up = (
        SessionParticipant.objects.filter(
            participant=OuterRef("pk"), session__follow_up_on__gte=today
        )
        .order_by("session__follow_up_on")
        .values("session__follow_up_on")[:1]
    )
    return participants.annotate(
        last_contact_at=Subquery(last_contact),
        next_follow_up_on=Subquery(next_follow_up),
    ).annotate(
        days_since_last_contact=ExtractDay(
            Cast(Value(today), DateField()) - Cast(TruncDate("last_contact_at"), DateField())
        ),
    )


def gone_cold_q(cold_after_days: int | None = None, *, participant: str = "pk") -> Q:
    """Participants with no contact in the last N days (never contacted included).

    Asked as "no attendance since the cutoff": one probe of the (participant, occurred_at)
    index per person, where comparing an annotated last contact would run its subquery once
    for the IS NULL test and again for the comparison. `participant` names the participant's
    id in the outer query: "pk" on participants, "participant_id" on enrolments."""
    days = settings.GVR_COLD_AFTER_DAYS if cold_after_days is None else cold_after_days
    cutoff = timezone.now() - timedelta(days=days)
    contacted_since = SessionParticipant.objects.filter(
        participant=OuterRef(participant), occurred_at__gte=cutoff
    )
    return Q(~Exists(contacted_since))


# The manager's pages --------------------------------------------------------------------------

# Street-outreach models recommend 15-20 active participants per worker.
CASELOAD_GUIDELINE_MIN = 15
CASELOAD_GUIDELINE_MAX = 20


def area_and_descendant_ids(area: Area) -> list[int]:
    """The area and every area under it (neighbourhoods of a city, cities of a county), from
    one query over the (small) area table, whatever the depth."""
    children: dict[int | None, list[int]] = {}
    for area_id, parent_id in Area.objects.order_by().values_list("id", "parent_id"):
        children.setdefault(parent_id, []).append(area_id)
    found, stack = [], [area.pk]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.append(current)
        stack.extend(children.get(current, []))
    return found


def managed_organizations(user: AnyUser) -> QuerySet[PartnerOrganization]:
    """The active organisations the user manages, by name."""
    return organizations_of(user, role=MANAGER).order_by("name", "pk")


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


def session_export_rows(sessions: QuerySet[Session]) -> QuerySet[Session]:
    """Sessions for a grant report: one row each, the attendees' codes aggregated in the
    database. Never the notes: they do not leave the organisation's screens."""
    return (
        sessions.order_by()
        .annotate(
            participant_codes=StringAgg(
                "attendance__participant__participant_code",
                delimiter="; ",
                order_by="attendance__participant__participant_code",
                default=Value(""),
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


def month_start(day: date) -> datetime:
    """Local midnight on the first of the day's month."""
    return timezone.make_aware(datetime(day.year, day.month, 1))


def previous_month(day: date) -> date:
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


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
    last_start = month_start(last_month)
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


# The outreach worker's pages ------------------------------------------------------------------


def caseload_for(user: AnyUser) -> QuerySet[Participant]:
    """The participants with a caseload enrolment assigned to the user, with contact facts,
    an `is_cold` flag and `my_enrollments` (those enrolments, with their program), most
    overdue first: never contacted, then the longest since the last contact."""
    if not user.is_authenticated:
        return Participant.objects.none()
    mine = Enrollment.objects.filter(
        assigned_worker=user, status__in=Enrollment.CASELOAD_STATUSES
    ).select_related("program")
    return (
        with_contact_facts(
            participants_visible_to(user).filter(Exists(mine.filter(participant=OuterRef("pk"))))
        )
        .annotate(
            is_cold=Case(
                When(gone_cold_q(), then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .prefetch_related(Prefetch("enrollments", queryset=mine, to_attr="my_enrollments"))
        .order_by(F("last_contact_at").asc(nulls_first=True), "last_name", "first_name", "pk")
    )


def search_participants(participants: QuerySet[Participant], query: str) -> QuerySet[Participant]:
    """Narrow to participants whose name, alias or code contains every word of the query."""
    for word in query.split()[:5]:
        participants = participants.filter(
            Q(first_name__icontains=word)
            | Q(last_name__icontains=word)
            | Q(aliases__icontains=word)
            | Q(participant_code__icontains=word)
        )
    return participants


# pg_trgm's own default threshold: "Jon Smith" and "John Smith" pass, "John Smith" and
# "Joan Smyth" do not.
DUPLICATE_SIMILARITY = 0.3


def likely_duplicates(
    user: AnyUser,
    first_name: str,
    last_name: str,
    date_of_birth: date | None,
    *,
    organization: PartnerOrganization | None = None,
) -> QuerySet[Participant]:
    """Participants the user can see, born the same day, whose name looks like this one
    (pg_trgm similarity of "first last"), the closest first."""
    if date_of_birth is None:
        return Participant.objects.none()
    candidates = participants_visible_to(user).filter(date_of_birth=date_of_birth)
    if organization is not None:
        candidates = candidates.filter(organization=organization)
    full_name = f"{first_name.strip()} {last_name.strip()}"
    return (
        candidates.annotate(
            name_similarity=TrigramSimilarity(
                Concat("first_name", Value(" "), "last_name"), Value(full_name)
            )
        )
        .filter(name_similarity__gte=DUPLICATE_SIMILARITY)
        .order_by("-name_similarity", "pk")[:5]
    )


def last_session_defaults(user: AnyUser) -> dict[str, object]:
    """Kind, location and duration of the user's latest session: a worker mostly repeats
    the same kind of contact, so the form starts from it."""
    if not user.is_authenticated:
        return {}
    latest = (
        sessions_visible_to(user)
        .filter(worker=user)
        .order_by("-occurred_at")
        .values("kind", "location", "duration_minutes")
        .first()
    )
    return latest or {}


def session_program_for(user: AnyUser, participants: Iterable[Participant]) -> Program | None:
    """The program a session belongs to when the participants' open enrolments name one
    program (those assigned to the user first); None when it is ambiguous. Only programs of the
    user's organisations: a shared participant's enrolment elsewhere is not theirs to log in."""
    open_enrollments = (
        enrollments_editable_by(user)
        .filter(participant__in=list(participants))
        .exclude(status=Enrollment.Status.EXITED)
        .select_related("program")
    )
    rows = list(open_enrollments)
    for candidates in ([e for e in rows if e.assigned_worker_id == user.pk], rows):
        programs = {e.program_id: e.program for e in candidates}
        if len(programs) == 1:
            return next(iter(programs.values()))
    return None


@dataclass(frozen=True)
class TimelineEntry:
    kind: str  # "session", "referral" or "status"
    day: date
    moment: datetime
    item: Session | Referral | EnrollmentStatusChange


def participant_timeline(
    user: AnyUser, participant: Participant, *, page: int, per_page: int = 20
) -> tuple[list[TimelineEntry], bool]:
    """One page of a participant's sessions, referrals and enrolment status changes, newest
    first, and whether there is a next page.

    Each source is read in the timeline's own order up to the end of the page (three queries
    whatever the page), then merged; deep pages read more rows, but a participant's history
    is hundreds of rows, not millions."""
    page = max(page, 1)
    upto = page * per_page + 1
    sessions = (
        sessions_visible_to(user)
        .filter(attendance__participant=participant)
        .select_related("worker", "program")
        .order_by("-occurred_at", "-pk")[:upto]
    )
    referrals = (
        referrals_visible_to(user)
        .filter(participant=participant)
        .select_related("made_by", "to_organization")
        .order_by("-made_on", "-created_at", "-pk")[:upto]
    )
    changes = (
        EnrollmentStatusChange.objects.filter(
            enrollment__in=enrollments_visible_to(user).filter(participant=participant)
        )
        .select_related("enrollment__program", "changed_by")
        .order_by("-changed_on", "-changed_at", "-pk")[:upto]
    )
    entries = [
        *(
            TimelineEntry("session", timezone.localtime(s.occurred_at).date(), s.occurred_at, s)
            for s in sessions
        ),
        *(TimelineEntry("referral", r.made_on, r.created_at, r) for r in referrals),
        *(TimelineEntry("status", c.changed_on, c.changed_at, c) for c in changes),
    ]
    entries.sort(key=lambda entry: (entry.day, entry.moment), reverse=True)
    start = (page - 1) * per_page
    return entries[start : start + per_page], len(entries) > start + per_page


def follow_ups_due(user: AnyUser, participant: Participant) -> QuerySet[Session]:
    """Follow-up dates still ahead, and the one set at the latest contact even when it has
    passed (nobody has met the person since, so it is overdue)."""
    attended = sessions_visible_to(user).filter(attendance__participant=participant)
    latest = (
        SessionParticipant.objects.filter(participant=participant)
        .order_by("-occurred_at")
        .values("occurred_at")[:1]
    )
    return (
        attended.filter(follow_up_on__isnull=False)
        .filter(Q(follow_up_on__gte=timezone.localdate()) | Q(occurred_at=Subquery(latest)))
        .select_related("worker")
        .order_by("follow_up_on")[:5]
    )
