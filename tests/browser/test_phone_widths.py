"""No page is wider than a 360 px phone, for any role.

Every route of the URL resolver that answers a GET with a page is opened at 360 px by a worker,
a manager, a finance member, an analyst and a city admin, over the demo data (long names, full
tables, a year of work) plus one record of each kind from the factories, and
`document.documentElement.scrollWidth` must not exceed the screen. The offenders are named with
their width. A route whose URL arguments cannot be filled fails the test (named), unless
SKIPPED_KWARGS of tests/security/routes.py gives the reason.

One browser, one signed-in context per role (its session made by the test client, two-step
login included), one tab reused from page to page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.access import ANALYST_GROUP
from interventions.demo.case import CITY_ADMIN_USERNAME, seed_demo
from interventions.models import (
    Incident,
    Membership,
    Participant,
    Program,
    ShootingReview,
    StreetGroup,
)
from interventions.models.plans import LifePlan
from tests.browser.conftest import PHONE
from tests.conftest import OrgSetup
from tests.factories import UserFactory
from tests.security.routes import SKIPPED_KWARGS, Route, all_routes, case_objects, fill_kwargs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH = PHONE["width"]
# Requesting these with GET would end the walk's own session.
NOT_WALKED = {"logout": "ends the session the walk is signed in with"}
# The admin's record pages are filled from the model named in the route (its first row).
ADMIN_RECORD_KWARGS = {"object_id"}


def _demo_world() -> tuple[OrgSetup, dict[str, Any], dict[str, Any]]:
    """The demo data, an organisation of it as the walk's home, its people by role, and one
    record of each kind (a demo record where the demo has a rich one)."""
    seed_demo()
    users = get_user_model().objects
    manager = users.get(username="gp-manager")
    organization = Membership.objects.get(user=manager).organization
    org = OrgSetup(
        organization=organization,
        program=Program.objects.filter(organization=organization).order_by("pk").first(),
        worker=users.get(username="gp-worker1"),
        manager=manager,
    )
    objects = case_objects(org)
    # The richest demo records, where the widths are met: a plan, many sessions, an incident.
    plan = (
        LifePlan.objects.filter(enrollment__program__organization=organization)
        .exclude(status=LifePlan.Status.SUPERSEDED)
        .order_by("pk")
        .first()
    )
    if plan is not None:
        objects.update(
            plan_id=plan.pk,
            enrollment_id=plan.enrollment_id,
            participant_id=plan.enrollment.participant_id,
        )
    else:
        objects["participant_id"] = (
            Participant.objects.filter(organization=organization).order_by("pk").first().pk
        )
    incident = Incident.objects.order_by("-pk").first()
    if incident is not None:
        objects["incident_id"] = incident.pk
    group = StreetGroup.objects.order_by("pk").first()
    if group is not None:
        objects["streetgroup_id"] = group.pk
    analyst = UserFactory(username="walk-analyst")
    analyst.groups.add(Group.objects.get_or_create(name=ANALYST_GROUP)[0])
    people = {
        "worker": org.worker,
        "manager": manager,
        "finance": users.get(username="gp-finance"),
        "analyst": analyst,
        "city admin": users.get(username=CITY_ADMIN_USERNAME),
    }
    _admin_only_rows(org)
    return org, objects, people


def _admin_only_rows(org: OrgSetup) -> None:
    """A row of each model the demo does not fill, so its admin pages can be opened too."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    now = timezone.now()
    seen = {"user_agent": "Walk", "ip_address": "127.0.0.1", "username": "gp-worker1"}
    seen.update(http_accept="text/html", path_info="/accounts/login/", attempt_time=now)
    AccessAttempt.objects.create(**seen, get_data="", post_data="", failures_since_start=1)
    AccessFailureLog.objects.create(**seen)
    AccessLog.objects.create(**seen)
    StaticDevice.objects.create(user=org.manager, name="backup")
    TOTPDevice.objects.get_or_create(user=org.manager, defaults={"name": "Walk", "confirmed": True})
    ShootingReview.objects.create(
        period_start=now.date() - timedelta(days=6),
        period_end=now.date(),
        organization=org.organization,
        decisions="Reach the two people named at the call-in before Friday.",
        recorded_by=org.manager,
    )


