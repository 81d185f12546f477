"""Writes that have rules. The admin, the web pages, the management commands and the tasks all
call these, so a rule lives in one place. Each raises `ServiceError` (a ValidationError, which
forms and the admin show as a message) and changes nothing when a rule refuses the write."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from datetime import date, datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext

from interventions.access import consent_covers
from interventions.errors import ServiceError
from interventions.models import (
    CLOCK_SKEW_ALLOWANCE,
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
from interventions.services.caseload import refresh_counts_on_commit

Status = Enrollment.Status

# The forward path of an enrolment. Steps may be skipped (a walk-in can be enrolled at once)
# but not walked back; inactive and active may alternate; exit has its own service.
FORWARD_ORDER = [Status.REFERRED, Status.CONTACTED, Status.ENGAGED, Status.ENROLLED, Status.ACTIVE]


def _member_of(user: AbstractBaseUser, organization: PartnerOrganization) -> bool:
    return Membership.objects.filter(
        user=user, organization=organization, is_active=True, organization__is_active=True
    ).exists()


def _require_member(
    user: AbstractBaseUser, organization: PartnerOrganization, message: str
) -> None:
    """`message` names %(user)s and %(organization)s: "… and cannot log sessions." """
    if not _member_of(user, organization):
        raise ServiceError(message % {"user": user, "organization": organization})


def _not_after_today(day: date, message: str) -> None:
    """`message` is the whole sentence, e.g. "The referral date cannot be in the future." """
    if day > timezone.localdate():
        raise ServiceError(message)


# Participants ---------------------------------------------------------------------------------


def _code_prefix(organization: PartnerOrganization) -> str:
    initials = "".join(part[0] for part in organization.slug.split("-") if part)
    return (initials or organization.slug[:3]).upper()[:4]


def next_participant_code(organization: PartnerOrganization) -> str:
    """The organisation's next participant code, e.g. GP-00042. Call inside a transaction: the
    number stays locked until it ends, so two registrations cannot take the same one."""
    prefix = _code_prefix(organization)
    # Per prefix, not per organisation: organisations whose slugs share initials share the
    # numbering (garden-pathways and green-places are both GP).
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"participant-code:{prefix}"])
    numbers = Participant.objects.filter(participant_code__startswith=f"{prefix}-").values_list(
        "participant_code", flat=True
    )
    highest = max(
        (int(m.group(1)) for code in numbers if (m := re.fullmatch(rf"{prefix}-(\d+)", code))),
        default=0,
    )
    return f"{prefix}-{highest + 1:05d}"


@transaction.atomic
def register_participant(
    *,
    organization: PartnerOrganization,
    registered_by: AbstractBaseUser,
    first_name: str,
    last_name: str,
    identified_on: date | None = None,
    aliases: str = "",
    date_of_birth: date | None = None,
    area: Area | None = None,
    referral_source: str = Participant.ReferralSource.COMMUNITY,
    risk_tier: int = Participant.RiskTier.HIGH,
    phone: str = "",
) -> Participant:
    _require_member(
        registered_by,
        organization,
        gettext(
            "%(user)s is not an active member of %(organization)s and cannot register participants."
        ),
    )
    first_name, last_name = first_name.strip(), last_name.strip()
    if not first_name or not last_name:
        raise ServiceError(gettext("A participant needs a first and a last name."))
    identified_on = identified_on or timezone.localdate()
    _not_after_today(identified_on, gettext("The identified date cannot be in the future."))
    if date_of_birth and date_of_birth > identified_on:
        raise ServiceError(
            gettext("The date of birth must be before the date the person was identified.")
        )
    PartnerOrganization.objects.select_for_update().filter(pk=organization.pk).first()
    refresh_counts_on_commit([organization.pk])
    return Participant.objects.create(
        organization=organization,
        participant_code=next_participant_code(organization),
        first_name=first_name,
        last_name=last_name,
        aliases=aliases.strip(),
        date_of_birth=date_of_birth,
        area=area,
        referral_source=referral_source,
        risk_tier=risk_tier,
        phone=phone.strip(),
        identified_on=identified_on,
    )


# What a worker may correct on a participant's profile. The code, the organisation and the
# funnel dates have their own rules and writers.
PARTICIPANT_EDITABLE_FIELDS = (
    "first_name",
    "last_name",
    "aliases",
    "date_of_birth",
    "area",
    "phone",
    "risk_tier",
    "referral_source",
)


@transaction.atomic
def update_participant(
    *,
    participant: Participant,
    by: AbstractBaseUser,
    expected_updated_at: datetime | None,
    **changes: object,
) -> Participant:
    """Correct a participant's profile. Refused with `RecordChanged` (nothing saved) when the
    record was saved by someone else after the form was drawn: `expected_updated_at` is the
    updated_at the form was drawn from, compared on the locked row."""
    from interventions.services.locking import lock_unchanged

    unknown = set(changes) - set(PARTICIPANT_EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"update_participant cannot change {', '.join(sorted(unknown))}")
    current = lock_unchanged(Participant.objects.all(), participant.pk, expected_updated_at)
    _require_member(
        by,
        current.organization,
        gettext(
            "%(user)s is not an active member of %(organization)s and cannot change "
            "participant records."
        ),
    )
    for name in ("first_name", "last_name", "aliases", "phone"):
        if name in changes:
            changes[name] = str(changes[name] or "").strip()
    if changes.get("first_name") == "" or changes.get("last_name") == "":
        raise ServiceError(gettext("A participant needs a first and a last name."))
    if "referral_source" in changes and (
        changes["referral_source"] not in Participant.ReferralSource.values
    ):
        raise ServiceError(gettext("Choose a referral source."))
    if "risk_tier" in changes and changes["risk_tier"] not in Participant.RiskTier.values:
        raise ServiceError(gettext("Choose a risk tier."))
    date_of_birth = changes.get("date_of_birth")
    if isinstance(date_of_birth, date):
        _not_after_today(date_of_birth, gettext("The birth date cannot be in the future."))
        if date_of_birth > current.identified_on:
            raise ServiceError(
                gettext(
                    "The date of birth must be before the date the person was identified "
                    "(%(identified_on)s)."
                )
                % {"identified_on": f"{current.identified_on:%Y-%m-%d}"}
            )
    changed = [name for name, value in changes.items() if getattr(current, name) != value]
    if not changed:
        return current
    for name in changed:
        setattr(current, name, changes[name])
    current.save(update_fields=[*changed, "updated_at"])
    return current


@transaction.atomic
def register_and_enroll(
    *,
    program: Program,
    registered_by: AbstractBaseUser,
    worker: AbstractBaseUser | None,
    status: str = Status.REFERRED,
    **details: object,
) -> Enrollment:
    """Register a participant in the program's organisation and open their enrolment: both or
    neither."""
    participant = register_participant(
        organization=program.organization, registered_by=registered_by, **details
    )
    return enroll_participant(
        participant=participant,
        program=program,
        by=registered_by,
        worker=worker,
        status=status,
    )


# Enrolments -----------------------------------------------------------------------------------


def _record_status_change(
    enrollment: Enrollment,
    *,
    from_status: str,
    on: date,
    by: AbstractBaseUser | None,
    note: str = "",
) -> None:
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status=from_status,
        to_status=enrollment.status,
        changed_on=on,
        changed_by=by,
        note=note[:500],
    )


def _check_worker(worker: AbstractBaseUser | None, program: Program) -> None:
    if worker is not None and not _member_of(worker, program.organization):
        raise ServiceError(
            gettext(
                "%(worker)s is not an active member of %(organization)s, so cannot be assigned "
                "to this program."
            )
            % {"worker": worker, "organization": program.organization}
        )


@transaction.atomic
def enroll_participant(
    *,
    participant: Participant,
    program: Program,
    by: AbstractBaseUser | None,
    worker: AbstractBaseUser | None = None,
    status: str = Status.REFERRED,
    on: date | None = None,
) -> Enrollment:
    """Open an enrolment of a participant in a program, at `status` (referred by default)."""
    on = on or timezone.localdate()
    _not_after_today(on, gettext("The enrolment date cannot be in the future."))
    if not program.is_active:
        raise ServiceError(
            gettext("%(program)s is no longer active and takes no new enrolments.")
            % {"program": program}
        )
    if status not in FORWARD_ORDER:
        raise ServiceError(
            gettext("A new enrolment starts at referred, contacted, engaged, enrolled or active.")
        )
    if on < participant.identified_on:
        raise ServiceError(
            gettext("An enrolment cannot start before the participant was identified.")
        )
    if not consent_covers(participant, program.organization):
        # The enrolment would sit outside the records the program's organisation can see.
        raise ServiceError(
            gettext(
                "%(participant)s belongs to another organisation than %(program)s; an "
                "organisation enrols another's participant only while a consent shares the "
                "record with it."
            )
            % {"participant": participant, "program": program}
        )
    _check_worker(worker, program)
    if (
        Enrollment.objects.filter(participant=participant, program=program)
        .exclude(status=Status.EXITED)
        .exists()
    ):
        raise ServiceError(
            gettext("%(participant)s already has an open enrolment in %(program)s.")
            % {"participant": participant, "program": program}
        )
    enrollment = Enrollment(
        participant=participant, program=program, assigned_worker=worker, referred_on=on
    )
    # Every step up to the starting status is dated with the start day.
    for step in FORWARD_ORDER[: FORWARD_ORDER.index(status) + 1]:
        setattr(enrollment, Enrollment.STATUS_DATE_FIELDS[step], on)
    enrollment.status = status
    try:
        with transaction.atomic():
            enrollment.save()
    except IntegrityError as error:
        # Another request opened the same enrolment between our check and our insert.
        raise ServiceError(
            gettext("%(participant)s already has an open enrolment in %(program)s.")
            % {"participant": participant, "program": program}
        ) from error
    _record_status_change(enrollment, from_status="", on=on, by=by, note="Enrolment opened")
    refresh_counts_on_commit([program.organization_id])
    return enrollment


def allowed_next_statuses(enrollment: Enrollment) -> list[str]:
    """The statuses an enrolment may move to through change_enrollment_status."""
    current = enrollment.status
    if current == Status.EXITED:
        return []
    if current == Status.INACTIVE:
        return [Status.ACTIVE]
    later = FORWARD_ORDER[FORWARD_ORDER.index(current) + 1 :]
    return [*later, Status.INACTIVE]


@transaction.atomic
def change_enrollment_status(
    *,
    enrollment: Enrollment,
    status: str,
    by: AbstractBaseUser | None,
    on: date | None = None,
    note: str = "",
) -> Enrollment:
    on = on or timezone.localdate()
    _not_after_today(on, gettext("The status change date cannot be in the future."))
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if status == Status.EXITED:
        raise ServiceError(gettext("Use exit (with a reason) to close an enrolment."))
    if status not in allowed_next_statuses(enrollment):
        raise ServiceError(
            gettext("An enrolment that is %(current)s cannot move to %(status)s.")
            % {
                "current": enrollment.get_status_display().lower(),
                "status": Status(status).label.lower() if status in Status.values else status,
            }
        )
    if on < enrollment.referred_on:
        raise ServiceError(gettext("A status change cannot be dated before the referral."))
    current_since = getattr(enrollment, Enrollment.STATUS_DATE_FIELDS[Status(enrollment.status)])
    if current_since and on < current_since:
        # Otherwise the dated steps, and the history built from them, run backwards.
        raise ServiceError(
            gettext(
                "A status change cannot be dated before the enrolment became %(status)s "
                "(%(since)s)."
            )
            % {
                "status": enrollment.get_status_display().lower(),
                "since": f"{current_since:%Y-%m-%d}",
            }
        )
    previous = enrollment.status
    enrollment.status = status
    date_field = Enrollment.STATUS_DATE_FIELDS[Status(status)]
    setattr(enrollment, date_field, on)
    enrollment.save(update_fields=["status", date_field, "updated_at"])
    _record_status_change(enrollment, from_status=previous, on=on, by=by, note=note)
    refresh_counts_on_commit([enrollment.program.organization_id])
    return enrollment


@transaction.atomic
def exit_enrollment(
    *,
    enrollment: Enrollment,
    reason: str,
    by: AbstractBaseUser | None,
    on: date | None = None,
    note: str = "",
) -> Enrollment:
    on = on or timezone.localdate()
    _not_after_today(on, gettext("The exit date cannot be in the future."))
    enrollment = Enrollment.objects.select_for_update().get(pk=enrollment.pk)
    if enrollment.status == Status.EXITED:
        raise ServiceError(gettext("This enrolment has already been exited."))
    if reason not in Enrollment.ExitReason.values:
        raise ServiceError(gettext("Choose an exit reason."))
    start = enrollment.enrolled_on or enrollment.referred_on
    if on < start:
        raise ServiceError(
            gettext("The exit date cannot be before the enrolment (%(start)s).")
            % {"start": f"{start:%Y-%m-%d}"}
        )
    current_since = getattr(enrollment, Enrollment.STATUS_DATE_FIELDS[Status(enrollment.status)])
    if current_since and on < current_since:
        raise ServiceError(
            gettext("The exit date cannot be before the enrolment became %(status)s (%(since)s).")
            % {
                "status": enrollment.get_status_display().lower(),
                "since": f"{current_since:%Y-%m-%d}",
            }
        )
    previous = enrollment.status
    enrollment.status = Status.EXITED
    enrollment.exited_on = on
    enrollment.exit_reason = reason
    enrollment.save(update_fields=["status", "exited_on", "exit_reason", "updated_at"])
    _record_status_change(enrollment, from_status=previous, on=on, by=by, note=note)
    refresh_counts_on_commit([enrollment.program.organization_id])
    return enrollment


@transaction.atomic
def assign_worker(
    *,
    enrollments: Iterable[Enrollment],
    worker: AbstractBaseUser | None,
    by: AbstractBaseUser | None,
) -> int:
    """Assign (or, with worker=None, unassign) one or many enrolments. All or none."""
    ids = [enrollment.pk for enrollment in enrollments]
    # The rows as they are now, not the caller's copies (one may have been exited since), locked
    # until the update; the membership is checked once per organisation, not once per row.
    current = list(
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("participant", "program__organization")
        .filter(pk__in=ids)
        .order_by("pk")
    )
    for enrollment in current:
        if not enrollment.is_open:
            raise ServiceError(
                gettext("%(enrollment)s has been exited and cannot be reassigned.")
                % {"enrollment": enrollment}
            )
    for program in {e.program.organization_id: e.program for e in current}.values():
        _check_worker(worker, program)
    refresh_counts_on_commit(e.program.organization_id for e in current)
    return Enrollment.objects.filter(pk__in=ids).update(
        assigned_worker=worker, updated_at=timezone.now()
    )


# Sessions -------------------------------------------------------------------------------------


@transaction.atomic
def log_session(
    *,
    worker: AbstractBaseUser,
    organization: PartnerOrganization,
    participants: Iterable[Participant],
    kind: str,
    occurred_at: datetime,
    duration_minutes: int,
    location: str,
    program: Program | None = None,
    notes: str = "",
    follow_up_on: date | None = None,
    client_key: uuid.UUID | None = None,
) -> Session:
    """Record a contact. With a client_key, a repeat of the same submission returns the session
    the first one created (a double tap on a weak connection makes one session)."""
    if client_key is not None:
        existing = Session.objects.filter(client_key=client_key).first()
        if existing is not None:
            if existing.worker_id != worker.pk:
                raise ServiceError(
                    gettext("This form has already been used. Reload the page and try again.")
                )
            return existing
    _require_member(
        worker,
        organization,
        gettext("%(user)s is not an active member of %(organization)s and cannot log sessions."),
    )
    participants = list(dict.fromkeys(participants))
    if not participants:
        raise ServiceError(gettext("Choose at least one participant."))
    outsiders = [p for p in participants if not consent_covers(p, organization)]
    if outsiders:
        raise ServiceError(
            gettext(
                "Sessions can only be logged for your organisation's participants, or for "
                "participants another organisation shares with yours under a valid consent."
            )
        )
    if kind not in Session.Kind.values:
        raise ServiceError(gettext("Choose the kind of session."))
    if location not in Session.Location.values:
        raise ServiceError(gettext("Choose where the session took place."))
    if not 1 <= duration_minutes <= 1440:
        raise ServiceError(gettext("Duration must be between 1 and 1440 minutes."))
    if timezone.is_naive(occurred_at):
        raise ServiceError(gettext("The session time needs a time zone."))
    if occurred_at > timezone.now() + CLOCK_SKEW_ALLOWANCE:
        raise ServiceError(gettext("A session cannot be in the future."))
    if follow_up_on is not None and follow_up_on < timezone.localtime(occurred_at).date():
        raise ServiceError(gettext("The follow-up date cannot be before the session."))
    if program is not None and program.organization_id != organization.pk:
        raise ServiceError(gettext("The program must be one of your organisation's programs."))
    session = Session(
        organization=organization,
        program=program,
        worker=worker,
        kind=kind,
        occurred_at=occurred_at,
        duration_minutes=duration_minutes,
        location=location,
        notes=notes.strip(),
        follow_up_on=follow_up_on,
        client_key=client_key,
    )
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError:
        # The same form was submitted twice at once; the other request won.
        existing = Session.objects.filter(client_key=client_key).first()
        if client_key is None or existing is None:
            raise
        if existing.worker_id != worker.pk:
            raise ServiceError(
                gettext("This form has already been used. Reload the page and try again.")
            ) from None
        return existing
    SessionParticipant.objects.bulk_create(
        SessionParticipant(session=session, participant=p, occurred_at=occurred_at)
        for p in participants
    )
    # Once committed, the metrics rollup for the session's month is refreshed (de-duplicated).
    from metrics.services import refresh_on_commit

    # A session counts only in its own organisation's rows.
    refresh_on_commit(occurred_at, organization.pk)
    # The dashboard's counts: this organisation's sessions, and "gone cold" wherever the people
    # seen are in a caseload.
    caseloads = (
        Enrollment.objects.filter(participant__in=participants)
        .exclude(status=Status.EXITED)
        .values_list("program__organization_id", flat=True)
    )
    refresh_counts_on_commit([organization.pk, *caseloads])
    return session


# Referrals ------------------------------------------------------------------------------------


@transaction.atomic
def make_referral(
    *,
    participant: Participant,
    made_by: AbstractBaseUser,
    organization: PartnerOrganization,
    service_category: str,
    to_organization: PartnerOrganization | None = None,
    outside_provider: str = "",
    made_on: date | None = None,
    notes: str = "",
) -> Referral:
    _require_member(
        made_by,
        organization,
        gettext("%(user)s is not an active member of %(organization)s and cannot make referrals."),
    )
    if not consent_covers(participant, organization):
        raise ServiceError(
            gettext(
                "Referrals can only be made for your organisation's participants, or for "
                "participants another organisation shares with yours under a valid consent."
            )
        )
    if service_category not in Referral.ServiceCategory.values:
        raise ServiceError(gettext("Choose a service category."))
    outside_provider = outside_provider.strip()
    if bool(to_organization) == bool(outside_provider):
        raise ServiceError(
            gettext("Refer to a partner organisation or name an outside provider (one of the two).")
        )
    if to_organization is not None and not to_organization.is_active:
        raise ServiceError(
            gettext("%(organization)s is no longer active.") % {"organization": to_organization}
        )
    made_on = made_on or timezone.localdate()
    _not_after_today(made_on, gettext("The referral date cannot be in the future."))
    refresh_counts_on_commit([organization.pk, participant.organization_id])
    return Referral.objects.create(
        participant=participant,
        organization=organization,
        made_by=made_by,
        service_category=service_category,
        to_organization=to_organization,
        outside_provider=outside_provider,
        made_on=made_on,
        notes=notes.strip(),
    )


def _referral_status_label(status: str) -> str:
    return Referral.Status(status).label.lower() if status in Referral.Status.values else status


REFERRAL_NEXT = {
    Referral.Status.MADE: [
        Referral.Status.ACCEPTED,
        Referral.Status.COMPLETED,
        Referral.Status.DECLINED,
        Referral.Status.NO_SHOW,
    ],
    Referral.Status.ACCEPTED: [
        Referral.Status.COMPLETED,
        Referral.Status.DECLINED,
        Referral.Status.NO_SHOW,
    ],
}


@transaction.atomic
def advance_referral(
    *,
    referral: Referral,
    status: str,
    by: AbstractBaseUser | None,
    on: date | None = None,
    outcome: str = "",
) -> Referral:
    on = on or timezone.localdate()
    _not_after_today(on, gettext("The referral update date cannot be in the future."))
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    allowed = REFERRAL_NEXT.get(Referral.Status(referral.status), [])
    if status not in allowed:
        raise ServiceError(
            gettext("A referral that is %(current)s cannot become %(status)s.")
            % {
                "current": referral.get_status_display().lower(),
                "status": _referral_status_label(status),
            }
        )
    if on < referral.made_on:
        raise ServiceError(gettext("The date cannot be before the referral was made."))
    if referral.accepted_on and on < referral.accepted_on:
        accepted = f"{referral.accepted_on:%Y-%m-%d}"
        raise ServiceError(
            gettext("The date cannot be before the referral was accepted (%(accepted)s).")
            % {"accepted": accepted}
        )
    fields = ["status", "updated_at"]
    referral.status = status
    if status == Referral.Status.ACCEPTED:
        referral.accepted_on = on
        fields.append("accepted_on")
    else:
        referral.closed_on = on
        fields.append("closed_on")
    if outcome.strip():
        referral.outcome = outcome.strip()[:500]
        fields.append("outcome")
    referral.save(update_fields=fields)
    refresh_counts_on_commit([referral.organization_id, referral.participant.organization_id])
    return referral


@transaction.atomic
def deactivate_organizations(*, organizations: Iterable[PartnerOrganization]) -> int:
    """Deactivate organisations and their memberships; records stay, nothing is deleted. The
    members' role groups follow (a bulk update sends no signal)."""
    from django.contrib.auth import get_user_model

    from interventions.access import sync_role_groups

    ids = [organization.pk for organization in organizations]
    memberships = Membership.objects.filter(organization_id__in=ids)
    members = list(get_user_model().objects.filter(pk__in=memberships.values("user_id")))
    memberships.update(is_active=False)
    changed = PartnerOrganization.objects.filter(pk__in=ids, is_active=True).update(
        is_active=False, updated_at=timezone.now()
    )
    for member in members:
        sync_role_groups(user=member)
    return changed
