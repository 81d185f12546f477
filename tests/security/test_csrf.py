"""CSRF on every POST, and no change to any data on a GET."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db.models import Max
from django.test import Client
from django.urls import reverse

from interventions.audit.models import AuditEvent
from tests.conftest import logged_in
from tests.security.routes import SKIPPED_KWARGS, all_routes, case_objects, fill_kwargs

pytestmark = pytest.mark.django_db

SNAPSHOT_APPS = ("interventions", "metrics", "audit", "auth")


def _snapshot() -> dict[str, tuple[int, object]]:
    state = {}
    for label in SNAPSHOT_APPS:
        for model in apps.get_app_config(label).get_models():
            if model is AuditEvent:
                continue
            changed = None
            if any(field.name == "updated_at" for field in model._meta.fields):
                changed = model.objects.aggregate(latest=Max("updated_at"))["latest"]
            state[model._meta.label] = (model.objects.count(), changed)
    # Case data changes are recorded by the database triggers: none may appear.
    state["audit.changes"] = (
        AuditEvent.objects.filter(action__in=["create", "update", "delete"]).count(),
        None,
    )
    return state


def _routes_with_urls(objects: dict[str, object]) -> list[tuple[str, str]]:
    """Every route, its kwargs filled; a route is left out only when a kwarg it takes is in
    SKIPPED_KWARGS (with the reason). Any other kwarg that cannot be filled fails the walk, so
    a new record URL is never silently missing from it."""
    out, unfillable = [], []
    for route in all_routes():
        kwargs = fill_kwargs(route, objects)
        if kwargs is not None:
            out.append((route.name, reverse(route.name, kwargs=kwargs)))
            continue
        unknown = [name for name in route.kwarg_names if name not in objects]
        if set(unknown) - SKIPPED_KWARGS.keys():
            unfillable.append(f"{route.name} ({route.pattern}): {unknown}")
    if unfillable:
        pytest.fail(
            "routes whose kwargs the walk cannot fill (add a factory, or the kwarg to "
            f"SKIPPED_KWARGS in tests/security/routes.py with the reason): {unfillable}"
        )
    return out


def test_every_post_without_a_csrf_token_is_refused(org_a):
    objects = case_objects(org_a)
    clients = {}
    for role, user in (("worker", org_a.worker), ("manager", org_a.manager)):
        client = Client(enforce_csrf_checks=True)
        client.force_login(user)
        clients[role] = client
    before = _snapshot()
    accepted = []
    for name, url in _routes_with_urls(objects):
        for role, client in clients.items():
            response = client.post(url, {"confirm": "yes"})
            if response.status_code != 403 or b"CSRF" not in response.content:
                accepted.append(f"{name} as {role}: {response.status_code}")
    assert accepted == []
    assert _snapshot() == before


def test_a_post_with_the_token_is_not_refused_for_csrf(org_a):
    # The check above must be able to fail: with a token, the same client gets past CSRF.
    client = Client(enforce_csrf_checks=True)
    client.force_login(org_a.worker)
    client.get(reverse("home"))
    token = client.cookies["csrftoken"].value
    response = client.post(reverse("logout"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_get_changes_nothing_on_any_route(org_a):
    objects = case_objects(org_a)
    admin = org_a.manager
    admin.is_staff = admin.is_superuser = True
    admin.save()
    clients = {"worker": logged_in(org_a.worker), "manager": logged_in(admin)}
    for client in clients.values():
        # A view that crashes is reported by test_no_page_answers_with_a_server_error; the walk
        # goes on.
        client.raise_request_exception = False
    before = _snapshot()
    changed = []
    for name, url in _routes_with_urls(objects):
        if name == "logout":
            continue  # GET on logout is refused (405) by Django; checked below
        for role, client in clients.items():
            if role == "worker" and name.startswith("admin:"):
                continue
            client.get(url)
            after = _snapshot()
            if after != before:
                diff = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
                changed.append(f"{name} as {role}: {diff}")
                before = after
    assert changed == []


def test_logout_by_get_is_refused_and_keeps_the_session(org_a):
    client = logged_in(org_a.worker)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
