"""The outreach worker's pages: caseload, log a session, the participant page, referrals and
registration; each scoped to the worker's organisation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from interventions.models import (
    Enrollment,
    EnrollmentStatusChange,
    Participant,
    Referral,
    Session,
    SessionParticipant,
)
from interventions.views.worker import PARTICIPANT_TABS
from tests.conftest import logged_in
from tests.factories import (
    TEST_PASSWORD,
    ConsentFactory,
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    ReferralFactory,
    SessionFactory,
    UserFactory,
)
from tests.queries import assert_fixed_queries, spread

pytestmark = pytest.mark.django_db


def in_caseload(org, worker=None, **participant_fields) -> Participant:
    participant = ParticipantFactory(organization=org.organization, **participant_fields)
    EnrollmentFactory(
        participant=participant, program=org.program, assigned_worker=worker or org.worker
    )
    return participant


def local_input(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def session_post(participants, **overrides) -> dict:
    data = {
        "participants": [p.pk for p in participants],
        "kind": Session.Kind.MENTORING,
        "occurred_at": local_input(timezone.now() - timedelta(hours=1)),
        "duration_minutes": "45",
        "location": Session.Location.STREET,
        "notes": "Talked about the job fair.",
        "follow_up_on": "",
        "client_key": str(uuid.uuid4()),
    }
    data.update(overrides)
    return data


# Everyone -------------------------------------------------------------------------------------


def test_worker_home_is_the_caseload_with_the_log_button(org_a, worker_client):
    participant = in_caseload(org_a, first_name="Marcus")
    response = worker_client.get("/")
    assert response.status_code == 200
    assert "interventions/worker_home.html" in [t.name for t in response.templates]
    content = response.content.decode()
    assert "Marcus" in content
    assert content.index(reverse("session_log")) < content.index(participant.full_name)


def test_login_and_logout_say_so(org_a, client):
    response = client.post(
        reverse("login"),
        {"username": org_a.worker.username, "password": TEST_PASSWORD},
        follow=True,
    )
    assert "You are logged in." in response.content.decode()
    response = client.post(reverse("logout"), follow=True)
    assert response.request["PATH_INFO"] == reverse("login")
    assert "You have logged out." in response.content.decode()
    assert client.get(reverse("caseload")).status_code == 302


def test_manager_home_goes_to_the_dashboard(org_a, manager_client):
    response = manager_client.get("/")
    try:
        dashboard = reverse("manager_dashboard")
    except NoReverseMatch:
        # Until the manager's pages exist a manager lands on the worker home.
        assert response.status_code == 200
    else:
        assert response.status_code == 302
        assert response["Location"] == dashboard


def test_city_admin_without_membership_is_pointed_to_the_admin(admin_client_city):
    response = admin_client_city.get("/")
    assert response.status_code == 200
    assert reverse("admin:index") in response.content.decode()
    assert admin_client_city.get(reverse("caseload")).status_code == 403
    assert admin_client_city.get(reverse("session_log")).status_code == 403


def test_navigation_shows_worker_links_only_to_workers(org_a, worker_client, admin_client_city):
    page = worker_client.get(reverse("referral_list")).content.decode()
    assert 'id="nav-log-session"' in page
    assert reverse("caseload") in page
    admin_page = admin_client_city.get("/").content.decode()
    assert 'id="nav-log-session"' not in admin_page
    assert reverse("caseload") not in admin_page


@pytest.mark.parametrize(
    "name",
    ["caseload", "session_log", "referral_list", "participant_register", "participant_search"],
)
def test_worker_pages_render(org_a, worker_client, name):
    in_caseload(org_a)
    response = worker_client.get(reverse(name))
    assert response.status_code == 200


def test_participant_pages_render(org_a, worker_client):
    participant = in_caseload(org_a)
    SessionFactory(organization=org_a.organization, worker=org_a.worker, participants=[participant])
    ReferralFactory(participant=participant, made_by=org_a.worker)
    assert (
        worker_client.get(reverse("participant_detail", args=[participant.pk])).status_code == 200
    )
    assert worker_client.get(reverse("referral_create", args=[participant.pk])).status_code == 200
    assert worker_client.get(reverse("referral_list") + "?status=closed").status_code == 200


def test_pages_need_login(client, org_a):
    participant = in_caseload(org_a)
    for url in (reverse("caseload"), reverse("participant_detail", args=[participant.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


# Scoping --------------------------------------------------------------------------------------


def test_other_organisation_gets_404_on_every_record_url(org_a, org_b):
    participant = in_caseload(org_a, first_name="Zebulon")
    enrollment = participant.enrollments.get()
    referral = ReferralFactory(participant=participant, made_by=org_a.worker)
    outsider = logged_in(org_b.worker)
    gets = [
        reverse("participant_detail", args=[participant.pk]),
        reverse("referral_create", args=[participant.pk]),
    ]
    for url in gets:
        assert outsider.get(url).status_code == 404, url
    posts = {
        reverse("referral_create", args=[participant.pk]): {
            "service_category": "housing",
            "outside_provider": "X",
            "made_on": timezone.localdate().isoformat(),
        },
        reverse("enrollment_status", args=[enrollment.pk]): {
            "status": "inactive",
            "on": timezone.localdate().isoformat(),
        },
        reverse("enrollment_exit", args=[enrollment.pk]): {
            "reason": "moved",
            "on": timezone.localdate().isoformat(),
            "confirm": "1",
        },
        reverse("referral_advance", args=[referral.pk]): {
            "status": "accepted",
            "on": timezone.localdate().isoformat(),
        },
    }
    for url, data in posts.items():
        assert outsider.post(url, data).status_code == 404, url
    enrollment.refresh_from_db()
    referral.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert referral.status == Referral.Status.MADE
    assert Referral.objects.count() == 1


def test_other_organisation_sees_no_row_in_lists_search_and_autocomplete(org_a, org_b):
    participant = in_caseload(org_a, first_name="Zebulon")
    # Even assigned to the outsider, a record of another organisation stays out of sight.
    in_caseload(org_a, worker=org_b.worker, first_name="Zebadiah")
    ReferralFactory(participant=participant, made_by=org_b.worker)
    in_caseload(org_b, first_name="Bartholomew")
    outsider = logged_in(org_b.worker)
    pages = [
        outsider.get(reverse("caseload")),
        outsider.get(reverse("caseload"), {"q": "Zeb"}),
        outsider.get(reverse("participant_search"), {"q": "Zeb"}),
        outsider.get(reverse("participant_search"), {"participants": [participant.pk]}),
        outsider.get(reverse("session_log"), {"participant": participant.pk}),
        outsider.get(reverse("referral_list")),
    ]
    for response in pages:
        assert response.status_code == 200
        content = response.content.decode()
        assert "Zebulon" not in content
        assert "Zebadiah" not in content
        assert participant.participant_code not in content
    assert "Bartholomew" in outsider.get(reverse("caseload")).content.decode()


def test_session_for_another_organisations_participant_is_refused(org_a, org_b):
    participant = in_caseload(org_a)
    response = logged_in(org_b.worker).post(reverse("session_log"), session_post([participant]))
    assert response.status_code == 200
    assert response.context["form"].errors["participants"]
    assert not Session.objects.exists()


# Caseload -------------------------------------------------------------------------------------


def test_caseload_order_days_since_and_gone_cold(org_a, worker_client, settings):
    settings.GVR_COLD_AFTER_DAYS = 14
    now = timezone.now()
    recent = in_caseload(org_a, last_name="Recent")
    stale = in_caseload(org_a, last_name="Stale")
    never = in_caseload(org_a, last_name="Never")
    # Registered three weeks ago and never seen: cold (someone new is not, see test_gone_cold).
    Participant.objects.filter(pk=never.pk).update(created_at=now - timedelta(days=21))
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=now - timedelta(days=2),
        participants=[recent],
    )
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        occurred_at=now - timedelta(days=20),
        participants=[stale],
    )
    # Not in the caseload: exited, or assigned to somebody else.
    exited = in_caseload(org_a, last_name="Exited")
    exited.enrollments.update(
        status=Enrollment.Status.EXITED, exited_on=timezone.localdate(), exit_reason="moved"
    )
    in_caseload(org_a, worker=org_a.manager, last_name="Colleague")

    response = worker_client.get(reverse("caseload"))
    rows = list(response.context["page"].object_list)
    assert [p.last_name for p in rows] == ["Never", "Stale", "Recent"]
    assert [p.is_cold for p in rows] == [True, True, False]
    assert rows[1].days_since_last_contact == 20
    assert rows[2].days_since_last_contact == 2
    content = response.content.decode()
    assert content.count("cold-flag") == 2
    assert "Never contacted" in content
    assert never.full_name in content


def test_caseload_search_by_name_alias_and_code(org_a, worker_client):
    marcus = in_caseload(org_a, first_name="Marcus", last_name="Hill", aliases="Lil M")
    in_caseload(org_a, first_name="Devon", last_name="Price")
    for query in ("marc", "lil m", marcus.participant_code.lower(), "Marcus Hill"):
        rows = list(worker_client.get(reverse("caseload"), {"q": query}).context["page"])
        assert rows == [marcus], query


def test_caseload_live_filter_answers_htmx_with_the_list_only(org_a, worker_client):
    in_caseload(org_a, first_name="Marcus")
    response = worker_client.get(
        reverse("caseload"),
        {"q": "marc"},
        headers={"HX-Request": "true", "HX-Target": "caseload-list"},
    )
    content = response.content.decode()
    assert "Marcus" in content
    assert "<html" not in content


def _bulk_caseload(org, count: int, *, start: int = 0) -> None:
    """`count` participants in the worker's caseload, half with a session (bulk inserts)."""
    today = timezone.localdate()
    participants = Participant.objects.bulk_create(
        Participant(
            organization=org.organization,
            participant_code=f"BULK-{index:05d}",
            first_name=f"First{index}",
            last_name=f"Last{index}",
            identified_on=today - timedelta(days=300),
        )
        for index in range(start, start + count)
    )
    Enrollment.objects.bulk_create(
        Enrollment(
            participant=p,
            program=org.program,
            assigned_worker=org.worker,
            status=Enrollment.Status.ACTIVE,
            referred_on=today - timedelta(days=200),
            enrolled_on=today - timedelta(days=200),
            active_on=today - timedelta(days=200),
        )
        for p in participants
    )
    session = SessionFactory(organization=org.organization, worker=org.worker)
    SessionParticipant.objects.bulk_create(
        SessionParticipant(session=session, participant=p, occurred_at=session.occurred_at)
        for p in participants[::2]
    )


