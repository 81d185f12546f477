"""Reads for the outreach worker's pages: the caseload and who has gone cold, participant
search and likely duplicates, the participant timeline, follow-ups and the session form's
defaults. Every read starts from a `*_visible_to(user)` of `interventions.access`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.conf import settings
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    Func,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast, Concat, ExtractDay, Greatest, TruncDate
from django.utils import timezone

from interventions.access import (
    AnyUser,
    enrollments_editable_by,
    organizations_of,
    participants_visible_to,
    referrals_visible_to,
    response_tasks_visible_to,
    sessions_visible_to,
    status_changes_visible_to,
)
from interventions.models import (
    Enrollment,
    EnrollmentStatusChange,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    ResponseTask,
    Session,
    SessionParticipant,
)

# Consent ---------------------------------------------------------------------------------------


# The doors -------------------------------------------------------------------------------------


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


def cold_cutoff(cold_after_days: int | None = None) -> datetime:
    """The start of the earliest local calendar day that still counts as recent.

    "Gone cold" counts calendar days in local time, not 24-hour periods: with 14 days, a
    person last seen on the 13th is cold from the morning of the 27th, whatever the hour of
    that last contact."""
    days = settings.GVR_COLD_AFTER_DAYS if cold_after_days is None else cold_after_days
    first_recent_day = timezone.localdate() - timedelta(days=days - 1)
    return timezone.make_aware(datetime.combine(first_recent_day, time.min))


def gone_cold_q(cold_after_days: int | None = None, *, participant: str = "pk") -> Q:
    """Participants with no contact in the last N calendar days (local time). Someone never
    contacted and registered within those days is not cold but has their first contact due
    (`Participant.first_contact_due_on`).

    Asked as "no attendance since the cutoff": one probe of the (participant, occurred_at)
    index per person, where comparing an annotated last contact would run its subquery once
    for the IS NULL test and again for the comparison. `participant` names the participant's
    id in the outer query: "pk" on participants, "participant_id" on enrolments."""
    cutoff = cold_cutoff(cold_after_days)
    contacted_since = SessionParticipant.objects.filter(
        participant=OuterRef(participant), occurred_at__gte=cutoff
    )
    ever_contacted = SessionParticipant.objects.filter(participant=OuterRef(participant))
    registered = "created_at" if participant == "pk" else "participant__created_at"
    # Someone met before their record was typed in is judged by that contact alone.
    return Q(~Exists(contacted_since)) & (
        Q(**{f"{registered}__lt": cutoff}) | Q(Exists(ever_contacted))
    )


# The manager's pages --------------------------------------------------------------------------


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
# "Joan Smyth" do not; "Jose Tapya" and "Jose Tapia" (0.57) do.
DUPLICATE_SIMILARITY = 0.3
# A same date of birth or phone number adds this much to the name's similarity: it lifts a
# weaker name match over the threshold and ranks the match higher, but is never required.
DUPLICATE_SAME_BIRTH_DATE = 0.2
DUPLICATE_SAME_PHONE = 0.2
# Phone numbers are compared by their digits, and only when there are enough to mean something.
PHONE_MIN_DIGITS = 7
DUPLICATES_SHOWN = 5


def _phone_digits(phone: str) -> str:
    return "".join(character for character in phone if character.isdigit())


def likely_duplicates(
    user: AnyUser,
    first_name: str,
    last_name: str,
    date_of_birth: date | None = None,
    *,
    aliases: str = "",
    phone: str = "",
    organization: PartnerOrganization | None = None,
    own_organizations_only: bool = False,
) -> QuerySet[Participant]:
    """Participants the user can see whose name or an alias looks like this person's, the most
    alike first, each with `duplicate_score`.

    The name alone decides (issue 14, finding 4: "Jose Tapya" was registered beside "Jose
    Tapia" because the check wanted the same birth date): the typed name is compared with each
    person's name (pg_trgm similarity) and with their aliases (word similarity, so one alias
    of a list matches), and each typed alias with their name and aliases. A same date of birth
    or phone number adds to that score; neither is needed."""
    full_name = f"{first_name.strip()} {last_name.strip()}".strip()
    typed_aliases = [alias.strip() for alias in aliases.split(",") if len(alias.strip()) >= 3][:3]
    if len(full_name) < 3 and not typed_aliases:
        return Participant.objects.none()
    their_name = Concat("first_name", Value(" "), "last_name")
    measures = [
        TrigramSimilarity(their_name, Value(full_name)),
        TrigramWordSimilarity(Value(full_name), "aliases"),
    ]
    for alias in typed_aliases:
        measures += [
            TrigramWordSimilarity(Value(alias), their_name),
            TrigramWordSimilarity(Value(alias), "aliases"),
        ]
    bonuses = []
    if date_of_birth is not None:
        bonuses.append(
            Case(
                When(date_of_birth=date_of_birth, then=Value(DUPLICATE_SAME_BIRTH_DATE)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        )
    digits = _phone_digits(phone)
    if len(digits) >= PHONE_MIN_DIGITS:
        their_digits = Func("phone", Value(r"\D"), Value(""), Value("g"), function="regexp_replace")
        bonuses.append(
            Case(
                When(Q(phone_digits=digits), then=Value(DUPLICATE_SAME_PHONE)),
                default=Value(0.0),
                output_field=FloatField(),
            )
        )
    candidates = participants_visible_to(user)
    if organization is not None:
        candidates = candidates.filter(organization=organization)
    if own_organizations_only:
        # Not the people another organisation shares under consent: those are theirs to register.
        candidates = candidates.filter(organization__in=organizations_of(user))
    if len(digits) >= PHONE_MIN_DIGITS:
        candidates = candidates.annotate(phone_digits=their_digits)
    score = Greatest(*measures, output_field=FloatField())
    for bonus in bonuses:
        score = score + bonus
    return (
        candidates.annotate(duplicate_score=ExpressionWrapper(score, output_field=FloatField()))
        .filter(duplicate_score__gte=DUPLICATE_SIMILARITY)
        .order_by("-duplicate_score", "last_name", "first_name", "pk")[:DUPLICATES_SHOWN]
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


# Issue 14, finding 2: the same contact logged again this soon is more likely a resend (back,
# then submit) than a second meeting.
LIKELY_DUPLICATE_WITHIN = timedelta(minutes=10)


def likely_duplicate_session(
    user: AnyUser,
    *,
    participants: Iterable[Participant],
    kind: str,
    client_key: object = None,
) -> Session | None:
    """The user's latest session of this kind with exactly these people, logged in the last
    ten minutes under another client key (the same key is the same submission, which
    `services.log_session` already answers with the session it saved)."""
    if not user.is_authenticated:
        return None
    ids = {participant.pk for participant in participants}
    candidates = (
        sessions_visible_to(user)
        .filter(
            worker=user,
            kind=kind,
            created_at__gte=timezone.now() - LIKELY_DUPLICATE_WITHIN,
        )
        .annotate(
            people=Count("attendance", distinct=True),
            same_people=Count(
                "attendance", distinct=True, filter=Q(attendance__participant__in=ids)
            ),
        )
        .filter(people=len(ids), same_people=len(ids))
        .order_by("-created_at")
    )
    if client_key is not None:
        candidates = candidates.exclude(client_key=client_key)
    return candidates.first()


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
        status_changes_visible_to(user)
        .filter(enrollment__participant=participant)
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


@dataclass(frozen=True)
class ContactState:
    """Where a participant stands with contact, as the highlights of their page say it: gone
    cold (no contact in GVR_COLD_AFTER_DAYS calendar days, the days `gone_cold_q` counts), or
    newly registered with a first contact due by a date, or neither."""

    gone_cold: bool
    first_contact_due_on: date | None


def contact_state(participant: Participant) -> ContactState:
    """From a participant fetched `with_contact_facts` (no query)."""
    days = settings.GVR_COLD_AFTER_DAYS
    since = getattr(participant, "days_since_last_contact", None)
    if getattr(participant, "last_contact_at", None) is not None and since is not None:
        return ContactState(gone_cold=since >= days, first_contact_due_on=None)
    due_on = participant.first_contact_due_on
    if due_on < timezone.localdate():
        return ContactState(gone_cold=True, first_contact_due_on=None)
    return ContactState(gone_cold=False, first_contact_due_on=due_on)


def open_response_tasks(user: AnyUser, participant: Participant) -> int:
    """How many open shooting-response tasks about the participant the user sees."""
    return (
        response_tasks_visible_to(user)
        .filter(participant=participant, status=ResponseTask.Status.OPEN)
        .count()
    )
