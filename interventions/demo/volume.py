"""Volume data for benchmarks: thousands of fictional participants and hundreds of thousands of
sessions, written with bulk inserts and PostgreSQL COPY.

Everything lives in its own organisations ("Volume Partner A (fictional)", ...), slugs starting
with `volume-partner-`, users starting with `vol-`, so `reset_volume` can remove exactly this
data and nothing else. The benchmark (bench/) calls `seed_volume` directly.
"""

from __future__ import annotations

import random
import string
import time as clock
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any, TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from interventions.audit.context import summarise_bulk_writes
from interventions.demo.case import (
    DEMO_PASSWORD,
    DURATIONS,
    FIRST_NAMES,
    KINDS_BY_PROGRAM,
    LAST_NAMES,
    LOCATIONS_BY_KIND,
    NOTES_BY_KIND,
    OUTSIDE_PROVIDERS,
    STREET_NAMES,
)
from interventions.models import (
    Area,
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
from interventions.services.case import FORWARD_ORDER

VOLUME_SLUG_PREFIX = "volume-partner-"
VOLUME_AREA_PREFIX = "volume-district-"
VOLUME_USERNAME_PREFIX = "vol-"
# The same demo-only password as seed_demo, so the benchmark can log in.
VOLUME_PASSWORD = DEMO_PASSWORD
MAX_ORGANIZATIONS = len(string.ascii_lowercase)

TARGET_CASELOAD = 17.5  # the middle of the 15-20 guideline
GROUP_SHARE = 0.08  # sessions with 2-5 participants
CHUNK = 50_000  # sessions generated and copied per round trip
HISTORY_DAYS = 730

Status = Enrollment.Status
PROGRAM_KINDS = (
    Program.Kind.STREET_OUTREACH,
    Program.Kind.MENTORING,
    Program.Kind.CASE_MANAGEMENT,
)
# Most people are active; some are still being reached, some have left.
STATUS_WEIGHTS = {
    Status.ACTIVE: 62,
    Status.ENROLLED: 6,
    Status.ENGAGED: 5,
    Status.CONTACTED: 4,
    Status.REFERRED: 3,
    Status.INACTIVE: 5,
    Status.EXITED: 15,
}
EXIT_REASONS = (
    Enrollment.ExitReason.GRADUATED,
    Enrollment.ExitReason.GRADUATED,
    Enrollment.ExitReason.MOVED,
    Enrollment.ExitReason.INCARCERATED,
    Enrollment.ExitReason.LOST_CONTACT,
    Enrollment.ExitReason.DECLINED,
)


class VolumeDataExists(Exception):
    """Volume data is already loaded; pass reset=True to replace it."""


@dataclass(frozen=True)
class VolumeSummary:
    organizations: int
    managers: int
    workers: int
    participants: int
    enrollments: int
    sessions: int
    attendance: int
    referrals: int
    seconds: float
    worker_username: str
    manager_username: str
    password: str = VOLUME_PASSWORD


def volume_organizations() -> QuerySet[PartnerOrganization]:
    return PartnerOrganization.objects.filter(slug__startswith=VOLUME_SLUG_PREFIX)


@transaction.atomic
def reset_volume() -> int:
    """Delete every row that belongs to the volume organisations (and their users). Returns
    the number of sessions deleted. The demo and everything else are left alone."""
    org_ids = list(volume_organizations().values_list("pk", flat=True))
    summarise_bulk_writes()
    session_table = Session._meta.db_table
    attendance_table = SessionParticipant._meta.db_table
    participant_table = Participant._meta.db_table
    with connection.cursor() as cursor:
        # The big tables go with one statement each; the ORM would load every row first.
        cursor.execute(
            # Table names from model metadata; the values are parameters.
            f"DELETE FROM {attendance_table} a USING {session_table} s "  # noqa: S608  # nosec B608
            "WHERE a.session_id = s.id AND s.organization_id = ANY(%s)",
            [org_ids],
        )
        cursor.execute(
            f"DELETE FROM {attendance_table} a USING {participant_table} p "  # noqa: S608  # nosec B608
            "WHERE a.participant_id = p.id AND p.organization_id = ANY(%s)",
            [org_ids],
        )
        cursor.execute(
            f"DELETE FROM {session_table} WHERE organization_id = ANY(%s)",  # noqa: S608  # nosec B608
            [org_ids],
        )
        deleted_sessions = cursor.rowcount
    Referral.objects.filter(
        Q(organization__in=org_ids)
        | Q(participant__organization__in=org_ids)
        | Q(to_organization__in=org_ids)
    ).delete()
    Enrollment.objects.filter(
        Q(program__organization__in=org_ids) | Q(participant__organization__in=org_ids)
    ).delete()
    Participant.objects.filter(organization__in=org_ids).delete()
    Program.objects.filter(organization__in=org_ids).delete()
    get_user_model().objects.filter(
        username__startswith=VOLUME_USERNAME_PREFIX, memberships__organization__in=org_ids
    ).delete()
    PartnerOrganization.objects.filter(pk__in=org_ids).delete()
    Area.objects.filter(slug__startswith=VOLUME_AREA_PREFIX).delete()
    return deleted_sessions


def seed_volume(
    participants: int = 10_000,
    sessions: int = 500_000,
    *,
    organizations: int = 10,
    first_organization_size: int | None = None,
    reset: bool = False,
    seed: int = 2026,
    stdout: TextIO | None = None,
) -> VolumeSummary:
    """Load `participants` participants and `sessions` sessions into `organizations` volume
    organisations, in one transaction (the first with `first_organization_size` of them when
    given, the rest shared by the others). Raises VolumeDataExists if volume data is already
    there and `reset` is false."""
    if not 1 <= organizations <= MAX_ORGANIZATIONS:
        raise ValueError(f"organizations must be between 1 and {MAX_ORGANIZATIONS}.")
    if participants < organizations or sessions < 0:
        raise ValueError("Need at least one participant per organisation and sessions >= 0.")
    if first_organization_size is not None and not (
        1 <= first_organization_size <= participants - (organizations - 1)
    ):
        raise ValueError("The first organisation's size must leave one participant for each other.")
    started = clock.monotonic()
    if reset:
        deleted = reset_volume()
        if stdout is not None:
            stdout.write(
                f"Deleted the previous volume data ({deleted} sessions) "
                f"in {clock.monotonic() - started:.1f} s.\n"
            )
    elif Participant.objects.filter(organization__in=volume_organizations()).exists():
        raise VolumeDataExists("Volume data is already loaded. Run with --reset to replace it.")
    with transaction.atomic():
        # Synthetic rows: one audit event per statement with its row count, not a million.
        summarise_bulk_writes()
        summary = _VolumeWriter(random.Random(seed), started).write(  # noqa: S311
            participants, sessions, organizations, first_organization_size
        )
    _analyze()
    # The rows were written in bulk, past the services: rebuild the dashboard's kept counts.
    from interventions.services.caseload import refresh_caseload_counts

    for organization_id in volume_organizations().values_list("pk", flat=True):
        refresh_caseload_counts(organization_id)
    summary = replace(summary, seconds=clock.monotonic() - started)
    if stdout is not None:
        write_summary(summary, stdout)
    return summary


def _analyze() -> None:
    """Fresh planner statistics, so the benchmark measures the plans production would get.

    Outside a transaction, VACUUM too: a reset leaves a million dead rows behind, which the
    planner then wades through when it probes an index for a column's current extremes (over
    100 ms of planning per page), and a fresh load has no visibility map, so every index-only
    scan visits the table. Autovacuum would get there in time; the benchmark cannot wait."""
    tables = [
        model._meta.db_table
        for model in (Participant, Enrollment, Session, SessionParticipant, Referral)
    ]
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {table}")


def write_summary(summary: VolumeSummary, stdout: TextIO) -> None:
    stdout.write(
        f"Created {summary.organizations} volume organisations, {summary.managers} managers, "
        f"{summary.workers} workers, {summary.participants} participants, "
        f"{summary.enrollments} enrolments, {summary.sessions} sessions "
        f"({summary.attendance} attendance rows), {summary.referrals} referrals "
        f"in {summary.seconds:.1f} s.\n"
        f"  Log in as worker {summary.worker_username} or manager {summary.manager_username} "
        f"(password {summary.password!r}, demo only).\n"
    )


@dataclass
class _Open:
    """What session generation needs to know about one enrolment."""

    participant_id: int
    program_id: int
    program_kind: str
    organization_id: int
    worker_id: int
    first_day: int  # days ago, inclusive
    last_day: int  # days ago, inclusive (>= 1: nothing today, so nothing in the future)
    is_open: bool


class _VolumeWriter:
    def __init__(self, rng: random.Random, started: float) -> None:
        self.rng = rng
        self.started = started
        self.today = timezone.localdate()
        self.now = timezone.now()
        # Local midnight of each past day, so a session time is one addition.
        self.midnights = [
            timezone.make_aware(datetime.combine(self.today - timedelta(days=ago), time()))
            for ago in range(HISTORY_DAYS + 1)
        ]

    def _ago(self, day: date) -> int:
        return (self.today - day).days

    def write(
        self,
        participants: int,
        sessions: int,
        organizations: int,
        first_organization_size: int | None = None,
    ) -> VolumeSummary:
        password_hash = make_password(VOLUME_PASSWORD)
        user_model = get_user_model()
        org_rows = []
        for index in range(organizations):
            letter = string.ascii_lowercase[index]
            organization, _ = PartnerOrganization.objects.get_or_create(
                slug=f"{VOLUME_SLUG_PREFIX}{letter}",
                defaults={"name": f"Volume Partner {letter.upper()} (fictional)"},
            )
            area, _ = Area.objects.get_or_create(
                slug=f"{VOLUME_AREA_PREFIX}{letter}",
                defaults={
                    "name": f"Volume District {letter.upper()} (fictional)",
                    "kind": Area.Kind.NEIGHBORHOOD,
                },
            )
            organization.areas_served.add(area)
            programs = [
                Program.objects.get_or_create(
                    slug=f"{organization.slug}-{kind.replace('_', '-')}",
                    defaults={
                        "organization": organization,
                        "name": f"{Program.Kind(kind).label} {letter.upper()}",
                        "kind": kind,
                        "area": area,
                    },
                )[0]
                for kind in PROGRAM_KINDS
            ]
            share = participants // organizations + (index < participants % organizations)
            if first_organization_size is not None:
                rest, others = participants - first_organization_size, organizations - 1
                share = (
                    first_organization_size
                    if index == 0
                    else rest // others + (index - 1 < rest % others)
                )
            org_rows.append((letter, organization, area, programs, share))

        people: list[Participant] = []
        plans: list[tuple[int, str]] = []  # (organisation index, status) per participant
        workers_by_org: list[list[Any]] = []
        managers = []
        statuses = list(STATUS_WEIGHTS)
        weights = list(STATUS_WEIGHTS.values())
        for org_index, (letter, organization, area, _, share) in enumerate(org_rows):
            org_statuses = self.rng.choices(statuses, weights, k=share)
            open_count = sum(s in Enrollment.CASELOAD_STATUSES for s in org_statuses)
            worker_count = max(1, round(open_count / TARGET_CASELOAD))
            staff = [
                user_model(
                    username=f"{VOLUME_USERNAME_PREFIX}{letter}-worker{number:03d}",
                    first_name=self.rng.choice(FIRST_NAMES),
                    last_name=self.rng.choice(LAST_NAMES),
                    password=password_hash,
                )
                for number in range(1, worker_count + 1)
            ]
            manager = user_model(
                username=f"{VOLUME_USERNAME_PREFIX}{letter}-manager",
                first_name=self.rng.choice(FIRST_NAMES),
                last_name=self.rng.choice(LAST_NAMES),
                password=password_hash,
            )
            user_model.objects.bulk_create([*staff, manager], batch_size=1000)
            Membership.objects.bulk_create(
                [
                    *(
                        Membership(
                            user=w,
                            organization=organization,
                            role=Membership.Role.OUTREACH_WORKER,
                        )
                        for w in staff
                    ),
                    Membership(
                        user=manager, organization=organization, role=Membership.Role.MANAGER
                    ),
                ]
            )
            workers_by_org.append(staff)
            managers.append(manager)
            prefix = f"VP{letter.upper()}"  # what services.next_participant_code derives
            for number, status in enumerate(org_statuses, start=1):
                people.append(self._participant(organization, area, prefix, number, status))
                plans.append((org_index, status))
        Participant.objects.bulk_create(people, batch_size=2000)

        enrollments = []
        round_robin: dict[int, int] = defaultdict(int)
        for participant, (org_index, status) in zip(people, plans, strict=True):
            programs = org_rows[org_index][3]
            staff = workers_by_org[org_index]
            if status in Enrollment.CASELOAD_STATUSES:
                worker = staff[round_robin[org_index] % len(staff)]
                round_robin[org_index] += 1
            else:
                worker = self.rng.choice(staff)
            enrollments.append(
                self._enrollment(participant, self.rng.choice(programs), status, worker)
            )
        Enrollment.objects.bulk_create(enrollments, batch_size=2000)
        EnrollmentStatusChange.objects.bulk_create(
            (
                EnrollmentStatusChange(
                    enrollment=e,
                    from_status="",
                    to_status=e.status,
                    changed_on=e.exited_on or e.inactive_on or e.referred_on,
                    changed_by_id=e.assigned_worker_id,
                    note="Loaded by seed_volume",
                )
                for e in enrollments
            ),
            batch_size=2000,
        )

        programs_by_id = {p.pk: p for row in org_rows for p in row[3]}
        windows = [self._window(e, programs_by_id[e.program_id]) for e in enrollments]
        windows = [w for w in windows if w is not None]
        session_count, attendance_count = self._copy_sessions(windows, sessions)
        referrals = self._referrals(enrollments)
        Referral.objects.bulk_create(referrals, batch_size=2000)
        return VolumeSummary(
            organizations=organizations,
            managers=len(managers),
            workers=sum(len(staff) for staff in workers_by_org),
            participants=len(people),
            enrollments=len(enrollments),
            sessions=session_count,
            attendance=attendance_count,
            referrals=len(referrals),
            seconds=0.0,
            worker_username=workers_by_org[0][0].username,
            manager_username=managers[0].username,
        )

    # Rows ------------------------------------------------------------------------------------

    def _participant(
        self, organization: PartnerOrganization, area: Area, prefix: str, number: int, status: str
    ) -> Participant:
        rng = self.rng
        identified_on = self.today - timedelta(days=rng.randint(40, HISTORY_DAYS))
        engaged = status not in (Status.REFERRED, Status.CONTACTED)
        notified_on = identified_on + timedelta(days=rng.randint(0, 10))
        return Participant(
            organization=organization,
            participant_code=f"{prefix}-{number:05d}",
            first_name=rng.choice(FIRST_NAMES),
            last_name=rng.choice(LAST_NAMES),
            aliases=rng.choice(STREET_NAMES) if rng.random() < 0.3 else "",
            date_of_birth=self.today - timedelta(days=rng.randint(16 * 365 + 5, 30 * 365 - 5)),
            area=area,
            referral_source=rng.choice(Participant.ReferralSource.values),
            risk_tier=rng.choice(Participant.RiskTier.values),
            identified_on=identified_on,
            notified_on=notified_on,
            engaged_on=notified_on + timedelta(days=rng.randint(1, 20)) if engaged else None,
        )

    def _enrollment(
        self, participant: Participant, program: Program, status: str, worker: Any
    ) -> Enrollment:
        rng = self.rng
        day = participant.identified_on + timedelta(days=rng.randint(0, 7))
        enrollment = Enrollment(
            participant=participant, program=program, referred_on=day, assigned_worker=worker
        )
        last_step = status if status in FORWARD_ORDER else Status.ACTIVE
        for step in FORWARD_ORDER[1 : FORWARD_ORDER.index(last_step) + 1]:
            day = min(day + timedelta(days=rng.randint(0, 10)), self.today)
            setattr(enrollment, Enrollment.STATUS_DATE_FIELDS[step], day)
        enrollment.status = status
        if status == Status.INACTIVE:
            enrollment.inactive_on = min(day + timedelta(days=rng.randint(30, 300)), self.today)
        elif status == Status.EXITED:
            enrollment.exited_on = min(day + timedelta(days=rng.randint(30, 400)), self.today)
            enrollment.exit_reason = rng.choice(EXIT_REASONS)
        return enrollment

    def _window(self, enrollment: Enrollment, program: Program) -> _Open | None:
        first = min(self._ago(enrollment.referred_on), HISTORY_DAYS)
        end = enrollment.exited_on or enrollment.inactive_on
        last = max(self._ago(end), 1) if end else 1
        if first < last:
            return None
        return _Open(
            participant_id=enrollment.participant_id,
            program_id=program.pk,
            program_kind=program.kind,
            organization_id=program.organization_id,
            worker_id=enrollment.assigned_worker_id,
            first_day=first,
            last_day=last,
            is_open=enrollment.status in Enrollment.CASELOAD_STATUSES,
        )

    def _referrals(self, enrollments: Sequence[Enrollment]) -> list[Referral]:
        rng = self.rng
        referrals = []
        categories = list(OUTSIDE_PROVIDERS)
        statuses = Referral.Status
        for enrollment in enrollments:
            if enrollment.engaged_on is None or rng.random() > 0.4:
                continue
            category = rng.choice(categories)
            made_on = min(enrollment.engaged_on + timedelta(days=rng.randint(0, 200)), self.today)
            status = rng.choice(
                (statuses.MADE, statuses.ACCEPTED)
                + (statuses.COMPLETED,) * 4
                + (statuses.DECLINED, statuses.NO_SHOW)
            )
            closed = status in Referral.CLOSED_STATUSES
            referrals.append(
                Referral(
                    participant_id=enrollment.participant_id,
                    organization_id=enrollment.participant.organization_id,
                    made_by_id=enrollment.assigned_worker_id,
                    service_category=category,
                    outside_provider=OUTSIDE_PROVIDERS[category],
                    status=status,
                    made_on=made_on,
                    accepted_on=made_on if status != statuses.MADE else None,
                    closed_on=min(made_on + timedelta(days=rng.randint(3, 60)), self.today)
                    if closed
                    else None,
                )
            )
        return referrals

    # Sessions, through COPY -----------------------------------------------------------------

    def _copy_sessions(self, windows: list[_Open], total: int) -> tuple[int, int]:
        if not windows or total == 0:
            return 0, 0
        # Open enrolments are seen more often than closed ones, and longer ones more often.
        weights = []
        running = 0.0
        for window in windows:
            running += (window.first_day - window.last_day + 1) * (3 if window.is_open else 1)
            weights.append(running)
        caseloads: dict[int, list[_Open]] = defaultdict(list)
        for window in windows:
            if window.is_open and window.last_day == 1:
                caseloads[window.worker_id].append(window)
        groups_possible = [c for c in caseloads.values() if len(c) >= 2]

        session_columns = [
            "id", "created_at", "updated_at", "organization_id", "program_id", "worker_id",
            "kind", "occurred_at", "duration_minutes", "location", "notes", "follow_up_on",
        ]  # fmt: skip
        attendance_columns = ["session_id", "participant_id", "occurred_at"]
        session_copy = _copy_sql(Session, session_columns)
        attendance_copy = _copy_sql(SessionParticipant, attendance_columns)
        sequence_sql = (
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)"
        )
        written = attended = 0
        with connection.cursor() as cursor:
            while written < total:
                size = min(CHUNK, total - written)
                cursor.execute(sequence_sql, [Session._meta.db_table, size])
                ids = [row[0] for row in cursor.fetchall()]
                sessions, attendance = self._session_rows(ids, windows, weights, groups_possible)
                with cursor.copy(session_copy) as copy:
                    for row in sessions:
                        copy.write_row(row)
                with cursor.copy(attendance_copy) as copy:
                    for row in attendance:
                        copy.write_row(row)
                written += size
                attended += len(attendance)
        return written, attended

    def _session_rows(
        self,
        ids: list[int],
        windows: list[_Open],
        weights: list[float],
        groups_possible: list[list[_Open]],
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        rng = self.rng
        now = self.now
        sessions = []
        attendance = []
        drafts = []
        for window in rng.choices(windows, cum_weights=weights, k=len(ids)):
            if groups_possible and rng.random() < GROUP_SHARE:
                caseload = rng.choice(groups_possible)
                members = rng.sample(caseload, min(len(caseload), rng.randint(2, 5)))
                first_day = min(m.first_day for m in members)
                ago = rng.randint(1, first_day)
                kind = Session.Kind.GROUP_SESSION
                duration = rng.choice((60, 90, 120))
                host = members[0]
                program_id = host.program_id if len({m.program_id for m in members}) == 1 else None
            else:
                members = [window]
                host = window
                ago = rng.randint(window.last_day, window.first_day)
                kind = rng.choice(KINDS_BY_PROGRAM[window.program_kind])
                duration = rng.choice(DURATIONS)
                program_id = window.program_id
            occurred_at = self.midnights[ago] + timedelta(minutes=rng.randint(8 * 60, 20 * 60))
            follow_up = None
            if rng.random() < 0.15:
                follow_up = occurred_at.date() + timedelta(days=rng.randint(3, 14))
            drafts.append(
                (
                    host.worker_id,
                    occurred_at,
                    members,
                    now,
                    now,
                    host.organization_id,
                    program_id,
                    host.worker_id,
                    kind,
                    occurred_at,
                    duration,
                    rng.choice(LOCATIONS_BY_KIND[kind]),
                    rng.choice(NOTES_BY_KIND[kind]),
                    follow_up,
                )
            )
        # In index order, so each insert lands next to the previous one instead of on a
        # random page of the (worker, occurred_at) index.
        drafts.sort(key=lambda draft: (draft[0], draft[1]))
        for session_id, (_, occurred_at, members, *row) in zip(ids, drafts, strict=True):
            sessions.append((session_id, *row))
            attendance.extend((session_id, m.participant_id, occurred_at) for m in members)
        return sessions, attendance


def _copy_sql(model: type[Model], columns: list[str]) -> str:
    return f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN"