def test_caseload_query_count_is_exact_as_the_organisation_grows(org_a, worker_client):
    _bulk_caseload(org_a, 5)
    spread(org_a, 1, prefix="small")

    def grow() -> None:
        _bulk_caseload(org_a, 495, start=5)
        spread(org_a, 6, prefix="large")

    pages = [lambda url=url: worker_client.get(url) for url in (reverse("caseload"), "/")]
    assert_fixed_queries(pages, grow)
    assert worker_client.get(reverse("caseload")).context["page"].paginator.count == 500


# Log a session --------------------------------------------------------------------------------


def test_log_session_for_one_participant(org_a, worker_client):
    participant = in_caseload(org_a)
    response = worker_client.post(reverse("session_log"), session_post([participant]))
    assert response.status_code == 302
    assert response["Location"] == reverse("participant_detail", args=[participant.pk])
    session = Session.objects.get()
    assert list(session.participants.all()) == [participant]
    assert session.worker == org_a.worker
    assert session.program == org_a.program  # from the enrolment
    assert session.duration_minutes == 45
    assert session.notes == "Talked about the job fair."
    page = worker_client.get(response["Location"])
    assert "Session logged" in page.content.decode()
    assert "Talked about the job fair." in page.content.decode()


def test_log_group_session(org_a, worker_client):
    first, second = in_caseload(org_a), in_caseload(org_a)
    response = worker_client.post(
        reverse("session_log"),
        session_post([first, second], kind=Session.Kind.GROUP_SESSION, duration_minutes="90"),
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("caseload")
    session = Session.objects.get()
    assert set(session.participants.all()) == {first, second}
    for participant in (first, second):
        detail = worker_client.get(reverse("participant_detail", args=[participant.pk]))
        assert "Group session" in detail.content.decode()


def test_log_session_form_defaults_and_preselect(org_a, worker_client):
    participant = in_caseload(org_a)
    response = worker_client.get(reverse("session_log"), {"participant": participant.pk})
    form = response.context["form"]
    assert form.selected_ids() == [participant.pk]
    assert f'value="{participant.pk}" id="pick-{participant.pk}" checked' in (
        response.content.decode()
    )
    assert form.initial["client_key"]
    assert form.initial["duration_minutes"] == 30
    assert abs(form.initial["occurred_at"] - timezone.now()) < timedelta(minutes=2)
    # The next session starts from what this worker logged last.
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        kind=Session.Kind.LIFE_COACHING,
        location=Session.Location.HOME,
        duration_minutes=75,
    )
    initial = worker_client.get(reverse("session_log")).context["form"].initial
    assert (initial["kind"], initial["location"], initial["duration_minutes"]) == (
        "life_coaching",
        "home",
        75,
    )


