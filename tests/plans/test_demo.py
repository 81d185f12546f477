"""The demo's plans and incentives: every new page shows something on `make run`, and seeding
again adds nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import transaction
from django.db.models import Count

from interventions.demo.case import DemoSummary, seed_demo
from interventions.models import Membership
from interventions.models.plans import IncentiveEntry, IncentiveRules, LifePlan, Milestone


@pytest.fixture(scope="module")
def demo(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[DemoSummary]:
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed_demo()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_demo_has_plans_and_a_year_of_incentives(demo: DemoSummary) -> None:
    assert LifePlan.objects.filter(status="approved").count() >= 10
    assert Milestone.objects.filter(met_on__isnull=False).exists()
    assert IncentiveRules.objects.filter(pays_incentives=True).exists()
    paid = IncentiveEntry.objects.filter(status="paid")
    months = set(paid.values_list("month", flat=True))
    assert len(months) >= 6, sorted(months)
    assert {"public_grant", "private_funds"} <= set(paid.values_list("funding_source", flat=True))
    assert IncentiveEntry.objects.filter(status="requested").exists()
    # Every entry respects the caps the services enforce.
    per_month = (
        IncentiveEntry.objects.values("enrollment", "month").annotate(n=Count("pk")).filter(n__gt=1)
    )
    assert not per_month.exists()
    assert all(e.decided_by_id != e.requested_by_id for e in paid)
    assert Membership.objects.filter(role=Membership.Role.FINANCE).count() == len(
        {login.organization for login in demo.logins if login.role == "Finance"}
    )


@pytest.mark.django_db
def test_seeding_again_adds_no_plan_or_entry(demo: DemoSummary) -> None:
    counts = (LifePlan.objects.count(), IncentiveEntry.objects.count(), Milestone.objects.count())
    seed_demo()
    assert (
        LifePlan.objects.count(),
        IncentiveEntry.objects.count(),
        Milestone.objects.count(),
    ) == counts
