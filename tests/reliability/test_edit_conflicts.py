"""Two people editing the same record do not silently overwrite each other: the participant
edit page, update_participant, and the admin change forms of participants, enrolments and
referrals refuse a save over a newer one, keep what was typed and show what changed."""

from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.errors import RecordChanged, ServiceError
from interventions.models import Enrollment, Participant, Referral
from interventions.services import case as services
from interventions.services.locking import version_of
from tests.conftest import OrgSetup, logged_in
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    ParticipantFactory,
    ReferralFactory,
)
from tests.interventions.test_admin import admin_url, form_data


def _person(org: OrgSetup, **fields: object) -> Participant:
    defaults: dict[str, object] = {
        "first_name": "Dario",
        "last_name": "Mendez",
        "phone": "661-555-0100",
        "date_of_birth": date(2004, 5, 1),
    }
    return ParticipantFactory(organization=org.organization, **{**defaults, **fields})


def _edit_data(person: Participant, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "aliases": person.aliases,
        "date_of_birth": person.date_of_birth.isoformat() if person.date_of_birth else "",
        "phone": person.phone,
        "area": person.area_id or "",
        "referral_source": person.referral_source,
        "risk_tier": person.risk_tier,
        "version": version_of(person),
    }
    data.update(changes)
    return data


# The service --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_update_participant_saves_the_changed_fields(org_a: OrgSetup) -> None:
    person = _person(org_a)
    area = AreaFactory()
    saved = services.update_participant(
        participant=person,
        by=org_a.worker,
        expected_updated_at=person.updated_at,
        first_name="  Dario ",
        phone="661-555-0199",
        area=area,
        risk_tier=Participant.RiskTier.HIGHEST,
    )
    person.refresh_from_db()
    assert (person.first_name, person.phone, person.area, person.risk_tier) == (
        "Dario",
        "661-555-0199",
        area,
        Participant.RiskTier.HIGHEST,
    )
    assert saved.updated_at == person.updated_at


@pytest.mark.django_db
def test_update_participant_refuses_a_stale_version_and_saves_nothing(org_a: OrgSetup) -> None:
    person = _person(org_a)
    drawn_at = person.updated_at
    services.update_participant(
        participant=person, by=org_a.manager, expected_updated_at=drawn_at, phone="661-555-0111"
    )
    with pytest.raises(RecordChanged) as refused:
        services.update_participant(
            participant=person, by=org_a.worker, expected_updated_at=drawn_at, phone="000"
        )
    assert "Someone else saved this record" in refused.value.messages[0]
    assert refused.value.current.phone == "661-555-0111"
    person.refresh_from_db()
    assert person.phone == "661-555-0111"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"first_name": "  "}, "first and a last name"),
        ({"date_of_birth": timezone.localdate() + timedelta(days=1)}, "cannot be in the future"),
        ({"referral_source": "rumour"}, "referral source"),
        ({"risk_tier": 9}, "risk tier"),
    ],
)
def test_update_participant_refuses_bad_values(
    org_a: OrgSetup, changes: dict[str, object], message: str
) -> None:
    person = _person(org_a)
    with pytest.raises(ServiceError, match=message):
        services.update_participant(
            participant=person, by=org_a.worker, expected_updated_at=person.updated_at, **changes
        )
    assert Participant.objects.get(pk=person.pk).first_name == "Dario"


@pytest.mark.django_db
def test_update_participant_refuses_outsiders_and_other_fields(
    org_a: OrgSetup, org_b: OrgSetup
) -> None:
    person = _person(org_a)
    with pytest.raises(ServiceError, match="not an active member"):
        services.update_participant(
            participant=person, by=org_b.worker, expected_updated_at=person.updated_at, phone="1"
        )
    with pytest.raises(TypeError):
        services.update_participant(
            participant=person,
            by=org_a.worker,
            expected_updated_at=person.updated_at,
            organization=org_b.organization,
        )


@pytest.mark.django_db(transaction=True)
def test_the_version_is_compared_on_the_locked_row(org_a: OrgSetup) -> None:
    """Another transaction holds the row and saves a change while our save waits for the lock:
    our save must see that change and refuse, not overwrite it with a version read before."""
    person = _person(org_a)
    drawn_at = person.updated_at
    locked, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def other_editor() -> None:
        try:
            with transaction.atomic():
                row = Participant.objects.select_for_update().get(pk=person.pk)
                row.phone = "661-555-0122"
                row.save(update_fields=["phone", "updated_at"])
                locked.set()
                release.wait(10)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            locked.set()
        finally:
            connection.close()

    thread = threading.Thread(target=other_editor)
    thread.start()
    assert locked.wait(10)
    # Released while our update waits on the row lock.
    threading.Timer(0.5, release.set).start()
    with pytest.raises(RecordChanged):
        services.update_participant(
            participant=person, by=org_a.worker, expected_updated_at=drawn_at, phone="000"
        )
    thread.join(10)
    assert not errors
    assert Participant.objects.get(pk=person.pk).phone == "661-555-0122"


# The page ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_participant_page_links_to_the_edit_page(
    org_a: OrgSetup, worker_client: Client
) -> None:
    person = _person(org_a)
    page = worker_client.get(reverse("participant_detail", args=[person.pk]), {"tab": "details"})
    assert reverse("participant_edit", args=[person.pk]) in page.content.decode()


