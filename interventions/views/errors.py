"""The refusal pages: a 403 and a failed CSRF check in the site's layout, with a plain reason and
the way back, instead of Django's bare pages. A stale form is the common case: a page left open
past the session's end, or a sign-in in another tab; the drafts kept on the device
(static/js/forms.js) mean what was typed is still there when the worker goes back."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseForbidden
from django.template import loader
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy

# Shown when a PermissionDenied carries no message of its own.
DEFAULT_REASON = gettext_lazy("Your account does not give you access to this page.")


def _way_back(request: HttpRequest) -> str:
    """The page the person came from when it is on this site, else their start page."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return reverse("home")


def permission_denied(
    request: HttpRequest, exception: Exception | None = None
) -> HttpResponseForbidden:
    # The messages of the PermissionDenied raised in this project are written for the reader
    # ("Only an organisation's managers can open this page.").
    reason = str(exception) if exception is not None and str(exception) else DEFAULT_REASON
    context = {"reason": reason, "way_back": _way_back(request)}
    return HttpResponseForbidden(loader.render_to_string("403.html", context, request=request))


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponseForbidden:
    """CSRF_FAILURE_VIEW. `reason` is Django's technical one; the page says what happened in
    words and keeps the word CSRF for whoever reports it."""
    signed_in = request.user.is_authenticated if hasattr(request, "user") else False
    context = {"way_back": _way_back(request), "signed_in": signed_in}
    return HttpResponseForbidden(loader.render_to_string("403_csrf.html", context, request=request))
