"""Sharing a participant with another organisation happens only under a recorded, unexpired,
unrevoked consent; revoking or expiry hides the record again at once."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from interventions import access
from interventions.errors import ServiceError
from interventions.models import Consent, GroupTie, PartnerOrganization, Session
from interventions.selectors import manager as manager_selectors
from interventions.services import case as services
from interventions.services import sharing as consent_services
from tests.access.conftest import fresh, share
from tests.conftest import logged_in
from tests.factories import (
    ConsentFactory,
    GroupTieFactory,
    MembershipFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ProgramFactory,
    StreetGroupFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def sees(user, record) -> dict[str, bool]:  # type: ignore[no-untyped-def]
    """Which of A's records each selector shows the user."""
    user = fresh(user)
    return {
        "participant": access.participants_visible_to(user)
        .filter(pk=record.participant.pk)
        .exists(),
        "enrollment": access.enrollments_visible_to(user).filter(pk=record.enrollment.pk).exists(),
        "session": access.sessions_visible_to(user).filter(pk=record.session.pk).exists(),
        "referral": access.referrals_visible_to(user).filter(pk=record.referral.pk).exists(),
    }


NOTHING = dict.fromkeys(("participant", "enrollment", "session", "referral"), False)
EVERYTHING = dict.fromkeys(("participant", "enrollment", "session", "referral"), True)


def test_without_consent_another_organisation_sees_nothing(a_record, org_a, org_b):
    assert sees(org_b.worker, a_record) == NOTHING
    assert sees(org_a.worker, a_record) == EVERYTHING


@pytest.mark.parametrize(
    ("dates", "visible"),
    [
        ({"granted_days_ago": 10}, True),
        ({"granted_days_ago": 0}, True),  # granted today
        ({"granted_days_ago": -1}, False),  # granted tomorrow: not yet
        ({"granted_days_ago": 10, "expires_in_days": 1}, True),
        ({"granted_days_ago": 10, "expires_in_days": 0}, False),  # expires today
        ({"granted_days_ago": 10, "expires_in_days": -3}, False),
        ({"granted_days_ago": 10, "revoked_days_ago": 0}, False),  # revoked today
        ({"granted_days_ago": 10, "revoked_days_ago": 5}, False),
    ],
    ids=[
        "in-force",
        "granted-today",
        "granted-tomorrow",
        "expires-tomorrow",
        "expires-today",
        "expired",
        "revoked-today",
        "revoked-earlier",
    ],
)
def test_consent_opens_every_selector_only_while_in_force(a_record, org_a, org_b, dates, visible):
    share(a_record, org_a, org_b, **dates)
    expected = EVERYTHING if visible else NOTHING
    assert sees(org_b.worker, a_record) == expected
    assert sees(org_b.manager, a_record) == expected


def test_a_consent_for_another_organisation_opens_nothing_to_b(a_record, org_a, org_b):
    ConsentFactory(
        participant=a_record.participant,
        organization=PartnerOrganizationFactory(),
        recorded_by=org_a.manager,
    )
    assert sees(org_b.worker, a_record) == NOTHING


def test_a_city_consent_opens_the_record_to_city_organisations_only(a_record, org_a, org_b):
    city = PartnerOrganizationFactory(kind=PartnerOrganization.Kind.CITY)
    city_worker = UserFactory()
    city.memberships.create(user=city_worker)
    consent_services.record_consent(
        participant=a_record.participant, recorded_by=org_a.manager, city=True
    )
    assert sees(city_worker, a_record) == EVERYTHING
    assert sees(org_b.worker, a_record) == NOTHING


def test_revoking_hides_the_record_at_once(a_record, org_a, org_b):
    consent = share(a_record, org_a, org_b)
    assert sees(org_b.worker, a_record) == EVERYTHING
    consent_services.revoke_consent(consent=consent, revoked_by=org_a.worker)
    assert sees(org_b.worker, a_record) == NOTHING
    page = logged_in(org_b.worker).get(
        reverse("participant_detail", args=[a_record.participant.pk])
    )
    assert page.status_code == 404


def test_expiry_hides_the_record_without_anyone_acting(a_record, org_a, org_b):
    consent = share(a_record, org_a, org_b, expires_in_days=1)
    assert sees(org_b.worker, a_record) == EVERYTHING
    # Tomorrow: the selectors read the day from timezone.localdate().
    tomorrow = timezone.localdate() + timedelta(days=1)
    assert not access.valid_consents(tomorrow).filter(pk=consent.pk).exists()
    assert access.valid_consents().filter(pk=consent.pk).exists()


