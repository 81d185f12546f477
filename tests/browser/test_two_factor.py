import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import log_in
from tests.factories import TEST_PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_sets_up_two_step_login_on_a_phone_then_logs_in_with_a_code(phone, org_a):
    log_in(phone, org_a.manager.username, TEST_PASSWORD)
    assert "/manage/" in phone.url
    assert TOTPDevice.objects.filter(user=org_a.manager, confirmed=True).count() == 1
    phone.context.clear_cookies()
    log_in(phone, org_a.manager.username, TEST_PASSWORD)
    # A code already used cannot be used again: the second login may need the next one.
    if "/accounts/two-factor/" in phone.url:
        phone.wait_for_timeout(31_000)
        log_in(phone, org_a.manager.username, TEST_PASSWORD)
    assert "/manage/" in phone.url
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360


def test_the_setup_page_fits_a_phone_and_runs_no_inline_script(phone, org_a):
    errors: list[str] = []
    phone.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    phone.goto("/accounts/login/")
    phone.get_by_label("Username").fill(org_a.manager.username)
    phone.get_by_label("Password").fill(TEST_PASSWORD)
    phone.get_by_role("button", name="Log in").click()
    phone.wait_for_load_state()
    assert "/accounts/two-factor/setup/" in phone.url
    assert phone.locator("#totp-qr svg").is_visible()
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360
    assert not [error for error in errors if "Content Security Policy" in error]