def test_log_session_in_three_interactions_from_the_home_page(org_a, worker_client):
    """Tap "Log a session", tick a participant, submit: the defaults carry the rest."""
    participant = in_caseload(org_a)
    home = worker_client.get("/")
    assert reverse("session_log") in home.content.decode()
    form = worker_client.get(reverse("session_log")).context["form"]
    data = {
        name: (value.strftime("%Y-%m-%dT%H:%M") if name == "occurred_at" else value)
        for name, value in form.initial.items()
    }
    data["participants"] = [participant.pk]
    response = worker_client.post(reverse("session_log"), data)
    assert response.status_code == 302
    assert Session.objects.filter(attendance__participant=participant).count() == 1


def test_validation_errors_keep_everything_typed(org_a, worker_client):
    participant = in_caseload(org_a)
    data = session_post(
        [participant], duration_minutes="0", notes="Met at the park by the school", location="home"
    )
    response = worker_client.post(reverse("session_log"), data)
    assert response.status_code == 200
    assert "duration_minutes" in response.context["form"].errors
    content = response.content.decode()
    assert "Met at the park by the school" in content
    assert f'value="{participant.pk}" id="pick-{participant.pk}" checked' in content
    assert f'value="{data["client_key"]}"' in content
    assert '<option value="home" selected>' in content
    assert not Session.objects.exists()


