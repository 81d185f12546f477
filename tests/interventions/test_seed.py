"""The demo data (seed_demo) and the volume generator (seed_volume)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from interventions.access import can_see_street_intelligence
from interventions.audit.models import AuditEvent
from interventions.demo.case import (
    CITY_ADMIN_USERNAME,
    DEMO_PASSWORD,
    FUNNEL_CASE_MANAGED,
    FUNNEL_ENGAGED,
    FUNNEL_IDENTIFIED,
    ORGANIZATIONS,
    DemoSummary,
    seed_demo,
)
from interventions.demo.volume import (
    VolumeDataExists,
    reset_volume,
    seed_volume,
    volume_organizations,
)
from interventions.models import (
    Area,
    CallIn,
    CustomNotification,
    Enrollment,
    GroupConflict,
    GroupTie,
    Incident,
    Membership,
    Participant,
    PartnerOrganization,
    Referral,
    ResponseTask,
    Session,
    SessionParticipant,
    StreetGroup,
)
from interventions.selectors.response import notification_funnel
from interventions.services.case import next_participant_code
from interventions.services.response import generate_response_tasks
from metrics.models import ActivityRollup, CrimeOutcome
from metrics.selectors import area_and_descendant_ids
from tests.factories import ParticipantFactory

DEMO_SLUGS = [spec.slug for spec in ORGANIZATIONS]


def row_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[DemoSummary]:
    """Seed once for the module (it takes a few seconds) and roll it back afterwards."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


def caseloads() -> dict[str, int]:
    """Open-enrolment participants per demo outreach worker."""
    workers = get_user_model().objects.filter(
        memberships__organization__slug__in=DEMO_SLUGS,
        memberships__role=Membership.Role.OUTREACH_WORKER,
    )
    return dict(
        workers.annotate(
            caseload=Count(
                "assigned_enrollments__participant",
                filter=Q(assigned_enrollments__status__in=Enrollment.CASELOAD_STATUSES),
                distinct=True,
            )
        ).values_list("username", "caseload")
    )


# seed_demo ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_demo_twice_leaves_the_same_row_counts_for_every_model(demo: DemoSummary) -> None:
    before = row_counts()
    out = StringIO()

    call_command("seed_demo", stdout=out)

    assert row_counts() == before
    assert before["interventions.Participant"] == 150
    assert "already present" in out.getvalue()


@pytest.mark.django_db
def test_seed_demo_prints_the_logins_every_time(demo: DemoSummary) -> None:
    out = StringIO()

    call_command("seed_demo", stdout=out)

    text = out.getvalue()
    for username in (CITY_ADMIN_USERNAME, "gp-manager", "gp-worker1", "sya-worker3"):
        assert username in text
    assert DEMO_PASSWORD in text
    assert len(DEMO_PASSWORD) >= 12


@pytest.mark.django_db
def test_seed_demo_gives_an_area_made_elsewhere_its_parent(demo: DemoSummary) -> None:
    Area.objects.filter(slug="bakersfield").update(parent=None)

    seed_demo()

    assert Area.objects.get(slug="bakersfield").parent.slug == "kern-county"
    assert Area.objects.get(slug="oildale").parent.slug == "bakersfield"


@pytest.mark.django_db
def test_demo_organisations_are_garden_pathways_and_clearly_fictional_ones(
    demo: DemoSummary,
) -> None:
    names = set(
        PartnerOrganization.objects.filter(slug__in=DEMO_SLUGS).values_list("name", flat=True)
    )

    assert "Garden Pathways" in names
    assert len(names) == 4
    assert all(name.endswith("(fictional)") for name in names - {"Garden Pathways"})
    outside = Referral.objects.exclude(outside_provider="").values_list(
        "outside_provider", flat=True
    )
    assert all(provider.endswith("(fictional)") for provider in outside)


@pytest.mark.django_db
def test_every_demo_worker_has_a_caseload_of_15_to_20(demo: DemoSummary) -> None:
    loads = caseloads()

    assert len(loads) == 12
    assert all(15 <= load <= 20 for load in loads.values()), loads


@pytest.mark.django_db
def test_demo_funnel_has_the_bakersfield_shape(demo: DemoSummary) -> None:
    funnel = demo.funnel

    assert funnel.identified == FUNNEL_IDENTIFIED == 116
    assert funnel.engaged == FUNNEL_ENGAGED == 64
    assert funnel.case_managed == FUNNEL_CASE_MANAGED == 24
    assert funnel.identified > funnel.engaged > funnel.case_managed > 0
    assert funnel.case_managed <= funnel.highest_risk == 33
    assert Enrollment.objects.filter(status=Enrollment.Status.EXITED).exclude(exit_reason="")


