import pytest

from tests.browser.conftest import log_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_worker_logs_in_on_a_phone_and_sees_the_notice(phone, org_a):
    phone.goto("/accounts/login/")
    assert "confidential records" in phone.locator("#confidentiality-notice").inner_text()
    log_in(phone, org_a.worker.username, TEST_PASSWORD)
    assert "/accounts/login/" not in phone.url
    # The page fits a 360 px screen: nothing wider than the viewport.
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 360


def test_wrong_password_is_refused_with_a_message(phone, org_a):
    log_in(phone, org_a.worker.username, "not-the-password-at-all")
    assert "/accounts/login/" in phone.url
    assert phone.locator(".alert-danger, .invalid-feedback, .errorlist").count() >= 1