@pytest.mark.django_db
def test_edit_page_saves_for_the_owning_organisation(
    org_a: OrgSetup, manager_client: Client
) -> None:
    person = _person(org_a)
    url = reverse("participant_edit", args=[person.pk])
    page = manager_client.get(url)
    assert page.status_code == 200
    assert f'value="{version_of(person)}"' in page.content.decode()
    response = manager_client.post(url, _edit_data(person, aliases="Flaco", phone="661-555-0177"))
    assert response.status_code == 302
    assert response["Location"] == reverse("participant_detail", args=[person.pk])
    person.refresh_from_db()
    assert (person.aliases, person.phone) == ("Flaco", "661-555-0177")


@pytest.mark.django_db
def test_edit_page_is_a_404_for_another_organisation(org_a: OrgSetup, org_b: OrgSetup) -> None:
    person = _person(org_a)
    url = reverse("participant_edit", args=[person.pk])
    for user in (org_b.worker, org_b.manager):
        client = logged_in(user)
        assert client.get(url).status_code == 404
        assert client.post(url, _edit_data(person, phone="1")).status_code == 404
    assert Participant.objects.get(pk=person.pk).phone == "661-555-0100"


@pytest.mark.django_db
def test_a_stale_save_is_refused_keeps_what_was_typed_and_shows_the_changes(
    org_a: OrgSetup, worker_client: Client
) -> None:
    person = _person(org_a)
    url = reverse("participant_edit", args=[person.pk])
    typed = _edit_data(person, phone="661-555-0999", aliases="Typed alias")
    # The manager saves a change after the worker opened the form.
    services.update_participant(
        participant=person,
        by=org_a.manager,
        expected_updated_at=person.updated_at,
        phone="661-555-0333",
    )

    response = worker_client.post(url, typed)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert 'id="edit-conflict"' in html
    # The differences: the saved phone beside the typed one.
    assert "661-555-0333" in html and "661-555-0999" in html
    # What was typed is still in the form.
    assert 'value="Typed alias"' in html
    person.refresh_from_db()
    assert (person.phone, person.aliases) == ("661-555-0333", "")

    # The redrawn form carries the new version: saving it again is a deliberate overwrite.
    form = response.context["form"]
    assert form.data["version"] == version_of(person)
    again = worker_client.post(url, {**typed, "version": form.data["version"]})
    assert again.status_code == 302
    person.refresh_from_db()
    assert (person.phone, person.aliases) == ("661-555-0999", "Typed alias")


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["", "yesterday", "2024-01-01T10:00:00"])
def test_a_missing_or_malformed_version_is_refused(
    org_a: OrgSetup, worker_client: Client, version: str
) -> None:
    person = _person(org_a)
    url = reverse("participant_edit", args=[person.pk])
    response = worker_client.post(url, _edit_data(person, phone="1", version=version))
    assert response.status_code == 200
    assert "reload the page" in response.content.decode()
    assert Participant.objects.get(pk=person.pk).phone == "661-555-0100"


@pytest.mark.django_db
def test_bad_input_keeps_what_was_typed(org_a: OrgSetup, worker_client: Client) -> None:
    person = _person(org_a, identified_on=date(2024, 1, 10))
    url = reverse("participant_edit", args=[person.pk])
    response = worker_client.post(
        url, _edit_data(person, date_of_birth="2024-02-01", aliases="Kept", first_name="")
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "must be before the date the person was identified" in html
    assert 'value="Kept"' in html
    assert Participant.objects.get(pk=person.pk).aliases == ""


# The admin -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_admin_participant_change_refuses_a_stale_save(
    org_a: OrgSetup, admin_client_city: Client
) -> None:
    person = _person(org_a)
    url = admin_url(Participant, "change", person.pk)
    data = form_data(admin_client_city, url, phone="661-555-0444")
    assert data["version"] == version_of(person)
    services.update_participant(
        participant=person, by=org_a.worker, expected_updated_at=person.updated_at, phone="777"
    )

    response = admin_client_city.post(url, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Someone else saved this record" in html
    assert "Phone: now “777”" in html
    assert 'value="661-555-0444"' in html
    assert Participant.objects.get(pk=person.pk).phone == "777"

    # Saving the redrawn page applies the admin's version, knowingly.
    redrawn = response.context["adminform"].form.data
    assert admin_client_city.post(url, {**data, "version": redrawn["version"]}).status_code == 302
    assert Participant.objects.get(pk=person.pk).phone == "661-555-0444"


@pytest.mark.django_db
def test_admin_enrollment_change_refuses_a_stale_save(
    org_a: OrgSetup, admin_client_city: Client
) -> None:
    enrollment = EnrollmentFactory(
        participant=_person(org_a), program=org_a.program, assigned_worker=None
    )
    url = admin_url(Enrollment, "change", enrollment.pk)
    data = form_data(admin_client_city, url, assigned_worker=org_a.worker.pk)
    services.assign_worker(enrollments=[enrollment], worker=org_a.manager, by=org_a.manager)

    response = admin_client_city.post(url, data)
    assert response.status_code == 200
    assert "Someone else saved this record" in response.content.decode()
    enrollment.refresh_from_db()
    assert enrollment.assigned_worker == org_a.manager


@pytest.mark.django_db
def test_admin_referral_change_refuses_a_stale_save(
    org_a: OrgSetup, admin_client_city: Client
) -> None:
    referral = ReferralFactory(participant=_person(org_a), made_by=org_a.worker)
    url = admin_url(Referral, "change", referral.pk)
    data = form_data(admin_client_city, url, new_status=Referral.Status.DECLINED)
    services.advance_referral(referral=referral, status=Referral.Status.ACCEPTED, by=org_a.worker)

    response = admin_client_city.post(url, data)
    assert response.status_code == 200
    assert "Someone else saved this record" in response.content.decode()
    referral.refresh_from_db()
    assert referral.status == Referral.Status.ACCEPTED