@pytest.mark.django_db
def test_demo_sessions_cover_the_last_year_and_none_is_in_the_future(demo: DemoSummary) -> None:
    now = timezone.now()
    sessions = Session.objects.filter(organization__slug__in=DEMO_SLUGS)

    assert sessions.count() > 2000
    assert not sessions.filter(occurred_at__gt=now).exists()
    assert not sessions.filter(occurred_at__lt=now - timedelta(days=365)).exists()
    assert sessions.filter(occurred_at__lt=now - timedelta(days=330)).exists()
    assert not sessions.filter(Q(duration_minutes__lt=15) | Q(duration_minutes__gt=120)).exists()
    assert not SessionParticipant.objects.exclude(occurred_at=F("session__occurred_at")).exists()


@pytest.mark.django_db
def test_demo_has_groups_follow_ups_cold_participants_and_waiting_referrals(
    demo: DemoSummary,
) -> None:
    today = timezone.localdate()
    group_sizes = set(
        Session.objects.annotate(size=Count("attendance"))
        .filter(size__gt=1)
        .values_list("size", flat=True)
    )
    assert group_sizes and group_sizes <= {2, 3, 4, 5}
    assert Session.objects.filter(
        follow_up_on__gt=today, follow_up_on__lte=today + timedelta(days=7)
    ).exists()
    cold = (
        Participant.objects.filter(enrollments__status__in=Enrollment.CASELOAD_STATUSES)
        .annotate(last=Max("attendance__occurred_at"))
        .filter(last__lt=timezone.now() - timedelta(days=14))
        .distinct()
    )
    assert cold.count() >= 5
    assert Referral.objects.filter(status__in=Referral.WAITING_STATUSES).count() >= 10
    assert Referral.objects.filter(status=Referral.Status.COMPLETED).exists()


@pytest.mark.django_db
def test_demo_city_admin_is_a_superuser_with_the_demo_password(
    demo: DemoSummary, settings: Any
) -> None:
    # The demo was seeded (module fixture) before the fast test hasher was switched on.
    settings.PASSWORD_HASHERS = [
        *settings.PASSWORD_HASHERS,
        "django.contrib.auth.hashers.Argon2PasswordHasher",
    ]
    admin = get_user_model().objects.get(username=CITY_ADMIN_USERNAME)

    assert admin.is_superuser and admin.is_staff
    assert admin.check_password(DEMO_PASSWORD)
    assert not admin.memberships.exists()


@pytest.mark.django_db
def test_demo_participant_codes_continue_with_the_registration_service(
    demo: DemoSummary,
) -> None:
    garden_pathways = PartnerOrganization.objects.get(slug="garden-pathways")

    assert next_participant_code(garden_pathways) == "GP-00043"


@pytest.mark.django_db
def test_seed_demo_loads_the_bakersfield_figures_and_the_activity_rollup(
    demo: DemoSummary,
) -> None:
    bakersfield = Area.objects.get(slug="bakersfield")
    homicides = dict(
        CrimeOutcome.objects.filter(area=bakersfield, measure="homicide").values_list(
            "period_start__year", "count"
        )
    )
    assert homicides[2021] == 60 and homicides[2024] == 26
    # The dashboard's Bakersfield filter takes the city and its neighbourhoods.
    in_bakersfield = area_and_descendant_ids(bakersfield)
    assert (
        ActivityRollup.objects.filter(area_id__in=in_bakersfield).aggregate(n=Sum("sessions"))["n"]
        > 500
    )
    assert not Participant.objects.filter(organization__slug__in=DEMO_SLUGS, area=None).exists()
    kern = Area.objects.get(slug="kern-county")
    assert not Participant.objects.filter(organization__slug__in=DEMO_SLUGS).exclude(
        area_id__in=area_and_descendant_ids(kern)
    )


@pytest.mark.django_db
def test_demo_notification_funnel_has_the_bakersfield_shape(demo: DemoSummary) -> None:
    admin = get_user_model().objects.get(username=CITY_ADMIN_USERNAME)
    today = timezone.localdate()
    rows = notification_funnel(admin, today - timedelta(days=364), today)
    total = {k: sum(row[k] for row in rows) for k in ("identified", "notified", "engaged")}
    enrolled = sum(row["enrolled"] for row in rows)

    assert total["identified"] == 116
    assert 60 <= total["notified"] <= 75
    assert total["notified"] >= total["engaged"] == 64
    assert enrolled == 24
    assert CallIn.objects.filter(attendees__isnull=False).distinct().count() >= 4
    assert CustomNotification.objects.filter(message_delivered=False).exists()


