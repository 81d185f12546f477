"""Tags the base template uses on every page: the form error summary (the GOV.UK pattern) and the
settings the field scripts read (static/js/offline.js, static/js/forms.js)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext

from interventions import access as selectors
from interventions.audit.signals import LAST_SEEN_KEY

register = template.Library()


@dataclass(frozen=True)
class SummaryError:
    message: str
    # The id of the field to jump to, and its name for when the page draws the field itself
    # (the session form's participant picker); empty for errors about the whole form.
    target: str = ""
    name: str = ""


def forms_with_errors(context: template.Context) -> list[forms.BaseForm]:
    """Every form of the page that the view checked and found errors in, whatever it named it
    (`form`, `review_form`, `quick_form`…). A form bound but never checked (`_errors` still
    unset) is not validated here: the page did not show it."""
    found: list[forms.BaseForm] = []
    for value in context.flatten().values():
        if (
            isinstance(value, forms.BaseForm)
            and value.is_bound
            and value._errors
            and all(value is not other for other in found)
        ):
            found.append(value)
    return found


def summary_errors(form: forms.BaseForm) -> list[SummaryError]:
    errors = [SummaryError(str(message)) for message in form.non_field_errors()]
    for name, messages in form.errors.items():
        if name == forms.forms.NON_FIELD_ERRORS or name not in form.fields:
            continue
        field = form[name]
        if field.is_hidden:
            # A hidden field's error (an expired form key) is about the form as a whole.
            errors.extend(SummaryError(str(message)) for message in messages)
            continue
        target = field.id_for_label or field.auto_id or ""
        if isinstance(field.field.widget, forms.RadioSelect) and field.auto_id:
            # Radio buttons and checkbox lists label no single input (and may have no choice
            # at all): jump to the group, which crispy wraps in "div_<id>".
            target = f"div_{field.auto_id}"
        errors.extend(
            SummaryError(f"{field.label}: {message}", target=target, name=field.html_name)
            for message in messages
        )
    return errors


@register.inclusion_tag("includes/error_summary.html", takes_context=True)
def error_summary(context: template.Context) -> dict[str, Any]:
    errors = [error for form in forms_with_errors(context) for error in summary_errors(form)]
    return {"errors": errors}


@register.simple_tag(takes_context=True)
def error_title_prefix(context: template.Context) -> str:
    return gettext("Error: ") if forms_with_errors(context) else ""


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
            "data-logout-url": reverse("logout"),
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