def test_missing_participant_is_a_clear_error(org_a, worker_client):
    in_caseload(org_a)
    response = worker_client.post(reverse("session_log"), session_post([]))
    assert response.status_code == 200
    assert "Choose at least one participant." in response.content.decode()


def test_double_submit_creates_one_session(org_a, worker_client):
    participant = in_caseload(org_a)
    data = session_post([participant])
    first = worker_client.post(reverse("session_log"), data)
    second = worker_client.post(reverse("session_log"), data)
    assert first.status_code == second.status_code == 302
    assert Session.objects.count() == 1
    assert SessionParticipant.objects.count() == 1


def test_future_session_is_refused(org_a, worker_client):
    participant = in_caseload(org_a)
    data = session_post([participant], occurred_at=local_input(timezone.now() + timedelta(days=1)))
    response = worker_client.post(reverse("session_log"), data)
    assert response.status_code == 200
    assert "A session cannot be in the future." in response.content.decode()
    assert not Session.objects.exists()


def test_follow_up_before_session_is_refused(org_a, worker_client):
    participant = in_caseload(org_a)
    yesterday = timezone.localdate() - timedelta(days=1)
    data = session_post([participant], follow_up_on=(yesterday - timedelta(days=3)).isoformat())
    data["occurred_at"] = f"{yesterday.isoformat()}T10:00"
    response = worker_client.post(reverse("session_log"), data)
    assert "follow_up_on" in response.context["form"].errors
    assert not Session.objects.exists()


def test_participant_search_returns_matching_caseload_and_keeps_picked(org_a, worker_client):
    marcus = in_caseload(org_a, first_name="Marcus")
    devon = in_caseload(org_a, first_name="Devon")
    response = worker_client.get(
        reverse("participant_search"), {"q": "marc", "participants": [devon.pk]}
    )
    assert [p.pk for p in response.context["choices"]] == [devon.pk, marcus.pk]
    assert f'value="{devon.pk}" id="pick-{devon.pk}" checked' in response.content.decode()


