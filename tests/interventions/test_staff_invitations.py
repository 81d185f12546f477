"""Issue 14, finding 10: one "Invite a staff member" form; the account, its membership and its
group made together; a one-time link to set a password, valid 72 hours; audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from unittest import mock

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse

from interventions.access import MANAGER_GROUP, OUTREACH_WORKER_GROUP
from interventions.audit.models import AuditEvent
from interventions.models import Membership
from interventions.services import staff as staff_services
from tests.conftest import logged_in

pytestmark = pytest.mark.django_db

User = get_user_model()
PASSWORD = "a long new password 2026"


def invite(client, organization, role="outreach_worker", email="ana.ruiz@example.org"):
    return client.post(
        reverse("invite_staff"),
        {
            "first_name": "Ana",
            "last_name": "Ruiz",
            "email": email,
            "organization": organization.pk,
            "role": role,
        },
    )


def test_a_manager_invites_into_their_organisation_in_one_step(
    org_a, manager_client, settings, django_capture_on_commit_callbacks
):
    settings.GVR_SITE_URL = "http://testserver"
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(manager_client, org_a.organization)
    assert response.status_code == 302
    ana = User.objects.get(email="ana.ruiz@example.org")
    assert not ana.has_usable_password()
    membership = Membership.objects.get(user=ana)
    assert (membership.organization, membership.role) == (
        org_a.organization,
        Membership.Role.OUTREACH_WORKER,
    )
    assert list(ana.groups.values_list("name", flat=True)) == [OUTREACH_WORKER_GROUP]
    event = AuditEvent.objects.get(object_type="staff_invitation")
    assert (event.user_id, event.detail["invited_user_id"]) == (org_a.manager.pk, ana.pk)
    [message] = mail.outbox
    assert message.to == ["ana.ruiz@example.org"]
    assert "72 hours" in message.body
    assert reverse("staff_invitation_accept", args=["x", "y"]).split("x/")[0] in message.body


def test_the_link_sets_a_password_once(org_a, manager_client, client):
    invite(manager_client, org_a.organization)
    ana = User.objects.get(email="ana.ruiz@example.org")
    url = staff_services.invitation_path(ana)
    page = client.get(url)
    assert page.status_code == 200
    assert "ana.ruiz@example.org" in page.content.decode()
    done = client.post(url, {"new_password1": PASSWORD, "new_password2": PASSWORD})
    assert done.status_code == 302
    assert done["Location"] == reverse("login")
    ana.refresh_from_db()
    assert ana.check_password(PASSWORD)
    # Spent: the same link does nothing any more.
    again = client.post(url, {"new_password1": "another password 2026", "new_password2": "x"})
    assert again.status_code == 404
    ana.refresh_from_db()
    assert ana.check_password(PASSWORD)


def test_the_link_expires_after_72_hours(org_a, manager_client, client):
    invite(manager_client, org_a.organization)
    ana = User.objects.get(email="ana.ruiz@example.org")
    url = staff_services.invitation_path(ana)
    generator = type(staff_services.invitation_tokens)
    for hours, status in ((71, 200), (73, 404)):
        later = datetime.now() + timedelta(hours=hours)
        with mock.patch.object(generator, "_now", return_value=later):
            assert client.get(url).status_code == status, hours


def test_a_password_reset_token_is_no_invitation(org_a, manager_client, client):
    invite(manager_client, org_a.organization)
    ana = User.objects.get(email="ana.ruiz@example.org")
    uid = staff_services.invitation_path(ana).split("/")[-3]
    url = reverse("staff_invitation_accept", args=[uid, default_token_generator.make_token(ana)])
    assert client.get(url).status_code == 404


def test_a_manager_cannot_invite_into_another_organisation(org_a, org_b, manager_client):
    response = invite(manager_client, org_b.organization)
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not User.objects.filter(email="ana.ruiz@example.org").exists()
    with pytest.raises(staff_services.ServiceError):
        staff_services.invite_staff_member(
            invited_by=org_a.manager,
            first_name="Ana",
            last_name="Ruiz",
            email="ana.ruiz@example.org",
            organization=org_b.organization,
            role="manager",
        )


def test_a_city_admin_invites_a_manager_anywhere(org_b, admin_client_city):
    assert invite(admin_client_city, org_b.organization, role="manager").status_code == 302
    ana = User.objects.get(email="ana.ruiz@example.org")
    assert list(ana.groups.values_list("name", flat=True)) == [MANAGER_GROUP]
    assert Membership.objects.get(user=ana).organization == org_b.organization


def test_an_address_already_in_use_is_refused(org_a, manager_client):
    response = invite(manager_client, org_a.organization, email=org_a.worker.email.upper())
    assert response.status_code == 200
    assert "already has an account" in response.content.decode()
    assert User.objects.filter(email__iexact=org_a.worker.email).count() == 1


def test_workers_cannot_invite(org_a, worker_client):
    assert invite(worker_client, org_a.organization).status_code == 403
    assert logged_in(org_a.worker).get(reverse("invite_staff")).status_code == 403