def test_response_selectors_follow_consent(a_record, org_a, org_b):
    from django.contrib.auth.models import Permission

    group = StreetGroupFactory()
    tie = GroupTieFactory(participant=a_record.participant, group=group, kind=GroupTie.Kind.MEMBER)
    org_b.manager.user_permissions.add(Permission.objects.get(codename="view_street_intelligence"))

    def ties():  # type: ignore[no-untyped-def]
        return access.group_ties_visible_to(fresh(org_b.manager))

    assert not ties().filter(pk=tie.pk).exists()
    consent = share(a_record, org_a, org_b)
    assert ties().filter(pk=tie.pk).exists()
    consent_services.revoke_consent(consent=consent, revoked_by=org_a.manager)
    assert not ties().filter(pk=tie.pk).exists()


# What B may do under consent ------------------------------------------------------------------


def test_under_consent_b_enrols_logs_sessions_and_refers_and_not_after(a_record, org_a, org_b):
    participant = a_record.participant

    def work() -> None:
        services.enroll_participant(
            participant=participant, program=org_b.program, by=org_b.manager
        )

    with pytest.raises(ServiceError, match="consent"):
        work()
    consent = share(a_record, org_a, org_b)
    work()
    session = services.log_session(
        worker=org_b.worker,
        organization=org_b.organization,
        participants=[participant],
        kind=Session.Kind.MENTORING,
        occurred_at=timezone.now() - timedelta(hours=1),
        duration_minutes=30,
        location=Session.Location.STREET,
        notes="B's own note",
    )
    assert session.organization == org_b.organization
    services.make_referral(
        participant=participant,
        made_by=org_b.worker,
        organization=org_b.organization,
        service_category="housing",
        outside_provider="Kern County Housing Authority",
    )
    consent_services.revoke_consent(consent=consent, revoked_by=org_a.manager)
    with pytest.raises(ServiceError, match="consent"):
        services.log_session(
            worker=org_b.worker,
            organization=org_b.organization,
            participants=[participant],
            kind=Session.Kind.MENTORING,
            occurred_at=timezone.now() - timedelta(minutes=10),
            duration_minutes=30,
            location=Session.Location.STREET,
        )
    with pytest.raises(ServiceError, match="consent"):
        services.make_referral(
            participant=participant,
            made_by=org_b.worker,
            organization=org_b.organization,
            service_category="housing",
            outside_provider="Kern County Housing Authority",
        )


def _group_session_post(participants) -> dict[str, object]:  # type: ignore[no-untyped-def]
    return {
        "participants": [p.pk for p in participants],
        "kind": Session.Kind.MENTORING,
        "occurred_at": timezone.localtime(timezone.now() - timedelta(hours=1)).strftime(
            "%Y-%m-%dT%H:%M"
        ),
        "duration_minutes": "60",
        "location": Session.Location.OFFICE,
        "notes": "Group session at the park.",
        "follow_up_on": "",
        "client_key": str(uuid.uuid4()),
    }


def test_a_group_session_mixes_own_and_shared_participants_under_consent(a_record, org_a, org_b):
    own = ParticipantFactory(organization=org_b.organization, first_name="Marisol")
    client = logged_in(org_b.worker)
    data = _group_session_post([own, a_record.participant])

    refused = client.post(reverse("session_log"), data)
    assert refused.status_code == 200
    assert not Session.objects.filter(organization=org_b.organization).exists()

    share(a_record, org_a, org_b)
    data["client_key"] = str(uuid.uuid4())
    response = client.post(reverse("session_log"), data)
    assert response.status_code == 302
    session = Session.objects.get(organization=org_b.organization)
    assert set(session.participants.all()) == {own, a_record.participant}
    assert session.worker == org_b.worker


def test_mixing_two_own_organisations_without_consent_is_refused_with_a_message(org_a, org_b):  # type: ignore[no-untyped-def]
    MembershipFactory(user=org_a.worker, organization=org_b.organization)
    of_a = ParticipantFactory(organization=org_a.organization)
    of_b = ParticipantFactory(organization=org_b.organization)
    client = logged_in(org_a.worker)
    data = _group_session_post([of_a, of_b])

    response = client.post(reverse("session_log"), data)

    assert response.status_code == 200
    assert "under a valid consent" in response.content.decode()
    assert f'value="{data["client_key"]}"' in response.content.decode()
    assert not Session.objects.exists()


