"""Writing audit events from Python: logins, page views, exports."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponseBase

# The types the `detail` column may hold: metadata such as a format or a row count, never text
# typed about a person.
_DETAIL_TYPES = (str, int, float, bool, type(None))


def _participant_id_of(obj: models.Model) -> int | None:
    if obj._meta.model_name == "participant" and obj._meta.app_label == "interventions":
        return obj.pk
    participant_id = getattr(obj, "participant_id", None)
    return participant_id if isinstance(participant_id, int) else None


def record(
    request: HttpRequest | None,
    action: str,
    obj: models.Model | None = None,
    outcome: str = "ok",
    *,
    object_type: str | None = None,
    object_id: int | None = None,
    participant_id: int | None = None,
    user: Any = None,
    username: str | None = None,
    **extra: Any,
) -> Any:
    """Append one audit event and return it.

    `obj` fills the object type, id and (when it belongs to one) participant id; the keyword
    arguments override them for events without an object at hand (`object_type="participant",
    object_id=participant_id` before the record is fetched, or `object_type="caseload_export"`
    for an export). `extra` lands in `detail` and must not contain personal data: keep it to
    codes and counts (`format="csv", rows=120`)."""
    from interventions.audit.middleware import client_ip
    from interventions.audit.models import AuditEvent

    if user is None and request is not None:
        candidate = getattr(request, "user", None)
        if candidate is not None and candidate.is_authenticated:
            user = candidate
    if obj is not None:
        object_type = object_type or obj._meta.model_name
        object_id = object_id if object_id is not None else obj.pk
        if participant_id is None:
            participant_id = _participant_id_of(obj)
    detail = {key: value for key, value in extra.items() if isinstance(value, _DETAIL_TYPES)}
    return AuditEvent.objects.create(
        user_id=user.pk if user is not None else None,
        username=(username if username is not None else (user.get_username() if user else ""))[
            :150
        ],
        action=action,
        object_type=object_type or "",
        object_id=object_id,
        participant_id=participant_id,
        ip_address=client_ip(request) if request is not None else None,
        outcome=outcome,
        path=request.path[:500] if request is not None else "",
        detail=detail,
    )


def audited_view(
    action: str, object_type: str, *, kwarg: str | None = None, shown_only: bool = False
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Record `action` on the object named by the URL keyword `kwarg` (default
    `<object_type>_id`) after the view answers: `ok` for a success, `denied` for 403/404, nothing
    for other errors (a form error has shown nothing yet).

        @login_required
        @audited_view("view", "participant")
        def participant_detail(request, participant_id): ...

    `shown_only` is for a form page about the object (a new referral for a participant): `ok` is
    recorded when the page is shown (200), not for the redirect after a save, which shows
    nothing and whose write the database records."""
    key = kwarg or f"{object_type}_id"

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            try:
                response = view(request, *args, **kwargs)
            except (Http404, PermissionDenied):
                _record_view(request, action, object_type, kwargs.get(key), "denied")
                raise
            if response.status_code == 200 or (response.status_code < 400 and not shown_only):
                _record_view(request, action, object_type, kwargs.get(key), "ok")
            elif response.status_code in (403, 404):
                _record_view(request, action, object_type, kwargs.get(key), "denied")
            return response

        return wrapper

    return decorator


def _record_view(
    request: HttpRequest, action: str, object_type: str, object_id: Any, outcome: str
) -> None:
    object_id = int(object_id) if object_id is not None else None
    record(
        request,
        action,
        object_type=object_type,
        object_id=object_id,
        participant_id=object_id if object_type == "participant" else None,
        outcome=outcome,
    )


def record_participants_viewed(
    request: HttpRequest, participant_ids: Iterable[int | None], *, shown_on: models.Model
) -> None:
    """One view event for each participant a page shows, when the page is about something else
    (an incident and its victims, a street group's members, a plan): so "who has looked at this
    person" is answered by the participant's own events, whichever page showed them. `shown_on`
    is the page's object, kept as its type and id in `detail`."""
    from interventions.audit.middleware import client_ip
    from interventions.audit.models import AuditEvent

    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        user = None
    ip_address, path = client_ip(request), request.path[:500]
    detail = {"shown_on": shown_on._meta.model_name, "shown_on_id": shown_on.pk}
    AuditEvent.objects.bulk_create(
        AuditEvent(
            user_id=user.pk if user is not None else None,
            username=user.get_username()[:150] if user is not None else "",
            action=AuditEvent.Action.VIEW,
            object_type="participant",
            object_id=participant_id,
            participant_id=participant_id,
            ip_address=ip_address,
            outcome="ok",
            path=path,
            detail=detail,
        )
        for participant_id in sorted({pid for pid in participant_ids if pid is not None})
    )
