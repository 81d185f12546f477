"""The analyst sees aggregates only: the metrics dashboard, small counts suppressed as for any
city-wide viewer, and nothing else: never a name, never a note."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from interventions.access import ANALYST_GROUP
from metrics.selectors import dashboard_scope
from tests.access.conftest import fresh
from tests.conftest import logged_in
from tests.factories import AreaFactory
from tests.test_scoping import ROUTES

pytestmark = pytest.mark.django_db


def test_an_analyst_sees_the_metrics_city_wide_with_small_counts_suppressed(analyst):
    AreaFactory(name="Bakersfield", slug="bakersfield")  # the dashboard's default area
    scope = dashboard_scope(fresh(analyst))
    assert scope is not None
    assert scope.organizations is None and scope.suppress_small_counts
    client = logged_in(analyst)
    assert client.get(reverse("metrics:dashboard")).status_code == 200
    home = client.get(reverse("home")).content.decode()
    assert reverse("metrics:dashboard") in home
    assert reverse("incident_list") not in home, "no case pages in the analyst's menu"


def test_without_the_aggregate_permission_the_analyst_group_sees_nothing(analyst):
    Group.objects.get(name=ANALYST_GROUP).permissions.remove(
        Permission.objects.get(codename="view_aggregate_metrics")
    )
    assert dashboard_scope(fresh(analyst)) is None
    assert logged_in(analyst).get(reverse("metrics:dashboard")).status_code == 403


def test_every_page_but_the_metrics_refuses_an_analyst(analyst, a_record):
    """Every GET route of the site outside the metrics and the login pages: 403 or 404 (or the
    admin's login) for an analyst. Record URLs name A's records."""
    ids = {
        "participant_id": a_record.participant.pk,
        "enrollment_id": a_record.enrollment.pk,
        "session_id": a_record.session.pk,
        "referral_id": a_record.referral.pk,
    }
    client = logged_in(analyst)
    # The home page, the account pages, the health check, the metrics and the funder report
    # (counts only, small ones suppressed: tests/outcomes/test_report.py) are theirs too, and so
    # are the installable app's service worker and manifest (files of the site, no case data).
    theirs = ("accounts/", "metrics/", "healthz", "manage/report/", "sw.js", "manifest.webmanifest")
    checked = 0
    for route in ROUTES:
        if route.route == "" or route.route.startswith(theirs):
            continue
        kwargs = {name: ids.get(name, 1) for name in route.kwargs}
        response = client.get(reverse(route.name, kwargs=kwargs))
        assert response.status_code in {403, 404, 405}, (route.route, response.status_code)
        checked += 1
    assert checked > 30
