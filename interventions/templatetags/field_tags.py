"""Tags the base template uses on every page: the settings the field scripts read
(static/js/offline.js, static/js/forms.js)."""

from __future__ import annotations

from django import template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from interventions import selectors
from interventions.audit.signals import LAST_SEEN_KEY

register = template.Library()


@register.simple_tag(takes_context=True)
def field_app_attributes(context: template.Context) -> str:
    """Data attributes for <body>: where the field scripts send things and, for a signed-in
    user, who it is and how long the session lasts without activity. Only an outreach worker's
    phone keeps anything offline (`data-offline-user`)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    attributes: dict[str, str] = {"data-manifest-scope": "/"}
    if user is None or not user.is_authenticated:
        attributes["data-signed-out"] = ""
        return format_html_join(" ", '{}="{}"', attributes.items())
    idle_limit = settings.GVR_SESSION_IDLE_MINUTES * 60
    now = int(timezone.now().timestamp())
    last_seen = int(request.session.get(LAST_SEEN_KEY, now))
    attributes.update(
        {
            "data-user": str(user.pk),
            "data-idle-seconds": str(idle_limit),
            "data-idle-seconds-left": str(max(0, idle_limit - (now - last_seen))),
            "data-keep-alive-url": reverse("keep_alive"),
            "data-login-url": reverse("login"),
        }
    )
    roles = context.get("roles")
    if roles is None:
        roles = selectors.user_roles(user)
    if selectors.OUTREACH_WORKER in roles:
        attributes.update(
            {
                "data-offline-user": str(user.pk),
                "data-service-worker-url": reverse("service_worker"),
                "data-send-url": reverse("send_queued_session"),
                "data-session-form-url": reverse("session_log"),
            }
        )
    return format_html_join(" ", '{}="{}"', attributes.items())


@register.simple_tag
def app_icon_links() -> str:
    return format_html(
        '<link rel="icon" href="{}" type="image/svg+xml">\n'
        '  <link rel="icon" href="{}" sizes="32x32" type="image/png">\n'
        '  <link rel="apple-touch-icon" href="{}">\n'
        '  <link rel="manifest" href="{}">',
        static("icons/icon.svg"),
        static("icons/icon-32.png"),
        static("icons/apple-touch-icon.png"),
        reverse("manifest"),
    )