def test_b_sees_the_shared_page_and_works_on_its_own_enrolment_only(a_record, org_a, org_b):
    share(a_record, org_a, org_b)
    client = logged_in(org_b.worker)
    url = reverse("participant_detail", args=[a_record.participant.pk])
    pages = [client.get(url, {"tab": tab}) for tab in ("activity", "details", "plan", "related")]
    assert all(page.status_code == 200 for page in pages)
    text = "".join(page.content.decode() for page in pages)
    assert "Dashiell" in text and "Shared by" in text
    assert 'id="sharing"' not in text, "only the owner manages consent"
    assert reverse("enrollment_status", args=[a_record.enrollment.pk]) not in text
    # A's enrolment and A's referral cannot be changed by B, whatever B posts.
    status = client.post(
        reverse("enrollment_status", args=[a_record.enrollment.pk]),
        {"status": "inactive", "on": timezone.localdate().isoformat()},
    )
    assert status.status_code == 404
    advance = client.post(
        reverse("referral_advance", args=[a_record.referral.pk]),
        {"status": "completed", "on": timezone.localdate().isoformat()},
    )
    assert advance.status_code == 404
    # B logs a session with the shared person through the page: it is B's session.
    response = client.post(
        reverse("session_log"),
        {
            "participants": [a_record.participant.pk],
            "kind": Session.Kind.MENTORING,
            "occurred_at": (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "duration_minutes": 30,
            "location": Session.Location.STREET,
            "client_key": "8f0c4b8e-0d7e-4f43-9d4e-0c1b7f0a5a11",
        },
    )
    errors = [
        line
        for line in response.content.decode().splitlines()
        if "invalid" in line or "alert" in line or "error" in line
    ]
    assert response.status_code == 302, errors
    assert Session.objects.filter(organization=org_b.organization).count() == 1


# Recording and revoking -----------------------------------------------------------------------


def test_the_database_refuses_a_consent_that_is_both_or_neither(a_record, org_a, org_b):
    with pytest.raises(IntegrityError):
        ConsentFactory(
            participant=a_record.participant,
            scope=Consent.Scope.CITY,
            organization=org_b.organization,
        )


def test_the_database_refuses_dates_out_of_order(a_record, org_b):
    today = timezone.localdate()
    with pytest.raises(IntegrityError):
        ConsentFactory(
            participant=a_record.participant,
            organization=org_b.organization,
            granted_on=today,
            expires_on=today,
        )


def test_only_the_owning_organisation_records_or_revokes_consent(a_record, org_a, org_b):
    with pytest.raises(ServiceError):
        consent_services.record_consent(
            participant=a_record.participant,
            recorded_by=org_b.manager,
            organization=org_b.organization,
        )
    consent = share(a_record, org_a, org_b)
    with pytest.raises(ServiceError):
        consent_services.revoke_consent(consent=consent, revoked_by=org_b.manager)
    outsider_post = logged_in(org_b.manager).post(
        reverse("consent_revoke", args=[consent.pk]),
        {"on": timezone.localdate().isoformat(), "confirm": "1"},
    )
    assert outsider_post.status_code == 404
    consent.refresh_from_db()
    assert consent.revoked_on is None


def test_the_participant_page_records_and_revokes_consent(a_record, org_a, org_b):
    client = logged_in(org_a.worker)
    url = reverse("participant_detail", args=[a_record.participant.pk])
    assert 'id="sharing"' in client.get(url, {"tab": "related"}).content.decode()
    refused = client.post(
        reverse("consent_create", args=[a_record.participant.pk]),
        {
            "share_with": org_b.organization.pk,
            "granted_on": (timezone.localdate() + timedelta(days=3)).isoformat(),
            "note": "Signed form",
        },
    )
    assert refused.status_code == 200 and not Consent.objects.exists()
    assert "Signed form" in refused.content.decode(), "what was typed is kept"
    created = client.post(
        reverse("consent_create", args=[a_record.participant.pk]),
        {
            "share_with": org_b.organization.pk,
            "granted_on": timezone.localdate().isoformat(),
            "note": "Signed form",
        },
    )
    assert created.status_code == 302
    consent = Consent.objects.get()
    assert consent.organization == org_b.organization and consent.recorded_by == org_a.worker
    assert sees(org_b.worker, a_record)["participant"]

    revoke_url = reverse("consent_revoke", args=[consent.pk])
    on = timezone.localdate().isoformat()
    asked = client.post(revoke_url, {"on": on})
    assert asked.status_code == 200 and 'name="confirm"' in asked.content.decode()
    consent.refresh_from_db()
    assert consent.revoked_on is None, "the first post only asks"
    assert client.post(revoke_url, {"on": on, "confirm": "1"}).status_code == 302
    consent.refresh_from_db()
    assert consent.revoked_on == timezone.localdate() and consent.revoked_by == org_a.worker
    assert not sees(org_b.worker, a_record)["participant"]


def test_consent_changes_are_in_the_audit_trail(a_record, org_a, org_b):
    from interventions.audit.models import AuditEvent

    consent = consent_services.record_consent(
        participant=a_record.participant, recorded_by=org_a.manager, organization=org_b.organization
    )
    consent_services.revoke_consent(consent=consent, revoked_by=org_a.manager)
    events = AuditEvent.objects.filter(object_type="consent", object_id=consent.pk)
    assert {e.action for e in events} == {"create", "update"}
    assert all(e.participant_id == a_record.participant.pk for e in events)


def test_a_program_of_b_with_the_shared_person_stays_out_of_a_managers_hands(
    a_record, org_a, org_b
):
    """A sees B's enrolment of its participant (it owns the record) but cannot change it."""
    share(a_record, org_a, org_b)
    b_program = ProgramFactory(organization=org_b.organization)
    theirs = services.enroll_participant(
        participant=a_record.participant, program=b_program, by=org_b.manager
    )
    assert access.enrollments_visible_to(fresh(org_a.manager)).filter(pk=theirs.pk).exists()
    assert not access.enrollments_editable_by(fresh(org_a.manager)).filter(pk=theirs.pk).exists()


def test_the_admin_refuses_a_consent_to_the_owning_organisation(a_record, org_a, admin_client_city):
    response = admin_client_city.post(
        reverse("admin:interventions_consent_add"),
        {
            "participant": a_record.participant.pk,
            "scope": Consent.Scope.ORGANIZATION,
            "organization": org_a.organization.pk,
            "granted_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 200
    assert "holds the record" in response.content.decode()
    assert not Consent.objects.exists()


# The manager of the organisation a participant is shared with --------------------------------


def _enrolled_in_b(a_record, org_a, org_b):  # type: ignore[no-untyped-def]
    share(a_record, org_a, org_b)
    return services.enroll_participant(
        participant=a_record.participant,
        program=org_b.program,
        by=org_b.manager,
        worker=org_b.worker,
        status="active",
    )


def test_bs_manager_counts_lists_and_assigns_a_shared_participant_in_bs_program(
    a_record, org_a, org_b
):  # type: ignore[no-untyped-def]
    enrollment = _enrolled_in_b(a_record, org_a, org_b)
    second_worker = UserFactory(username="org-b-second")
    MembershipFactory(user=second_worker, organization=org_b.organization)

    figures = manager_selectors.dashboard_figures(org_b.organization)
    rows = {row.worker.username: row.caseload for row in figures.workers}
    assert figures.caseload_total == 1 and rows["org-b-worker"] == 1

    client = logged_in(org_b.manager)
    listed = client.get(
        reverse("org_participants"), {"worker": org_b.worker.pk, "status": "caseload"}
    )
    page = listed.content.decode()
    assert listed.context["page_obj"].paginator.count == 1
    assert 'data-shared-by="org-a"' in page
    assert f'value="{enrollment.pk}"' in page
    assert f'value="{a_record.enrollment.pk}"' not in page  # A's enrolment: not B's to assign

    response = client.post(
        reverse("assign_workers"),
        {"org": "org-b", "enrollments": [enrollment.pk], "worker": second_worker.pk},
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.assigned_worker == second_worker


def test_as_manager_no_longer_counts_or_assigns_bs_enrolment_of_as_participant(
    a_record, org_a, org_b
):  # type: ignore[no-untyped-def]
    enrollment = _enrolled_in_b(a_record, org_a, org_b)

    figures = manager_selectors.dashboard_figures(org_a.organization)
    assert [row.worker.username for row in figures.workers] == ["org-a-worker"]
    assert figures.workers[0].caseload == 1  # A's own enrolment only

    client = logged_in(org_a.manager)
    page = client.get(reverse("org_participants")).content.decode()
    assert "(another organisation's program)" in page
    assert f'value="{enrollment.pk}"' not in page
    response = client.post(
        reverse("assign_workers"),
        {"org": "org-a", "enrollments": [enrollment.pk], "worker": org_a.worker.pk},
    )
    assert response.status_code in (200, 302)
    enrollment.refresh_from_db()
    assert enrollment.assigned_worker == org_b.worker


def test_revoking_takes_the_shared_participant_off_bs_manager_pages(a_record, org_a, org_b):  # type: ignore[no-untyped-def]
    _enrolled_in_b(a_record, org_a, org_b)
    consent = Consent.objects.get(participant=a_record.participant)
    consent_services.revoke_consent(consent=consent, revoked_by=org_a.manager)

    listed = logged_in(org_b.manager).get(reverse("org_participants"))
    assert listed.context["page_obj"].paginator.count == 0
    assert a_record.participant.last_name not in listed.content.decode()
