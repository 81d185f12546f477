"""Working in the field: the installable app and the signed-in session.

- The web app manifest and the service worker (served from the site root so its scope is the
  whole site; the script is a template so it names the pages and static files it may keep).
- The offline queue's way in: a session logged without a connection is sent here when the
  connection returns, through the same session form view, so every rule of that form applies.
- The keep-alive behind "Stay signed in" (the idle limit is in interventions/accounts/security.py).

What the worker's phone may keep is decided in templates/field/sw.js and static/js/offline.js:
only the worker's home, caseload and session form, cleared at logout.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.contrib.messages import get_messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_POST

from interventions.audit.signals import LAST_SEEN_KEY
from interventions.views import worker

# Static files every page the app opens offline needs (the pages themselves are kept as they
# are visited).
OFFLINE_STATIC_FILES = (
    "vendor/bootstrap/bootstrap.min.css",
    "vendor/bootstrap/bootstrap.bundle.min.js",
    "vendor/htmx/htmx.min.js",
    "css/app.css",
    "css/session_form.css",
    "js/app.js",
    "js/worker.js",
    "js/session_form.js",
    "js/offline.js",
    "js/forms.js",
    "icons/icon.svg",
    "icons/icon-192.png",
)
# The pages kept for offline use, by URL name: the worker's home, caseload and session form.
OFFLINE_PAGES = ("home", "caseload", "session_log")


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    data = {
        "name": "GVR Case Manager",
        "short_name": "GVR Cases",
        "description": gettext("Log contacts and see your caseload, also without a connection."),
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#212529",
        "icons": [
            {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
            {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        ],
    }
    return HttpResponse(json.dumps(data, indent=2), content_type="application/manifest+json")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker script. Browsers check it for changes at least daily; `no-cache`
    makes them ask every time, and its cache name changes whenever the script does, so an
    update drops what the previous version kept."""
    context = {
        "pages": json.dumps([reverse(name) for name in OFFLINE_PAGES]),
        "static_files": json.dumps([static(path) for path in OFFLINE_STATIC_FILES]),
        "stylesheets": json.dumps([static("vendor/bootstrap/bootstrap.min.css")]),
        "links": json.dumps({"home": reverse("home"), "log": reverse("session_log")}),
    }
    body = loader.render_to_string("field/sw.js", context)
    version = hashlib.sha256(body.encode()).hexdigest()[:12]
    body = body.replace("__VERSION__", version)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    response["Service-Worker-Allowed"] = "/"
    return response


@require_POST
def send_queued_session(request: HttpRequest) -> HttpResponse:
    """A session the phone queued offline, sent through the session form view. Saved: JSON.
    Refused: the form page with its errors (status 422) for the phone to show; the phone
    keeps what was typed. Signed out: 401, and the phone keeps the session for later."""
    if not request.user.is_authenticated:
        return JsonResponse({"saved": False, "signed_in": False}, status=401)
    response = worker.session_log(request)
    if response.status_code == 302:
        # The form's confirmation is for a page the worker never sees; the phone says it.
        list(get_messages(request))
        return JsonResponse({"saved": True})
    if response.status_code == 200:
        response.status_code = 422
    return response


@require_POST
def keep_alive(request: HttpRequest) -> JsonResponse:
    """ "Stay signed in": a request that counts as activity, answering how long the session now
    lasts without another. A session that has already ended answers 401."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False}, status=401)
    request.session[LAST_SEEN_KEY] = int(timezone.now().timestamp())
    return JsonResponse({"signed_in": True, "seconds_left": settings.GVR_SESSION_IDLE_MINUTES * 60})