# Participant page -----------------------------------------------------------------------------


def test_participant_page_shows_timeline_newest_first_and_paginates(org_a, worker_client):
    participant = in_caseload(org_a)
    now = timezone.now()
    for days in range(25):
        SessionFactory(
            organization=org_a.organization,
            worker=org_a.worker,
            occurred_at=now - timedelta(days=days, hours=1),
            notes=f"note-{days:02d}",
            participants=[participant],
        )
    ReferralFactory(participant=participant, made_by=org_a.worker, made_on=timezone.localdate())
    url = reverse("participant_detail", args=[participant.pk])
    first = worker_client.get(url)
    entries = first.context["timeline"]
    assert len(entries) == 20
    assert first.context["timeline_has_next"]
    days = [entry.day for entry in entries]
    assert days == sorted(days, reverse=True)
    assert {"referral", "session"} <= {entry.kind for entry in entries}
    second = worker_client.get(url, {"page": 2})
    older = second.context["timeline"]
    # 25 sessions + 1 referral; the enrolment was made by a factory (no status change row).
    assert len(older) == 6
    assert not second.context["timeline_has_next"]
    assert older[-1].item.notes == "note-24"


def test_participant_page_with_an_unassigned_enrolment(org_a, worker_client):
    participant = in_caseload(org_a)
    participant.enrollments.update(assigned_worker=None)
    response = worker_client.get(
        reverse("participant_detail", args=[participant.pk]), {"tab": "details"}
    )
    assert response.status_code == 200
    assert "Worker: unassigned" in response.content.decode()


def test_participant_page_shows_follow_ups_due(org_a, worker_client):
    participant = in_caseload(org_a)
    SessionFactory(
        organization=org_a.organization,
        worker=org_a.worker,
        follow_up_on=timezone.localdate() + timedelta(days=3),
        participants=[participant],
    )
    response = worker_client.get(reverse("participant_detail", args=[participant.pk]))
    assert len(response.context["follow_ups"]) == 1


def _bulk_history(org, participant, count: int) -> None:
    now = timezone.now()
    sessions = Session.objects.bulk_create(
        Session(
            organization=org.organization,
            worker=org.worker,
            program=org.program,
            kind=Session.Kind.MENTORING,
            occurred_at=now - timedelta(hours=index + 1),
            duration_minutes=30,
            location=Session.Location.STREET,
            follow_up_on=timezone.localdate() + timedelta(days=1),
        )
        for index in range(count)
    )
    SessionParticipant.objects.bulk_create(
        SessionParticipant(session=s, participant=participant, occurred_at=s.occurred_at)
        for s in sessions
    )
    Referral.objects.bulk_create(
        Referral(
            participant=participant,
            organization=org.organization,
            made_by=org.worker,
            service_category=Referral.ServiceCategory.EMPLOYMENT,
            outside_provider="Job Center",
            made_on=timezone.localdate(),
        )
        for _ in range(count)
    )
    enrollment = participant.enrollments.get()
    EnrollmentStatusChange.objects.bulk_create(
        EnrollmentStatusChange(
            enrollment=enrollment, to_status="active", changed_on=timezone.localdate()
        )
        for _ in range(count)
    )


def test_participant_page_query_count_is_exact_as_the_history_and_organisation_grow(
    org_a, worker_client
):
    participant = in_caseload(org_a)
    url = reverse("participant_detail", args=[participant.pk])
    _bulk_history(org_a, participant, 5)
    spread(org_a, 1, prefix="small")

    def grow() -> None:
        _bulk_history(org_a, participant, 495)
        spread(org_a, 6, prefix="large")
        # Other organisations sharing this person's record (consents) and more sessions by
        # other workers of the organisation.
        for index in range(4):
            ConsentFactory(participant=participant, recorded_by=org_a.manager)
            colleague = UserFactory(username=f"colleague-{index}")
            MembershipFactory(user=colleague, organization=org_a.organization)
            SessionFactory(
                organization=org_a.organization, worker=colleague, participants=[participant]
            )

    assert_fixed_queries(
        [lambda tab=tab: worker_client.get(url, {"tab": tab}) for tab in PARTICIPANT_TABS],
        grow,
        later=(lambda: worker_client.get(url, {"page": 3}),),
    )
    response = worker_client.get(url, {"tab": "related"})
    assert len(response.context["waiting_referrals"]) == 500
    response = worker_client.get(url)
    assert response.context["timeline_has_next"]


