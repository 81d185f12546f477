"""Lockout cannot be turned into a weapon (issue 13, finding 5): failures count per username and
address, a lock ends after a cool-off that doubles up to a cap, a distributed attack on one
username is slowed (not stopped), the owner still signs in from their usual device, and an
admin can unlock. SECURITY.md's 5 failures in 15 minutes still lock."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

from interventions.accounts.lockout import MAX_COOL_OFF, cool_off_after
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
OWNER_ADDRESS = "203.0.113.9"
ATTACKER_ADDRESS = "198.51.100.66"


def attempt(username: str, password: str, address: str) -> int:
    return (
        Client()
        .post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)
        .status_code
    )


def fail(username: str, address: str, times: int = 1) -> int:
    status = 0
    for _ in range(times):
        status = attempt(username, "wrong-password-1234", address)
    return status


def age_attempts(**delta: float) -> None:
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(**delta))


def test_five_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(org_a):
    username = org_a.manager.username
    assert fail(username, ATTACKER_ADDRESS, times=5) == 429
    # The attacker's address is locked, even with the right password …
    assert attempt(username, TEST_PASSWORD, ATTACKER_ADDRESS) == 429
    # … the owner's device is not.
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 302


def test_five_failures_in_fifteen_minutes_lock_and_the_lock_ends_after_the_cool_off(org_a):
    username = org_a.worker.username
    assert fail(username, OWNER_ADDRESS, times=4) == 200
    assert fail(username, OWNER_ADDRESS) == 429
    age_attempts(minutes=10)
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 429
    age_attempts(minutes=16)
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 302


def test_each_further_lock_doubles_the_cool_off_up_to_a_cap(org_a):
    username = org_a.worker.username
    fail(username, ATTACKER_ADDRESS, times=5)
    age_attempts(minutes=16)
    # One more failure after the cool-off locks again, for twice as long.
    assert fail(username, ATTACKER_ADDRESS) == 429
    age_attempts(minutes=16)
    assert attempt(username, TEST_PASSWORD, ATTACKER_ADDRESS) == 429
    age_attempts(minutes=31)
    assert attempt(username, TEST_PASSWORD, ATTACKER_ADDRESS) == 302
    assert cool_off_after(5) == timedelta(minutes=15)
    assert cool_off_after(7) == timedelta(minutes=60)
    assert cool_off_after(500) == MAX_COOL_OFF


def test_a_refused_try_during_a_lock_does_not_lengthen_it(org_a):
    username = org_a.worker.username
    fail(username, OWNER_ADDRESS, times=5)
    age_attempts(minutes=14)
    assert fail(username, OWNER_ADDRESS, times=3) == 429
    age_attempts(minutes=16)
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 302


def test_a_distributed_attack_is_slowed_but_the_usual_device_is_not(org_a, settings):
    settings.GVR_LOGIN_USERNAME_CEILING = 12
    username = org_a.manager.username
    # The owner signed in from their phone before.
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 302
    # Four addresses, three failures each: none reaches its own limit.
    for host in range(4):
        fail(username, f"198.51.100.{host + 1}", times=3)
    # A fresh address now waits …
    assert attempt(username, TEST_PASSWORD, "192.0.2.200") == 429
    # … the owner's usual device does not.
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 302
    # And the new address gets its try once the pause has passed (slowed, not stopped).
    for host in range(4):
        fail(username, f"198.51.100.{host + 1}", times=3)
    age_attempts(seconds=31)
    assert attempt(username, TEST_PASSWORD, "192.0.2.201") == 302


def test_an_admin_unlocks(org_a, admin_client_city):
    username = org_a.worker.username
    fail(username, OWNER_ADDRESS, times=5)
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 429
    attempt_ids = list(AccessAttempt.objects.values_list("pk", flat=True))
    response = admin_client_city.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": attempt_ids, "post": "yes"},
    )
    assert response.status_code == 302
    assert attempt(username, TEST_PASSWORD, OWNER_ADDRESS) == 302
