"""Browser tests: Playwright (Python) driving Debian's Chromium at a phone viewport.

They skip on a machine without Chromium, except where GVR_REQUIRE_BROWSER=1 (CI): there a missing
browser fails the run instead of passing it silently.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator

import pytest

CHROMIUM = os.environ.get("GVR_CHROMIUM", "/usr/bin/chromium")
PHONE = {"width": 360, "height": 780}

# Playwright's sync API runs an event loop in the test thread; Django's guard against database
# access from async code would otherwise refuse the test's own (synchronous) setup queries.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# Uncaught JavaScript errors ("pageerror") of every page of every context the browser opens,
# emptied before each test and checked after it: a script that throws fails the test that met
# it, whatever the test was looking at.
PAGE_ERRORS: list[str] = []


def _watch_page(page) -> None:  # type: ignore[no-untyped-def]
    page.on("pageerror", lambda error: PAGE_ERRORS.append(f"{page.url}: {error}"))


def _watching_contexts(browser) -> None:  # type: ignore[no-untyped-def]
    """Every context made through `browser.new_context` reports its pages' errors."""
    original = browser.new_context

    def new_context(*args, **kwargs):  # type: ignore[no-untyped-def]
        context = original(*args, **kwargs)
        context.on("page", _watch_page)
        return context

    browser.new_context = new_context


@pytest.fixture(autouse=True)
def no_uncaught_javascript_errors() -> Iterator[None]:
    PAGE_ERRORS.clear()
    yield
    # Set up before the page fixtures, so checked after they closed their contexts (which
    # delivers any event still on its way).
    errors, PAGE_ERRORS[:] = list(PAGE_ERRORS), []
    assert not errors, f"uncaught JavaScript errors: {errors}"


def _chromium_available() -> bool:
    return os.path.exists(CHROMIUM) or shutil.which(CHROMIUM) is not None


# The one browser of the run. Other folders' conftests import these fixtures (tests/plans), which
# makes a second session fixture of the same function: it shares this browser, as a second
# Playwright could not start inside the first one's event loop.
_SHARED: dict[str, object] = {}


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if "browser" in _SHARED:
        yield _SHARED["browser"]
        return
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = "playwright is not installed"
    if reason is None and not _chromium_available():
        reason = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if reason is not None:
        if os.environ.get("GVR_REQUIRE_BROWSER") == "1":
            pytest.fail(f"browser tests are required here but cannot run: {reason}")
        pytest.skip(reason)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        _watching_contexts(browser)
        _SHARED["browser"] = browser
        try:
            yield browser
        finally:
            _SHARED.pop("browser", None)
            browser.close()


@pytest.fixture
def phone(chromium, live_server):  # type: ignore[no-untyped-def]
    """A fresh phone-sized page; `phone.goto("/path")` is relative to the live server."""
    context = chromium.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def log_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    """Log in as a person would, second factor included: when the site asks for a code (or to
    set up an authenticator), type the one the user's authenticator shows now."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if "/accounts/two-factor/setup/" in page.url:
        secret = page.locator("#totp-secret").inner_text().replace(" ", "")
        page.get_by_label("Code").fill(
            _totp_code(base64.b32decode(secret + "=" * (-len(secret) % 8)))
        )
        page.get_by_role("button", name="Confirm").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="I have saved them").click()
        page.wait_for_load_state()
    elif "/accounts/two-factor/" in page.url:
        from django_otp.plugins.otp_totp.models import TOTPDevice

        device = TOTPDevice.objects.filter(user__username=username, confirmed=True).first()
        page.get_by_label("Code").fill(_totp_code(device.bin_key, device.drift))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_load_state()


def _totp_code(key: bytes, drift: int = 0) -> str:
    from django_otp.oath import TOTP

    return f"{TOTP(key, drift=drift).token():06d}"