@pytest.mark.django_db
def test_demo_response_data_has_groups_conflicts_and_tasks_in_every_state(
    demo: DemoSummary,
) -> None:
    groups = StreetGroup.objects.all()
    assert groups.count() == 6
    assert all(name.endswith("(fictional)") for name in groups.values_list("name", flat=True))
    assert set(GroupConflict.objects.values_list("status", flat=True)) == {
        "active",
        "dormant",
        "truce",
    }
    assert GroupTie.objects.filter(until__isnull=False).exists()
    assert Incident.objects.count() == 5
    tasks = ResponseTask.objects.all()
    assert tasks.count() == ResponseTask.objects.values("incident", "participant").count() > 20
    done = tasks.filter(status=ResponseTask.Status.DONE)
    assert done.exists() and not done.filter(completed_session=None).exists()
    open_tasks = tasks.filter(status=ResponseTask.Status.OPEN)
    assert open_tasks.filter(due_at__gt=timezone.now()).count() >= 3
    assert open_tasks.filter(due_at__lt=timezone.now()).count() == 1
    assert set(tasks.values_list("reason", flat=True)) == set(ResponseTask.Reason.values)
    # The generation rules ran: the queued run after commit would add nothing.
    assert all(
        generate_response_tasks(pk) == 0 for pk in Incident.objects.values_list("pk", flat=True)
    )


@pytest.mark.django_db
def test_demo_managers_may_see_street_intelligence(demo: DemoSummary) -> None:
    managers = get_user_model().objects.filter(
        memberships__organization__slug__in=DEMO_SLUGS, memberships__role=Membership.Role.MANAGER
    )
    assert managers.count() == 4
    assert all(can_see_street_intelligence(manager) for manager in managers)
    worker = get_user_model().objects.get(username="gp-worker1")
    assert not can_see_street_intelligence(worker)


@pytest.mark.django_db
def test_demo_audit_rows_name_the_seeder(demo: DemoSummary) -> None:
    participant_events = AuditEvent.objects.filter(object_type="participant", action="create")

    assert participant_events.count() >= 150
    assert set(participant_events.values_list("username", flat=True)) == {"seed_demo"}


# seed_volume -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_seed_volume_creates_the_requested_counts() -> None:
    summary = seed_volume(300, 3000, organizations=3)

    organizations = volume_organizations()
    assert organizations.count() == 3
    assert Participant.objects.filter(organization__in=organizations).count() == 300
    assert Session.objects.filter(organization__in=organizations).count() == 3000
    attendance = SessionParticipant.objects.filter(session__organization__in=organizations)
    assert attendance.count() == summary.attendance > 3000
    assert not attendance.exclude(occurred_at=F("session__occurred_at")).exists()
    assert not Session.objects.filter(occurred_at__gt=timezone.now()).exists()
    assert (
        Enrollment.objects.filter(
            program__organization__in=organizations, status=Enrollment.Status.ACTIVE
        ).count()
        > 150
    )
    assert Referral.objects.filter(organization__in=organizations).count() == summary.referrals
    worker = get_user_model().objects.get(username=summary.worker_username)
    assert worker.memberships.get().role == Membership.Role.OUTREACH_WORKER
    manager = get_user_model().objects.get(username=summary.manager_username)
    assert manager.memberships.get().role == Membership.Role.MANAGER


@pytest.mark.django_db
def test_seed_volume_caseloads_stay_in_the_guideline_at_size() -> None:
    seed_volume(1200, 500, organizations=2)

    loads = (
        Enrollment.objects.filter(
            program__organization__in=volume_organizations(),
            status__in=Enrollment.CASELOAD_STATUSES,
        )
        .values("assigned_worker")
        .annotate(n=Count("id"))
        .values_list("n", flat=True)
    )
    assert loads and all(15 <= n <= 20 for n in loads), sorted(loads)


@pytest.mark.django_db
def test_seed_volume_reset_replaces_only_the_volume_data() -> None:
    other = ParticipantFactory()
    outside_volume = Participant.objects.count()
    call_command("seed_volume", participants=300, sessions=3000, stdout=StringIO())
    with pytest.raises(CommandError, match="--reset"):
        call_command("seed_volume", participants=300, sessions=3000, stdout=StringIO())

    out = StringIO()
    call_command("seed_volume", participants=200, sessions=1000, reset=True, stdout=out)

    organizations = volume_organizations()
    assert Participant.objects.filter(organization__in=organizations).count() == 200
    assert Session.objects.filter(organization__in=organizations).count() == 1000
    assert Participant.objects.filter(pk=other.pk).exists()
    assert "Log in as worker vol-a-worker001" in out.getvalue()

    reset_volume()
    assert not organizations.exists()
    assert not get_user_model().objects.filter(username__startswith="vol-").exists()
    assert Participant.objects.count() == outside_volume


@pytest.mark.django_db
def test_seed_volume_refuses_to_load_twice_without_reset() -> None:
    seed_volume(20, 50, organizations=2)

    with pytest.raises(VolumeDataExists):
        seed_volume(20, 50, organizations=2)
