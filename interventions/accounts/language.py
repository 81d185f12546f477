"""Which language the app speaks to a person (English or Spanish, settings.LANGUAGES).

1. A signed-in user's saved choice (`ReminderPreference.language`, on "Your settings"), kept in
   their session from the moment they log in, so no page asks the database for it.
2. Otherwise the English/Español switch (Django's language cookie), then the browser's
   Accept-Language: both read by Django's LocaleMiddleware, which runs first.
3. Reminders and e-mails, which have no browser, use the recipient's saved choice, else English
   (`language_for`).
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from interventions.models import ReminderPreference

SESSION_KEY = "gvr_language"


def is_supported(language: str | None) -> bool:
    return bool(language) and language in dict(settings.LANGUAGES)


def saved_language(user_id: int | None) -> str:
    """The user's saved language, or "" when they never chose one."""
    if user_id is None:
        return ""
    language = (
        ReminderPreference.objects.filter(user_id=user_id)
        .values_list("language", flat=True)
        .first()
    )
    return language if is_supported(language) else ""


def language_for(user_id: int | None) -> str:
    """The language to write to this user in when no browser tells it (reminders, e-mails)."""
    return saved_language(user_id) or translation.get_supported_language_variant(
        settings.LANGUAGE_CODE
    )


def browser_language(request: HttpRequest) -> str:
    """The language the cookie or the browser asks for (what LocaleMiddleware chose)."""
    return translation.get_language_from_request(request)


def remember(request: HttpRequest, language: str) -> None:
    """Keep the user's choice in their session ("" forgets it: the browser decides again)."""
    request.session[SESSION_KEY] = language if is_supported(language) else ""


def set_cookie(response: HttpResponse, language: str) -> None:
    """The language cookie too, so the pages after logging out stay in the same language."""
    if not is_supported(language):
        response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
        return
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=settings.LANGUAGE_COOKIE_SAMESITE,
    )


@receiver(user_logged_in, dispatch_uid="gvr_language_at_login")
def _remember_at_login(sender: object, request: HttpRequest | None, user, **kwargs: object) -> None:  # type: ignore[no-untyped-def]
    if request is not None and hasattr(request, "session"):
        language = saved_language(user.pk)
        remember(request, language)
        if language:
            # The rest of this request too ("You are logged in." in their language).
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]


class UserLanguageMiddleware:
    """After LocaleMiddleware and authentication: a saved choice in the session wins."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if is_supported(language):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        return self.get_response(request)
