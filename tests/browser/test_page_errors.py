"""The browser-wide listener of tests/browser/conftest.py sees an uncaught JavaScript error."""

import pytest

from tests.browser.conftest import PAGE_ERRORS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_uncaught_error_is_reported_to_the_test(phone) -> None:  # type: ignore[no-untyped-def]
    phone.set_content("<script>throw new Error('deliberate failure for the listener')</script>")
    phone.evaluate("1")  # a round trip, so the page's events have arrived
    assert any("deliberate failure for the listener" in error for error in PAGE_ERRORS)
    PAGE_ERRORS.clear()  # seen: this test must not fail for the error it made on purpose


def test_a_second_context_is_watched_too(chromium, live_server) -> None:  # type: ignore[no-untyped-def]
    page = chromium.new_context().new_page()
    page.set_content("<script>undefinedFunctionForTheListener()</script>")
    page.evaluate("1")
    page.context.close()
    assert any("undefinedFunctionForTheListener" in error for error in PAGE_ERRORS)
    PAGE_ERRORS.clear()
