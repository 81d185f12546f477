"""Two-factor login (TOTP, django-otp): who must use it, enrolment with backup codes, the code
prompt, throttling of wrong codes, the admin, and that a password-only session reaches nothing.

These tests turn off the test shortcut that makes `force_login` pass the second factor
(`password_only_logins`), or log in through the real login form."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.test import Client, RequestFactory
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from interventions.accounts.admin_site import VerifiedAdminSite
from interventions.accounts.two_factor import (
    VERIFIED_USER_KEY,
    replace_backup_codes,
    requires_two_factor,
)
from interventions.audit.models import AuditEvent
from interventions.models import Session
from tests.factories import TEST_PASSWORD, ParticipantFactory, UserFactory

pytestmark = pytest.mark.django_db

SETUP = reverse("two_factor_setup")
VERIFY = reverse("two_factor_verify")


def code_for(device: TOTPDevice, *, offset_steps: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + offset_steps * device.step
    return f"{totp.token():0{device.digits}d}"


def password_login(username: str) -> Client:
    client = Client()
    response = client.post(
        reverse("login"),
        {"username": username, "password": TEST_PASSWORD},
        REMOTE_ADDR="198.51.100.7",
    )
    assert response.status_code == 302
    return client


def authenticator(user: Any) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Phone", confirmed=True)


def lands_on(response: Any, url: str) -> bool:
    return response.status_code == 302 and response["Location"].split("?")[0] == url


# ---- who must use it -------------------------------------------------------------------------


def test_managers_city_admins_analysts_and_role_less_users_need_two_factor(org_a, city_admin):
    analyst = UserFactory(username="analyst")
    analyst.groups.add(Group.objects.get_or_create(name="Analyst")[0])
    assert requires_two_factor(org_a.manager)
    assert requires_two_factor(city_admin)
    assert requires_two_factor(analyst)
    assert requires_two_factor(UserFactory(username="no-role-yet"))
    assert not requires_two_factor(org_a.worker)


def test_workers_need_it_when_the_setting_says_so(org_a, settings, password_only_logins):
    client = Client()
    client.force_login(org_a.worker)
    assert client.get(reverse("caseload")).status_code == 200
    settings.GVR_REQUIRE_2FA_FOR_WORKERS = True
    assert requires_two_factor(type(org_a.worker).objects.get(pk=org_a.worker.pk))
    assert lands_on(client.get(reverse("caseload")), SETUP)


# ---- a password alone reaches nothing --------------------------------------------------------


def test_a_manager_with_a_password_only_session_is_stopped_everywhere(org_a, password_only_logins):
    participant = ParticipantFactory(organization=org_a.organization)
    client = Client()
    client.force_login(org_a.manager)
    for url in (
        reverse("home"),
        reverse("manager_dashboard"),
        reverse("participant_detail", kwargs={"participant_id": participant.pk}),
        reverse("export_caseload"),
        reverse("metrics:dashboard"),
        reverse("password_change"),
    ):
        response = client.get(url)
        assert lands_on(response, SETUP), url
    # Nor can it write: the POST is turned away before the view.
    before = Session.objects.count()
    response = client.post(reverse("session_log"), {"participants": [participant.pk]})
    assert lands_on(response, SETUP)
    assert Session.objects.count() == before


def test_with_a_device_the_password_only_session_is_asked_for_a_code(org_a, password_only_logins):
    authenticator(org_a.manager)
    client = Client()
    client.force_login(org_a.manager)
    response = client.get(reverse("org_participants") + "?q=x")
    assert lands_on(response, VERIFY)
    assert "next=%2Fmanage%2Fparticipants%2F%3Fq%3Dx" in response["Location"]
    # Setting up another authenticator needs the first one: a password cannot add a device.
    assert lands_on(client.get(SETUP), VERIFY)
    assert TOTPDevice.objects.filter(user=org_a.manager).count() == 1


def test_logout_and_static_files_stay_open(org_a, password_only_logins):
    client = Client()
    client.force_login(org_a.manager)
    assert client.get("/static/css/app.css").status_code in {200, 404}
    assert not lands_on(client.get("/static/css/app.css"), SETUP)
    assert client.get(SETUP).status_code == 200
    response = client.post(reverse("logout"))
    assert lands_on(response, reverse("login"))
    assert "_auth_user_id" not in client.session


def test_an_htmx_request_reloads_the_page_on_the_code_prompt(org_a, password_only_logins):
    authenticator(org_a.manager)
    client = Client()
    client.force_login(org_a.manager)
    response = client.get(reverse("org_participants"), HTTP_HX_REQUEST="true")
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(VERIFY)


def test_the_admin_needs_a_verified_session(city_admin, password_only_logins):
    authenticator(city_admin)
    client = Client()
    client.force_login(city_admin)
    assert lands_on(client.get(reverse("admin:index")), VERIFY)
    assert lands_on(client.get(reverse("admin:interventions_participant_changelist")), VERIFY)


def test_the_admin_site_itself_refuses_unverified_staff(city_admin):
    # Without the middleware in the way: the site's own permission check.
    device = authenticator(city_admin)
    request = RequestFactory().get("/admin/")
    request.user = city_admin
    request.session = {}
    assert not VerifiedAdminSite().has_permission(request)
    request.session = {DEVICE_ID_SESSION_KEY: device.persistent_id, VERIFIED_USER_KEY: 0}
    assert not VerifiedAdminSite().has_permission(request)  # verified for someone else
    request.session[VERIFIED_USER_KEY] = city_admin.pk
    assert VerifiedAdminSite().has_permission(request)


def test_removing_the_authenticator_ends_the_sessions_it_verified(org_a):
    device = authenticator(org_a.manager)
    client = password_login(org_a.manager.username)
    client.post(VERIFY, {"code": code_for(device)})
    assert client.get(reverse("manager_dashboard")).status_code == 200
    device.delete()  # an admin resets the manager's two-step login
    assert lands_on(client.get(reverse("manager_dashboard")), reverse("login"))
    again = password_login(org_a.manager.username)
    assert lands_on(again.get(reverse("manager_dashboard")), SETUP)


def test_no_admin_can_see_an_authenticator_secret(org_a, admin_client_city):
    device = authenticator(org_a.manager)
    for name in ("admin:otp_totp_totpdevice_config", "admin:otp_totp_totpdevice_qrcode"):
        assert admin_client_city.get(reverse(name, kwargs={"pk": device.pk})).status_code == 403
    page = admin_client_city.get(
        reverse("admin:otp_totp_totpdevice_change", args=[device.pk])
    ).content.decode()
    assert device.key not in page


def test_the_project_admin_is_the_verified_site():
    from django.contrib import admin

    assert isinstance(admin.site, VerifiedAdminSite)


def test_a_worker_is_not_asked_by_default(org_a, password_only_logins):
    client = Client()
    client.force_login(org_a.worker)
    assert client.get(reverse("caseload")).status_code == 200
    assert lands_on(client.get(SETUP), reverse("home"))


# ---- enrolment -------------------------------------------------------------------------------


def test_enrolment_after_password_login_shows_qr_then_backup_codes_once(org_a):
    manager = org_a.manager
    client = password_login(manager.username)
    response = client.get(reverse("manager_dashboard"))
    assert lands_on(response, SETUP)
    page = client.get(response["Location"])
    html = page.content.decode()
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1].split("</main>")[0]
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', html).group(1).replace(" ", "")
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    assert secret.rstrip("=") in __import__("base64").b32encode(device.bin_key).decode()
    # Reloading shows the same secret, not a new one.
    assert secret in client.get(SETUP).content.decode().replace(" ", "")

    wrong = client.post(SETUP, {"code": "000000" if code_for(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "That code is not right" in wrong.content.decode()
    device.refresh_from_db()
    assert not device.confirmed and device.throttling_failure_count == 1

    device.throttling_failure_timestamp = None  # the wait after one wrong code has passed
    device.save()
    done = client.post(SETUP, {"code": code_for(device), "next": "/manage/"})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", done.content.decode())
    assert len(codes) == 10
    assert set(codes) == set(
        StaticToken.objects.filter(device__user=manager).values_list("token", flat=True)
    )
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(reverse("manager_dashboard")).status_code == 200
    # The codes are never shown again.
    assert not set(codes) & set(re.findall(r"[a-z2-7]{8}", client.get(SETUP).content.decode()))
    events = AuditEvent.objects.filter(username=manager.username, detail__factor="totp_setup")
    assert sorted(events.values_list("action", flat=True)) == ["login", "login_failed"]


def test_verification_starts_a_new_session_key_that_logout_still_ends(org_a):
    device = authenticator(org_a.manager)
    client = password_login(org_a.manager.username)
    before = client.session.session_key
    client.post(VERIFY, {"code": code_for(device)})
    after = client.session.session_key
    assert after != before
    assert client.get(reverse("manager_dashboard")).status_code == 200
    # Logout from another browser ends this one too (the session index followed the new key).
    other = Client()
    other.force_login(org_a.manager)
    other.post(reverse("logout"))
    assert lands_on(client.get(reverse("manager_dashboard")), reverse("login"))


# ---- the code prompt -------------------------------------------------------------------------


def test_a_right_code_lets_the_manager_in_and_goes_where_they_were_going(org_a):
    device = authenticator(org_a.manager)
    client = password_login(org_a.manager.username)
    response = client.get(reverse("org_sessions"))
    prompt = client.get(response["Location"])
    assert prompt.status_code == 200 and b"Enter your code" in prompt.content
    done = client.post(VERIFY, {"code": code_for(device), "next": reverse("org_sessions")})
    assert lands_on(done, reverse("org_sessions"))
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get(reverse("org_sessions")).status_code == 200
    assert AuditEvent.objects.filter(
        action="login", detail__factor="totp", user_id=org_a.manager.pk, outcome="ok"
    ).exists()


def test_wrong_codes_are_refused_counted_and_throttled(org_a):
    device = authenticator(org_a.manager)
    client = password_login(org_a.manager.username)
    right = code_for(device)
    wrong = "123456" if right != "123456" else "654321"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Straight after a wrong code even the right one waits (django-otp's doubling delay).
    response = client.post(VERIFY, {"code": right})
    assert "Too many wrong codes" in response.content.decode()
    assert lands_on(client.get(reverse("manager_dashboard")), VERIFY)
    failed = AuditEvent.objects.filter(
        action="login_failed",
        outcome="failed",
        user_id=org_a.manager.pk,
        detail__factor="two_factor",
    )
    assert failed.count() == 2
    assert failed.first().ip_address == "127.0.0.1"


def test_a_used_code_cannot_be_replayed(org_a):
    device = authenticator(org_a.manager)
    code = code_for(device)
    first = password_login(org_a.manager.username)
    assert lands_on(first.post(VERIFY, {"code": code}), reverse("home"))
    second = password_login(org_a.manager.username)
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200
    assert "not right" in response.content.decode()


def test_a_backup_code_works_once(org_a):
    authenticator(org_a.manager)
    codes = replace_backup_codes(user=org_a.manager)
    client = password_login(org_a.manager.username)
    response = client.post(VERIFY, {"code": codes[0].upper()})
    assert lands_on(response, reverse("home"))
    shown = [str(m) for m in client.get(reverse("manager_dashboard")).context["messages"]]
    assert any("9 left" in message for message in shown)
    assert StaticToken.objects.filter(device__user=org_a.manager).count() == 9
    again = password_login(org_a.manager.username)
    StaticDevice.objects.filter(user=org_a.manager).update(throttling_failure_timestamp=None)
    response = again.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200
    assert lands_on(again.get(reverse("home")), VERIFY)


def test_the_next_address_cannot_leave_the_site(org_a):
    device = authenticator(org_a.manager)
    client = password_login(org_a.manager.username)
    response = client.post(VERIFY, {"code": code_for(device), "next": "https://evil.example/"})
    assert lands_on(response, reverse("home"))


def test_the_test_shortcut_verifies_only_who_needs_it(org_a):
    # The central fixture in tests/conftest.py: force_login passes two-factor for a manager and
    # leaves a worker's session as it is (no device, no query per request).
    client = Client()
    client.force_login(org_a.manager)
    assert DEVICE_ID_SESSION_KEY in client.session
    client.force_login(org_a.worker)
    assert DEVICE_ID_SESSION_KEY not in client.session
    assert not TOTPDevice.objects.filter(user=org_a.worker).exists()