def _admin_kwargs(route: Route) -> dict[str, Any] | None:
    """`object_id` of an admin record page: the first row of the route's model."""
    # admin:<app_label>_<model>_<change|delete|history>
    name = route.name.removeprefix("admin:")
    for model in apps.get_models():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        if name.startswith(prefix):
            first = model._default_manager.order_by("pk").first()
            return None if first is None else {"object_id": str(first.pk)}
    return None


def _urls(objects: dict[str, Any]) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """(route name, URL, admin?) of every GET page to walk, and the routes that cannot be filled."""
    urls, unfilled = [], []
    for route in all_routes():
        if route.name in NOT_WALKED:
            continue
        admin = route.name.startswith("admin:")
        admin_record = admin and set(route.kwarg_names) == ADMIN_RECORD_KWARGS
        kwargs = _admin_kwargs(route) if admin_record else fill_kwargs(route, objects)
        if kwargs is None:
            missing = [name for name in route.kwarg_names if name not in objects]
            explained = admin_record is False and all(name in SKIPPED_KWARGS for name in missing)
            if not explained:
                unfilled.append(route.name)
            continue
        urls.append((route.name, reverse(route.name, kwargs=kwargs), admin))
    return urls, unfilled


def _signed_in_context(chromium, live_server, user):  # type: ignore[no-untyped-def]
    """A phone-sized browser context holding a complete session of `user`."""
    client = Client()
    client.force_login(user)
    context = chromium.new_context(viewport=PHONE, base_url=live_server.url, is_mobile=True)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context, client


def _html_pages(client: Client, urls: list[tuple[str, str, bool]], admin_too: bool) -> list:
    """The URLs that answer this user with a whole HTML page: not a download, a redirect, a
    refusal, or a fragment that htmx puts into a page (that page is measured instead)."""
    client.raise_request_exception = False
    pages = []
    for name, url, admin in urls:
        if admin and not admin_too:
            continue
        response = client.get(url)
        if response.status_code >= 300 or getattr(response, "streaming", False):
            continue
        if not response.get("Content-Type", "").startswith("text/html"):
            continue
        if b"<html" in response.content[:500].lower():
            pages.append((name, url))
    return pages


# The page's width, and what sticks out: elements past the right edge of the screen, and boxes
# that scroll sideways (a table too wide for its .table-responsive hides its last columns).
MEASURE = """() => {
  const screen = document.documentElement.clientWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "")
    + [...el.classList].map((c) => "." + c).join("");
  const outside = [...document.querySelectorAll("main *")]
    .filter((el) => !el.closest("thead, .visually-hidden"))
    .filter((el) => el.getBoundingClientRect().right > screen + 1)
    .filter((el) => el.getBoundingClientRect().width > 0).slice(0, 3).map(name);
  const scrolling = [...document.querySelectorAll("main .table-responsive")]
    .filter((el) => el.scrollWidth > el.clientWidth + 1 && !el.querySelector(".table-keep"))
    .map((el) => name(el.querySelector("table") || el));
  return {width: document.documentElement.scrollWidth, outside, scrolling};
}"""


def measure(page, url: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    page.goto(url, wait_until="load")
    return page.evaluate(MEASURE)


def test_no_page_is_wider_than_a_phone_for_any_role(chromium, live_server) -> None:  # type: ignore[no-untyped-def]
    _org, objects, people = _demo_world()
    urls, unfilled = _urls(objects)
    assert unfilled == [], f"routes the walk cannot fill: {unfilled}"
    too_wide: dict[str, str] = {}
    walked = 0
    for role, user in people.items():
        context, client = _signed_in_context(chromium, live_server, user)
        page = context.new_page()
        page.set_default_timeout(20_000)
        try:
            for name, url in _html_pages(client, urls, admin_too=role == "city admin"):
                walked += 1
                seen = measure(page, url)
                if seen["width"] > WIDTH or seen["scrolling"]:
                    too_wide[f"{name} as {role} ({url})"] = (
                        f"{seen['width']} px; sticking out: {seen['outside']}; "
                        f"scrolling sideways: {seen['scrolling']}"
                    )
        finally:
            context.close()
    # The walk reached the pages, not only error pages.
    assert walked > 150, walked
    assert too_wide == {}, "pages wider than 360 px, or with tables scrolling sideways:\n" + (
        "\n".join(f"{where}: {what}" for where, what in sorted(too_wide.items()))
    )
