"""The services: each rule's happy path and each refusal, with a message a person understands and
nothing written when a rule refuses."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from interventions.errors import ServiceError
from interventions.models import (
    Enrollment,
    EnrollmentStatusChange,
    Membership,
    Participant,
    PartnerOrganization,
    Referral,
    Session,
    SessionParticipant,
)
from interventions.services import case as services
from tests.conftest import OrgSetup
from tests.factories import (
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ReferralFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

Status = Enrollment.Status
DAY = timedelta(days=1)


def today():
    return timezone.localdate()


def refused(match: str):
    return pytest.raises(ServiceError, match=match)


def message(error: pytest.ExceptionInfo[ServiceError]) -> str:
    return error.value.messages[0]


@pytest.fixture
def participant(org_a: OrgSetup) -> Participant:
    return ParticipantFactory(organization=org_a.organization, identified_on=today() - 100 * DAY)


@pytest.fixture
def enrollment(org_a: OrgSetup, participant: Participant) -> Enrollment:
    return services.enroll_participant(
        participant=participant,
        program=org_a.program,
        by=org_a.manager,
        worker=org_a.worker,
        on=today() - 60 * DAY,
    )


# register_participant -------------------------------------------------------------------------


def register(org: PartnerOrganization, user, **details) -> Participant:
    values = {"first_name": "Marcus", "last_name": "Reyes"} | details
    return services.register_participant(organization=org, registered_by=user, **values)


def test_register_participant_numbers_codes_from_the_organization_slug(db) -> None:
    garden = PartnerOrganizationFactory(slug="garden-pathways")
    worker = MembershipFactory(organization=garden).user
    first = register(garden, worker, first_name="  Marcus ", aliases=" Little M ")
    second = register(garden, worker)
    assert first.participant_code == "GP-00001"
    assert second.participant_code == "GP-00002"
    assert (first.first_name, first.aliases, first.organization) == ("Marcus", "Little M", garden)
    assert first.identified_on == today()


def test_register_participant_continues_after_the_highest_code(db) -> None:
    garden = PartnerOrganizationFactory(slug="garden-pathways")
    worker = MembershipFactory(organization=garden).user
    ParticipantFactory(organization=garden, participant_code="GP-00041")
    ParticipantFactory(organization=garden, participant_code="GP-00007")
    # Codes of another shape or another prefix do not disturb the numbering.
    ParticipantFactory(organization=garden, participant_code="GPX-99999")
    ParticipantFactory(organization=garden, participant_code="GP-legacy")
    assert register(garden, worker).participant_code == "GP-00042"


def test_organizations_with_the_same_prefix_never_share_a_code(db) -> None:
    garden = PartnerOrganizationFactory(slug="garden-pathways")
    green = PartnerOrganizationFactory(slug="green-places")
    user = UserFactory()
    MembershipFactory(user=user, organization=garden)
    MembershipFactory(user=user, organization=green)
    codes = [register(org, user).participant_code for org in (garden, green, garden)]
    assert codes == ["GP-00001", "GP-00002", "GP-00003"]


@pytest.mark.django_db(transaction=True)
def test_simultaneous_registrations_with_the_same_prefix_take_different_codes(
    monkeypatch,
) -> None:
    """Garden Pathways and Green Places share "GP": each holds only its own organisation's row
    lock, so the numbering itself must be locked per prefix."""
    garden = PartnerOrganizationFactory(slug="garden-pathways")
    green = PartnerOrganizationFactory(slug="green-places")
    user = UserFactory()
    MembershipFactory(user=user, organization=garden)
    MembershipFactory(user=user, organization=green)
    real_next_code = services.next_participant_code

    def slow_next_code(organization: PartnerOrganization) -> str:
        code = real_next_code(organization)
        time.sleep(0.5)  # the other registration reads the codes meanwhile
        return code

    monkeypatch.setattr(services, "next_participant_code", slow_next_code)
    outcomes: list[object] = []

    def register_in(organization: PartnerOrganization) -> None:
        try:
            outcomes.append(register(organization, user).participant_code)
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=register_in, args=(org,)) for org in (garden, green)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(map(str, outcomes)) == ["GP-00001", "GP-00002"]


def test_organizations_with_different_prefixes_number_separately(org_a, org_b) -> None:
    assert register(org_a.organization, org_a.worker).participant_code == "OA-00001"
    assert register(org_b.organization, org_b.worker).participant_code == "OB-00001"
    assert register(org_a.organization, org_a.worker).participant_code == "OA-00002"


@pytest.mark.parametrize(
    ("details", "match"),
    [
        ({"first_name": "  "}, "needs a first and a last name"),
        ({"last_name": ""}, "needs a first and a last name"),
        ({"identified_on": "tomorrow"}, "identified date cannot be in the future"),
        ({"date_of_birth": "after"}, "date of birth must be before the date the person was"),
    ],
)
def test_register_participant_refuses_bad_details(org_a, details, match) -> None:
    if details.get("identified_on") == "tomorrow":
        details["identified_on"] = today() + DAY
    if details.get("date_of_birth") == "after":
        details |= {"identified_on": today() - 10 * DAY, "date_of_birth": today() - 5 * DAY}
    with refused(match):
        register(org_a.organization, org_a.worker, **details)
    assert not Participant.objects.exists()


def test_register_participant_refuses_outsiders(org_a, org_b) -> None:
    with refused("is not an active member of Org A and cannot register participants"):
        register(org_a.organization, org_b.worker)
    Membership.objects.filter(user=org_a.worker).update(is_active=False)
    with refused("not an active member"):
        register(org_a.organization, org_a.worker)
    PartnerOrganization.objects.filter(pk=org_a.organization.pk).update(is_active=False)
    with refused("not an active member"):
        register(org_a.organization, org_a.manager)
    assert not Participant.objects.exists()


# enroll_participant ---------------------------------------------------------------------------


def test_enroll_participant_opens_a_referred_enrolment_with_history(org_a, participant) -> None:
    enrollment = services.enroll_participant(
        participant=participant, program=org_a.program, by=org_a.manager, worker=org_a.worker
    )
    enrollment.refresh_from_db()
    assert enrollment.status == Status.REFERRED
    assert enrollment.referred_on == today()
    assert enrollment.assigned_worker == org_a.worker
    assert enrollment.contacted_on is None
    change = enrollment.status_changes.get()
    assert (change.from_status, change.to_status, change.changed_by) == (
        "",
        Status.REFERRED,
        org_a.manager,
    )
    assert change.changed_on == today()


def test_enroll_participant_at_a_later_status_dates_every_step(org_a, participant) -> None:
    start = today() - 3 * DAY
    enrollment = services.enroll_participant(
        participant=participant, program=org_a.program, by=None, status=Status.ENROLLED, on=start
    )
    enrollment.refresh_from_db()
    assert enrollment.status == Status.ENROLLED
    assert [
        enrollment.referred_on,
        enrollment.contacted_on,
        enrollment.engaged_on,
        enrollment.enrolled_on,
    ] == [start] * 4
    assert enrollment.active_on is None
    assert enrollment.assigned_worker is None


def test_enroll_participant_again_after_exit(org_a, participant, enrollment) -> None:
    services.exit_enrollment(enrollment=enrollment, reason="moved", by=None)
    again = services.enroll_participant(participant=participant, program=org_a.program, by=None)
    assert again.is_open
    assert participant.enrollments.count() == 2


def enroll_refusal(org_a: OrgSetup, participant: Participant, case: str) -> dict:
    kwargs = {"participant": participant, "program": org_a.program, "by": org_a.manager}
    if case == "future":
        kwargs["on"] = today() + DAY
    elif case == "inactive-program":
        org_a.program.is_active = False
        org_a.program.save(update_fields=["is_active"])
    elif case == "exited-status":
        kwargs["status"] = Status.EXITED
    elif case == "inactive-status":
        kwargs["status"] = Status.INACTIVE
    elif case == "before-identified":
        kwargs["on"] = participant.identified_on - DAY
    elif case == "outside-worker":
        kwargs["worker"] = UserFactory()
    elif case == "already-open":
        EnrollmentFactory(participant=participant, program=org_a.program)
    elif case == "other-organization":
        kwargs["participant"] = ParticipantFactory(identified_on=participant.identified_on)
    return kwargs


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("future", "enrolment date cannot be in the future"),
        ("inactive-program", "is no longer active and takes no new enrolments"),
        ("exited-status", "A new enrolment starts at referred, contacted"),
        ("inactive-status", "A new enrolment starts at referred, contacted"),
        ("before-identified", "cannot start before the participant was identified"),
        ("outside-worker", "is not an active member of Org A, so cannot be assigned"),
        ("already-open", "already has an open enrolment in"),
        ("other-organization", "belongs to another organisation"),
    ],
)
def test_enroll_participant_refusals(org_a, participant, case, match) -> None:
    kwargs = enroll_refusal(org_a, participant, case)
    before = Enrollment.objects.count()
    with refused(match):
        services.enroll_participant(**kwargs)
    assert Enrollment.objects.count() == before
    assert not EnrollmentStatusChange.objects.exists()


# allowed_next_statuses ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("current", "allowed"),
    [
        ("referred", ["contacted", "engaged", "enrolled", "active", "inactive"]),
        ("contacted", ["engaged", "enrolled", "active", "inactive"]),
        ("engaged", ["enrolled", "active", "inactive"]),
        ("enrolled", ["active", "inactive"]),
        ("active", ["inactive"]),
        ("inactive", ["active"]),
        ("exited", []),
    ],
)
def test_allowed_next_statuses(current: str, allowed: list[str]) -> None:
    assert services.allowed_next_statuses(Enrollment(status=current)) == allowed


# change_enrollment_status ---------------------------------------------------------------------


def test_change_enrollment_status_moves_forward_and_writes_history(org_a, enrollment) -> None:
    on = today() - 50 * DAY
    changed = services.change_enrollment_status(
        enrollment=enrollment, status=Status.CONTACTED, by=org_a.worker, on=on, note="Met at park"
    )
    changed.refresh_from_db()
    assert (changed.status, changed.contacted_on) == (Status.CONTACTED, on)
    latest = changed.status_changes.order_by("-pk").first()
    assert (latest.from_status, latest.to_status, latest.changed_on) == (
        Status.REFERRED,
        Status.CONTACTED,
        on,
    )
    assert (latest.changed_by, latest.note) == (org_a.worker, "Met at park")
    assert changed.status_changes.count() == 2


def test_change_enrollment_status_active_inactive_and_back(org_a, enrollment) -> None:
    for status, days_ago in [(Status.ACTIVE, 40), (Status.INACTIVE, 20), (Status.ACTIVE, 5)]:
        services.change_enrollment_status(
            enrollment=enrollment, status=status, by=None, on=today() - days_ago * DAY
        )
    enrollment.refresh_from_db()
    assert enrollment.status == Status.ACTIVE
    assert enrollment.active_on == today() - 5 * DAY
    assert enrollment.inactive_on == today() - 20 * DAY
    assert list(
        enrollment.status_changes.order_by("pk").values_list("from_status", "to_status")
    ) == [
        ("", "referred"),
        ("referred", "active"),
        ("active", "inactive"),
        ("inactive", "active"),
    ]


@pytest.mark.parametrize(
    ("status", "on_days_ago", "match"),
    [
        ("exited", 1, "Use exit \\(with a reason\\) to close an enrolment"),
        ("referred", 1, "An enrolment that is referred cannot move to referred"),
        ("bogus", 1, "An enrolment that is referred cannot move to bogus"),
        ("contacted", -1, "status change date cannot be in the future"),
        ("contacted", 61, "cannot be dated before the referral"),
    ],
)
def test_change_enrollment_status_refusals(enrollment, status, on_days_ago, match) -> None:
    with refused(match):
        services.change_enrollment_status(
            enrollment=enrollment, status=status, by=None, on=today() - on_days_ago * DAY
        )
    enrollment.refresh_from_db()
    assert enrollment.status == Status.REFERRED
    assert enrollment.contacted_on is None
    assert enrollment.status_changes.count() == 1


def test_change_enrollment_status_cannot_walk_back(enrollment) -> None:
    services.change_enrollment_status(enrollment=enrollment, status=Status.ENGAGED, by=None)
    with refused("An enrolment that is engaged cannot move to contacted"):
        services.change_enrollment_status(enrollment=enrollment, status=Status.CONTACTED, by=None)
    enrollment.refresh_from_db()
    assert enrollment.status == Status.ENGAGED


def test_change_enrollment_status_reads_the_current_row_not_the_callers_copy(enrollment) -> None:
    stale = Enrollment.objects.get(pk=enrollment.pk)
    services.exit_enrollment(enrollment=enrollment, reason="moved", by=None)
    with refused("An enrolment that is exited cannot move to active"):
        services.change_enrollment_status(enrollment=stale, status=Status.ACTIVE, by=None)


def test_change_enrollment_status_not_before_the_current_step(enrollment) -> None:
    services.change_enrollment_status(
        enrollment=enrollment, status=Status.ENROLLED, by=None, on=today() - 10 * DAY
    )
    with refused("cannot be dated before the enrolment became enrolled"):
        services.change_enrollment_status(
            enrollment=enrollment, status=Status.ACTIVE, by=None, on=today() - 20 * DAY
        )
    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.active_on) == (Status.ENROLLED, None)


# exit_enrollment ------------------------------------------------------------------------------


def test_exit_enrollment_records_date_reason_and_history(org_a, enrollment) -> None:
    exited = services.exit_enrollment(
        enrollment=enrollment, reason="graduated", by=org_a.manager, note="Finished"
    )
    exited.refresh_from_db()
    assert (exited.status, exited.exited_on, exited.exit_reason) == (
        Status.EXITED,
        today(),
        "graduated",
    )
    latest = exited.status_changes.order_by("-pk").first()
    assert (latest.from_status, latest.to_status, latest.note) == (
        Status.REFERRED,
        Status.EXITED,
        "Finished",
    )


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("no-reason", "Choose an exit reason"),
        ("bad-reason", "Choose an exit reason"),
        ("future", "exit date cannot be in the future"),
        ("before-referral", "exit date cannot be before the enrolment"),
        ("before-enrolled", "exit date cannot be before the enrolment \\("),
        ("before-inactive", "exit date cannot be before the enrolment became inactive"),
    ],
)
def test_exit_enrollment_refusals(enrollment, case, match) -> None:
    kwargs = {"enrollment": enrollment, "reason": "moved", "by": None}
    if case == "no-reason":
        kwargs["reason"] = ""
    elif case == "bad-reason":
        kwargs["reason"] = "bored"
    elif case == "future":
        kwargs["on"] = today() + DAY
    elif case == "before-referral":
        kwargs["on"] = enrollment.referred_on - DAY
    elif case == "before-enrolled":
        services.change_enrollment_status(
            enrollment=enrollment, status=Status.ENROLLED, by=None, on=today() - 10 * DAY
        )
        kwargs["on"] = today() - 20 * DAY
    elif case == "before-inactive":
        services.change_enrollment_status(
            enrollment=enrollment, status=Status.INACTIVE, by=None, on=today() - 10 * DAY
        )
        kwargs["on"] = today() - 20 * DAY
    history = enrollment.status_changes.count()
    with refused(match):
        services.exit_enrollment(**kwargs)
    enrollment.refresh_from_db()
    assert enrollment.is_open
    assert (enrollment.exited_on, enrollment.exit_reason) == (None, "")
    assert enrollment.status_changes.count() == history


def test_exit_enrollment_twice_is_refused(enrollment) -> None:
    services.exit_enrollment(enrollment=enrollment, reason="moved", by=None)
    with refused("already been exited"):
        services.exit_enrollment(enrollment=enrollment, reason="graduated", by=None)
    enrollment.refresh_from_db()
    assert enrollment.exit_reason == "moved"


# assign_worker --------------------------------------------------------------------------------


def test_assign_worker_one_and_many(org_a, enrollment) -> None:
    others = [
        EnrollmentFactory(program=org_a.program, participant__organization=org_a.organization)
        for _ in range(2)
    ]
    assert services.assign_worker(enrollments=[enrollment], worker=org_a.manager, by=None) == 1
    enrollment.refresh_from_db()
    assert enrollment.assigned_worker == org_a.manager
    count = services.assign_worker(
        enrollments=Enrollment.objects.filter(program=org_a.program), worker=org_a.worker, by=None
    )
    assert count == 3
    assert set(Enrollment.objects.values_list("assigned_worker", flat=True)) == {org_a.worker.pk}
    assert services.assign_worker(enrollments=others, worker=None, by=None) == 2
    assert Enrollment.objects.filter(assigned_worker__isnull=True).count() == 2


def test_assign_worker_is_all_or_none(org_a, org_b, enrollment) -> None:
    closed = EnrollmentFactory(
        program=org_a.program,
        participant__organization=org_a.organization,
        assigned_worker=org_a.worker,
        status=Status.EXITED,
        exited_on=today(),
        exit_reason="moved",
    )
    with refused("has been exited and cannot be reassigned"):
        services.assign_worker(enrollments=[enrollment, closed], worker=org_a.manager, by=None)
    with refused("is not an active member of Org A, so cannot be assigned"):
        services.assign_worker(enrollments=[enrollment], worker=org_b.worker, by=None)
    assert set(Enrollment.objects.values_list("assigned_worker", flat=True)) == {org_a.worker.pk}


def test_assign_worker_reads_the_current_rows_not_the_callers_copies(org_a, enrollment) -> None:
    stale = Enrollment.objects.get(pk=enrollment.pk)
    services.exit_enrollment(enrollment=enrollment, reason="moved", by=None)
    with refused("has been exited and cannot be reassigned"):
        services.assign_worker(enrollments=[stale], worker=org_a.manager, by=None)
    enrollment.refresh_from_db()
    assert enrollment.assigned_worker == org_a.worker


@pytest.mark.parametrize("how_many", [1, 12])
def test_assign_worker_queries_do_not_grow_with_rows(
    org_a, how_many, django_assert_num_queries
) -> None:
    EnrollmentFactory.create_batch(
        how_many, program=org_a.program, participant__organization=org_a.organization
    )
    enrollments = list(Enrollment.objects.all())
    # The locked read, one membership check for the organisation, the outbox row asking for
    # the dashboard counts' refresh, the update (plus savepoint).
    with django_assert_num_queries(6):
        assert (
            services.assign_worker(enrollments=enrollments, worker=org_a.worker, by=None)
            == how_many
        )


# log_session ----------------------------------------------------------------------------------


def log(org: OrgSetup, participants, **overrides) -> Session:
    values = {
        "worker": org.worker,
        "organization": org.organization,
        "participants": participants,
        "kind": Session.Kind.MENTORING,
        "occurred_at": timezone.now() - timedelta(hours=2),
        "duration_minutes": 45,
        "location": Session.Location.STREET,
    } | overrides
    return services.log_session(**values)


def test_log_group_session_copies_the_time_to_each_participant(org_a, participant) -> None:
    others = ParticipantFactory.create_batch(2, organization=org_a.organization)
    when = timezone.now() - timedelta(hours=3)
    session = log(
        org_a,
        [participant, *others, participant],
        kind=Session.Kind.GROUP_SESSION,
        occurred_at=when,
        program=org_a.program,
        notes="  Circle at the center  ",
        follow_up_on=today() + 7 * DAY,
    )
    session.refresh_from_db()
    assert (session.kind, session.occurred_at, session.notes) == (
        "group_session",
        when,
        "Circle at the center",
    )
    attendance = SessionParticipant.objects.filter(session=session)
    assert attendance.count() == 3
    assert set(attendance.values_list("occurred_at", flat=True)) == {when}
    assert set(session.participants.all()) == {participant, *others}


def test_log_session_with_the_same_client_key_twice_makes_one_session(org_a, participant) -> None:
    key = uuid.uuid4()
    first = log(org_a, [participant], client_key=key)
    second = log(org_a, [participant], client_key=key, duration_minutes=90)
    assert first.pk == second.pk
    assert Session.objects.count() == 1
    assert SessionParticipant.objects.count() == 1
    assert Session.objects.get().duration_minutes == 45


def test_log_session_refuses_a_client_key_used_by_another_worker(org_a, participant) -> None:
    key = uuid.uuid4()
    log(org_a, [participant], client_key=key)
    with refused("This form has already been used. Reload the page and try again."):
        log(org_a, [participant], client_key=key, worker=org_a.manager)
    assert Session.objects.count() == 1


def test_log_session_race_on_a_client_key_stays_with_its_worker(
    org_a, participant, monkeypatch
) -> None:
    """Two submits with one key at the same moment: both miss the first lookup, one insert
    wins, and the loser finds the winner's session only if it is the same worker's."""
    key = uuid.uuid4()
    mine = log(org_a, [participant], client_key=key)
    real_first = QuerySet.first
    missed: list[bool] = []

    def first_misses_once(queryset: QuerySet):
        if queryset.model is Session and not missed:
            missed.append(True)
            return None
        return real_first(queryset)

    monkeypatch.setattr(QuerySet, "first", first_misses_once)
    with refused("This form has already been used"):
        log(org_a, [participant], client_key=key, worker=org_a.manager)
    missed.clear()
    assert log(org_a, [participant], client_key=key) == mine
    assert missed == [True]
    assert Session.objects.count() == 1


def test_log_session_within_the_clock_allowance(org_a, participant) -> None:
    session = log(org_a, [participant], occurred_at=timezone.now() + timedelta(minutes=3))
    assert session.pk


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("outsider", "is not an active member of Org A and cannot log sessions"),
        ("nobody", "Choose at least one participant"),
        ("other-org-participant", "only be logged for your organisation's participants"),
        ("bad-kind", "Choose the kind of session"),
        ("bad-location", "Choose where the session took place"),
        ("zero-minutes", "Duration must be between 1 and 1440 minutes"),
        ("too-long", "Duration must be between 1 and 1440 minutes"),
        ("naive", "The session time needs a time zone"),
        ("future", "A session cannot be in the future"),
        ("follow-up-before", "follow-up date cannot be before the session"),
        ("other-org-program", "must be one of your organisation's programs"),
    ],
)
def test_log_session_refusals(org_a, org_b, participant, case, match) -> None:
    overrides: dict[str, object] = {}
    participants = [participant]
    if case == "outsider":
        overrides["worker"] = org_b.worker
    elif case == "nobody":
        participants = []
    elif case == "other-org-participant":
        participants = [participant, ParticipantFactory(organization=org_b.organization)]
    elif case == "bad-kind":
        overrides["kind"] = "party"
    elif case == "bad-location":
        overrides["location"] = "moon"
    elif case == "zero-minutes":
        overrides["duration_minutes"] = 0
    elif case == "too-long":
        overrides["duration_minutes"] = 1441
    elif case == "naive":
        overrides["occurred_at"] = datetime(2024, 5, 1, 10, 0)
    elif case == "future":
        overrides["occurred_at"] = timezone.now() + timedelta(minutes=10)
    elif case == "follow-up-before":
        overrides["occurred_at"] = timezone.now() - 3 * DAY
        overrides["follow_up_on"] = today() - 5 * DAY
    elif case == "other-org-program":
        overrides["program"] = org_b.program
    with refused(match):
        log(org_a, participants, client_key=uuid.uuid4(), **overrides)
    assert not Session.objects.exists()
    assert not SessionParticipant.objects.exists()


# make_referral / advance_referral -------------------------------------------------------------


def refer(org: OrgSetup, participant: Participant, **overrides) -> Referral:
    values = {
        "participant": participant,
        "made_by": org.worker,
        "organization": org.organization,
        "service_category": Referral.ServiceCategory.EMPLOYMENT,
        "outside_provider": "Kern County Job Center",
    } | overrides
    return services.make_referral(**values)


def test_make_referral_to_an_outside_provider_or_a_partner(org_a, org_b, participant) -> None:
    outside = refer(org_a, participant, outside_provider="  Kern County Job Center ")
    outside.refresh_from_db()
    assert (outside.status, outside.made_on, outside.outside_provider) == (
        Referral.Status.MADE,
        today(),
        "Kern County Job Center",
    )
    assert outside.provider_name == "Kern County Job Center"
    partner = refer(
        org_a,
        participant,
        outside_provider="",
        to_organization=org_b.organization,
        service_category=Referral.ServiceCategory.HOUSING,
        made_on=today() - 2 * DAY,
    )
    assert partner.provider_name == "Org B"
    assert partner.made_on == today() - 2 * DAY


@pytest.mark.parametrize(
    ("case", "match"),
    [
        ("outsider", "is not an active member of Org A and cannot make referrals"),
        ("other-org-participant", "only be made for your organisation's participants"),
        ("bad-category", "Choose a service category"),
        ("both", "Refer to a partner organisation or name an outside provider"),
        ("neither", "Refer to a partner organisation or name an outside provider"),
        ("inactive-partner", "Org B is no longer active"),
        ("future", "referral date cannot be in the future"),
    ],
)
def test_make_referral_refusals(org_a, org_b, participant, case, match) -> None:
    overrides: dict[str, object] = {}
    if case == "outsider":
        overrides["made_by"] = org_b.worker
    elif case == "other-org-participant":
        overrides["participant"] = ParticipantFactory(organization=org_b.organization)
    elif case == "bad-category":
        overrides["service_category"] = "vacation"
    elif case == "both":
        overrides["to_organization"] = org_b.organization
    elif case == "neither":
        overrides["outside_provider"] = "   "
    elif case == "inactive-partner":
        PartnerOrganization.objects.filter(pk=org_b.organization.pk).update(is_active=False)
        org_b.organization.refresh_from_db()
        overrides |= {"to_organization": org_b.organization, "outside_provider": ""}
    elif case == "future":
        overrides["made_on"] = today() + DAY
    with refused(match):
        refer(org_a, overrides.pop("participant", participant), **overrides)
    assert not Referral.objects.exists()


def test_advance_referral_through_its_lifecycle(org_a, participant) -> None:
    referral = refer(org_a, participant, made_on=today() - 10 * DAY)
    services.advance_referral(
        referral=referral, status=Referral.Status.ACCEPTED, by=None, on=today() - 8 * DAY
    )
    done = services.advance_referral(
        referral=referral, status=Referral.Status.COMPLETED, by=None, outcome="  Hired  "
    )
    done.refresh_from_db()
    assert (done.status, done.accepted_on, done.closed_on, done.outcome) == (
        Referral.Status.COMPLETED,
        today() - 8 * DAY,
        today(),
        "Hired",
    )


@pytest.mark.parametrize("status", Referral.CLOSED_STATUSES)
def test_advance_referral_can_close_straight_from_made(org_a, participant, status) -> None:
    referral = services.advance_referral(referral=refer(org_a, participant), status=status, by=None)
    referral.refresh_from_db()
    assert (referral.status, referral.closed_on, referral.accepted_on) == (status, today(), None)


def test_advance_referral_cannot_close_before_it_was_accepted(org_a, participant) -> None:
    referral = refer(org_a, participant, made_on=today() - 10 * DAY)
    services.advance_referral(
        referral=referral, status=Referral.Status.ACCEPTED, by=None, on=today() - 3 * DAY
    )
    with refused("cannot be before the referral was accepted"):
        services.advance_referral(
            referral=referral, status=Referral.Status.COMPLETED, by=None, on=today() - 5 * DAY
        )
    referral.refresh_from_db()
    assert (referral.status, referral.closed_on) == (Referral.Status.ACCEPTED, None)


@pytest.mark.parametrize(
    ("start", "status", "on_days_ago", "match"),
    [
        ("made", "made", 0, "A referral that is made cannot become made"),
        ("made", "bogus", 0, "A referral that is made cannot become bogus"),
        ("completed", "accepted", 0, "A referral that is completed cannot become accepted"),
        ("declined", "completed", 0, "A referral that is declined cannot become completed"),
        ("made", "accepted", -1, "referral update date cannot be in the future"),
        ("made", "accepted", 11, "cannot be before the referral was made"),
    ],
)
def test_advance_referral_refusals(org_a, participant, start, status, on_days_ago, match) -> None:
    referral = ReferralFactory(
        participant=participant,
        made_by=org_a.worker,
        made_on=today() - 10 * DAY,
        status=start,
        closed_on=None if start == "made" else today() - DAY,
    )
    with refused(match):
        services.advance_referral(
            referral=referral, status=status, by=None, on=today() - on_days_ago * DAY
        )
    referral.refresh_from_db()
    assert referral.status == start
    assert referral.accepted_on is None


# deactivate_organizations ---------------------------------------------------------------------


def test_deactivate_organizations_keeps_records_and_ends_memberships(
    org_a, org_b, participant
) -> None:
    changed = services.deactivate_organizations(organizations=[org_a.organization])
    assert changed == 1
    org_a.organization.refresh_from_db()
    assert not org_a.organization.is_active
    assert not Membership.objects.filter(organization=org_a.organization, is_active=True).exists()
    assert Membership.objects.filter(organization=org_b.organization, is_active=True).count() == 2
    assert Participant.objects.filter(pk=participant.pk).exists()
    # The members leave the role groups too; B's keep theirs.
    assert not org_a.manager.groups.exists() and not org_a.worker.groups.exists()
    assert list(org_b.manager.groups.values_list("name", flat=True)) == ["Manager"]
    # Already inactive: nothing more to change.
    assert services.deactivate_organizations(organizations=[org_a.organization]) == 0
    with refused("not an active member"):
        log(org_a, [participant])
