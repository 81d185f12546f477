"""Resetting a lost authenticator: one admin action removes every device of the user (the
authenticator and the backup codes), ends their sessions, is audited, and their next sign-in
goes to set-up. Removing the authenticator alone takes its backup codes with it."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from interventions.access import CITY_ADMIN_GROUP
from interventions.accounts.two_factor import replace_backup_codes
from interventions.audit.models import AuditEvent
from tests.conftest import logged_in
from tests.factories import UserFactory
from tests.security.test_two_factor import (
    SETUP,
    VERIFY,
    authenticator,
    code_for,
    lands_on,
    password_login,
)

pytestmark = pytest.mark.django_db

USERS = reverse("admin:auth_user_changelist")


def signed_in_with_a_code(user):  # type: ignore[no-untyped-def]
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    client = password_login(user.username)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get(reverse("manager_dashboard")).status_code == 200
    return client


def test_deleting_the_authenticator_takes_the_backup_codes_with_it(org_a, admin_client_city):
    """The probe's path: an admin deletes the TOTP device on its admin page."""
    manager = org_a.manager
    device = authenticator(manager)
    codes = replace_backup_codes(user=manager)
    response = admin_client_city.post(
        reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not StaticDevice.objects.filter(user=manager).exists()
    again = password_login(manager.username)
    assert lands_on(again.get(reverse("manager_dashboard")), SETUP)
    # The codes from the lost phone's drawer open nothing.
    again.post(VERIFY, {"code": codes[0]})
    assert lands_on(again.get(reverse("manager_dashboard")), SETUP)


def test_the_reset_action_removes_every_device_ends_sessions_and_is_audited(
    org_a, admin_client_city
):
    manager = org_a.manager
    authenticator(manager)
    codes = replace_backup_codes(user=manager)
    TOTPDevice.objects.create(user=manager, name="Half set up", confirmed=False)
    session = signed_in_with_a_code(manager)

    response = admin_client_city.post(
        USERS, {"action": "reset_two_factor", helpers.ACTION_CHECKBOX_NAME: [manager.pk]}
    )
    assert response.status_code == 302

    assert not TOTPDevice.objects.filter(user=manager).exists()
    assert not StaticDevice.objects.filter(user=manager).exists()
    # The session the old authenticator verified is over.
    assert lands_on(session.get(reverse("manager_dashboard")), reverse("login"))
    # The next sign-in goes to set-up, and an old backup code is no way round it.
    again = password_login(manager.username)
    assert lands_on(again.get(reverse("manager_dashboard")), SETUP)
    again.post(VERIFY, {"code": codes[1]})
    assert lands_on(again.get(reverse("manager_dashboard")), SETUP)
    event = AuditEvent.objects.get(object_type="two_factor", object_id=manager.pk)
    assert event.username == "city-admin" and event.detail["devices_removed"] == 3


def test_a_city_admin_cannot_reset_a_superusers_two_step_login(org_a):
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    authenticator(root)
    group_admin = UserFactory(username="group-admin", is_staff=True)
    group_admin.groups.add(Group.objects.get(name=CITY_ADMIN_GROUP))
    logged_in(group_admin).post(
        USERS, {"action": "reset_two_factor", helpers.ACTION_CHECKBOX_NAME: [root.pk]}
    )
    assert TOTPDevice.objects.filter(user=root).exists()
    assert get_user_model().objects.get(pk=root.pk).is_active
