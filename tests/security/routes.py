"""Every URL of the project, from the resolver, with keyword arguments filled from factories so
each route can be requested. A route whose arguments cannot be filled is listed in SKIPPED with
the reason, never silently dropped."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

# Keyword arguments that no test object can fill, and why.
SKIPPED_KWARGS = {
    "object_id": "admin change/delete/history pages: covered by the admin's own tests",
    "id": "admin user password change page (needs a user id, not a record)",
    "app_label": "admin app index: needs an app label, not a record",
    "content_type_id": "admin 'view on site' redirect",
    "uidb64": "password reset and staff invitation links (a one-time token, no case data)",
    "token": "password reset and staff invitation links (a one-time token, no case data)",
    "pk": "django-otp's admin pages showing a device's secret: refused to everyone "
    "(tests/security/test_two_factor.py)",
}


@dataclass(frozen=True)
class Route:
    name: str
    pattern: str
    kwarg_names: tuple[str, ...]
    callback: Any


def _walk(
    patterns: list[Any], prefix: str = "", namespace: str = ""
) -> Iterator[tuple[str, str, Any, tuple[str, ...]]]:
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern) and entry.name:
            full = prefix + str(entry.pattern)
            converters = getattr(entry.pattern, "converters", {})
            names = tuple(converters) or tuple(entry.pattern.regex.groupindex)
            yield f"{namespace}{entry.name}", full, entry.callback, names


def all_routes() -> list[Route]:
    seen: dict[str, Route] = {}
    for name, pattern, callback, names in _walk(get_resolver().url_patterns):
        seen.setdefault(name, Route(name, pattern, names, callback))
    return sorted(seen.values(), key=lambda route: route.name)


def is_admin(route: Route) -> bool:
    return route.name.startswith("admin:")


def fill_kwargs(route: Route, objects: dict[str, Any]) -> dict[str, Any] | None:
    """The route's kwargs from `objects` (kwarg name -> value), or None when one is missing."""
    values = {}
    for name in route.kwarg_names:
        if name not in objects:
            return None
        values[name] = objects[name]
    return values


def case_objects(org: Any) -> dict[str, Any]:
    """One record of each kind in `org`, keyed by the URL kwarg naming convention."""
    from django.apps import apps

    from tests import factories

    participant = factories.ParticipantFactory(organization=org.organization)
    enrollment = factories.EnrollmentFactory(participant=participant, program=org.program)
    session = factories.SessionFactory(
        organization=org.organization, worker=org.worker, participants=[participant]
    )
    referral = factories.ReferralFactory(participant=participant, made_by=org.worker)
    objects: dict[str, Any] = {
        "participant_id": participant.pk,
        "enrollment_id": enrollment.pk,
        "session_id": session.pk,
        "referral_id": referral.pk,
        "organization_id": org.organization.pk,
        "program_id": org.program.pk,
    }
    from tests.plans.factories import plan_objects

    objects.update(plan_objects(org, enrollment))
    # Any other `<model>_id` kwarg: build one with its factory when there is one.
    for model in apps.get_app_config("interventions").get_models():
        keys = [f"{_snake(model.__name__)}_id", f"{model.__name__.lower()}_id"]
        if all(key in objects for key in keys):
            continue
        factory = getattr(factories, f"{model.__name__}Factory", None)
        if factory is None:
            continue
        try:
            kwargs = _factory_kwargs(model, org, participant)
            pk = factory(**kwargs).pk
        except Exception:  # noqa: S112 - a factory that needs more: the route is reported
            continue
        for key in keys:
            objects.setdefault(key, pk)
    return objects


def _factory_kwargs(model: Any, org: Any, participant: Any) -> dict[str, Any]:
    fields = {field.name for field in model._meta.get_fields()}
    kwargs: dict[str, Any] = {}
    if "participant" in fields:
        kwargs["participant"] = participant
    if "organization" in fields:
        kwargs["organization"] = org.organization
    return kwargs


def _snake(name: str) -> str:
    out = []
    for index, char in enumerate(name):
        if char.isupper() and index:
            out.append("_")
        out.append(char.lower())
    return "".join(out)