def test_change_status(org_a, worker_client):
    participant = in_caseload(org_a)
    enrollment = participant.enrollments.get()
    response = worker_client.post(
        reverse("enrollment_status", args=[enrollment.pk]),
        {
            "status": "inactive",
            "on": timezone.localdate().isoformat(),
            "note": "Moved in with aunt",
        },
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.INACTIVE
    assert EnrollmentStatusChange.objects.get().note == "Moved in with aunt"
    page = worker_client.get(response["Location"]).content.decode()
    assert "status changed to inactive" in page


def test_change_status_to_a_refused_step_keeps_the_input(org_a, worker_client):
    participant = in_caseload(org_a)
    enrollment = participant.enrollments.get()
    response = worker_client.post(
        reverse("enrollment_status", args=[enrollment.pk]),
        {"status": "referred", "on": timezone.localdate().isoformat(), "note": "typed note"},
    )
    assert response.status_code == 200
    assert "cannot move to that status" in response.content.decode()
    assert "typed note" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_exit_asks_for_confirmation_then_exits(org_a, worker_client):
    participant = in_caseload(org_a)
    enrollment = participant.enrollments.get()
    url = reverse("enrollment_exit", args=[enrollment.pk])
    data = {"reason": "graduated", "on": timezone.localdate().isoformat(), "note": "Finished"}
    asked = worker_client.post(url, data)
    assert asked.status_code == 200
    assert 'name="confirm" value="1"' in asked.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    done = worker_client.post(url, {**data, "confirm": "1"})
    assert done.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.EXITED
    assert enrollment.exit_reason == "graduated"
    assert participant not in worker_client.get(reverse("caseload")).context["page"]


def test_exit_without_a_reason_is_refused(org_a, worker_client):
    participant = in_caseload(org_a)
    enrollment = participant.enrollments.get()
    response = worker_client.post(
        reverse("enrollment_exit", args=[enrollment.pk]),
        {"reason": "", "on": timezone.localdate().isoformat(), "confirm": "1"},
    )
    assert response.status_code == 200
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_referral_create_and_advance(org_a, worker_client):
    participant = in_caseload(org_a)
    response = worker_client.post(
        reverse("referral_create", args=[participant.pk]),
        {
            "service_category": "employment",
            "outside_provider": "Kern County Job Center",
            "made_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 302
    referral = Referral.objects.get()
    assert referral.made_by == org_a.worker
    waiting = worker_client.get(reverse("referral_list")).context["page"]
    assert list(waiting) == [referral]

    for status in ("accepted", "completed"):
        response = worker_client.post(
            reverse("referral_advance", args=[referral.pk]),
            {
                "status": status,
                "on": timezone.localdate().isoformat(),
                "next": reverse("referral_list"),
            },
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("referral_list")
    referral.refresh_from_db()
    assert referral.status == Referral.Status.COMPLETED
    assert not list(worker_client.get(reverse("referral_list")).context["page"])
    closed = worker_client.get(reverse("referral_list"), {"status": "closed"}).context["page"]
    assert list(closed) == [referral]


def test_referral_needs_one_provider_and_keeps_input(org_a, worker_client):
    participant = in_caseload(org_a)
    response = worker_client.post(
        reverse("referral_create", args=[participant.pk]),
        {
            "service_category": "housing",
            "made_on": timezone.localdate().isoformat(),
            "notes": "Needs a room",
        },
    )
    assert response.status_code == 200
    assert "one of the two" in response.content.decode()
    assert "Needs a room" in response.content.decode()
    assert not Referral.objects.exists()


def test_referral_advance_refuses_going_back_and_ignores_foreign_next(org_a, worker_client):
    referral = ReferralFactory(participant=in_caseload(org_a), made_by=org_a.worker)
    url = reverse("referral_advance", args=[referral.pk])
    today = timezone.localdate().isoformat()
    response = worker_client.post(
        url, {"status": "declined", "on": today, "next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("participant_detail", args=[referral.participant_id])
    response = worker_client.post(url, {"status": "accepted", "on": today})
    assert response.status_code == 200
    assert "cannot become accepted" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.DECLINED


@pytest.mark.parametrize(
    "name,kwarg",
    [
        ("enrollment_status", "enrollment"),
        ("enrollment_exit", "enrollment"),
        ("referral_advance", "referral"),
    ],
)
def test_post_only_actions_refuse_get(org_a, worker_client, name, kwarg):
    participant = in_caseload(org_a)
    enrollment = participant.enrollments.get()
    referral = ReferralFactory(participant=participant, made_by=org_a.worker)
    target = enrollment if kwarg == "enrollment" else referral
    response = worker_client.get(
        reverse(name, args=[target.pk]), {"status": "inactive", "reason": "moved"}
    )
    assert response.status_code == 405
    enrollment.refresh_from_db()
    referral.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert referral.status == Referral.Status.MADE


# Registration ---------------------------------------------------------------------------------


def register_post(org, **overrides) -> dict:
    data = {
        "first_name": "Jon",
        "last_name": "Smith",
        "aliases": "",
        "date_of_birth": "2004-03-09",
        "phone": "",
        "area": "",
        "referral_source": "call_in",
        "risk_tier": "1",
        "identified_on": timezone.localdate().isoformat(),
        "program": org.program.pk,
        "status": "contacted",
        "assign_to_me": "on",
    }
    data.update(overrides)
    return data


def test_register_and_enrol(org_a, worker_client):
    response = worker_client.post(reverse("participant_register"), register_post(org_a))
    participant = Participant.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("participant_detail", args=[participant.pk])
    enrollment = participant.enrollments.get()
    assert enrollment.assigned_worker == org_a.worker
    assert enrollment.status == Enrollment.Status.CONTACTED
    assert participant in worker_client.get(reverse("caseload")).context["page"]


def test_register_warns_about_a_likely_duplicate_then_confirms(org_a, org_b, worker_client):
    existing = ParticipantFactory(
        organization=org_a.organization,
        first_name="John",
        last_name="Smith",
        date_of_birth="2004-03-09",
    )
    # The same person in another organisation is not ours to show.
    ParticipantFactory(
        organization=org_b.organization,
        first_name="John",
        last_name="Smith",
        date_of_birth="2004-03-09",
    )
    data = register_post(org_a, aliases="Smitty")
    warned = worker_client.post(reverse("participant_register"), data)
    assert warned.status_code == 200
    assert list(warned.context["duplicates"]) == [existing]
    content = warned.content.decode()
    assert reverse("participant_detail", args=[existing.pk]) in content
    assert 'value="Smitty"' in content
    assert "Register anyway" in content
    assert Participant.objects.count() == 2

    confirmed = worker_client.post(
        reverse("participant_register"), {**data, "confirm_duplicate": "1"}
    )
    assert confirmed.status_code == 302
    assert Participant.objects.filter(organization=org_a.organization).count() == 2


def test_register_without_a_similar_name_does_not_warn(org_a, worker_client):
    ParticipantFactory(
        organization=org_a.organization,
        first_name="Alicia",
        last_name="Moreno",
        date_of_birth="2004-03-09",
    )
    response = worker_client.post(reverse("participant_register"), register_post(org_a))
    assert response.status_code == 302


def test_register_refuses_another_organisations_program(org_a, org_b, worker_client):
    response = worker_client.post(
        reverse("participant_register"), register_post(org_a, program=org_b.program.pk)
    )
    assert response.status_code == 200
    assert "program" in response.context["form"].errors
    assert not Participant.objects.exists()


def test_register_refuses_a_future_birth_date_and_keeps_input(org_a, worker_client):
    data = register_post(
        org_a, date_of_birth=(timezone.localdate() + timedelta(days=1)).isoformat()
    )
    response = worker_client.post(reverse("participant_register"), data)
    assert response.status_code == 200
    assert "date_of_birth" in response.context["form"].errors
    assert 'value="Jon"' in response.content.decode()
    assert not Participant.objects.exists()
