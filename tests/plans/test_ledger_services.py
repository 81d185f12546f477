"""The incentive ledger's services: every write and its refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from interventions.errors import ServiceError
from interventions.models.plans import FundingSource, IncentiveEntry
from interventions.services.plans import (
    approve_incentive,
    decline_incentive,
    mark_incentive_paid,
    month_of,
    request_incentive,
    reverse_incentive,
)
from tests.plans.conftest import make_plan_world

pytestmark = pytest.mark.django_db

THIS_MONTH = month_of(timezone.localdate())


def request(pw, milestones=None, amount=50_000, by=None, month=THIS_MONTH, source=None):
    return request_incentive(
        milestones=milestones or pw.met[:1],
        by=by or pw.org.worker,
        month=month,
        amount_cents=amount,
        funding_source=source or FundingSource.PUBLIC_GRANT,
    )


def paid(pw, entry):
    approve_incentive(entry=entry, by=pw.org.manager)
    return mark_incentive_paid(
        entry=entry, by=pw.finance, paid_on=timezone.localdate(), method="check", reference="1042"
    )


def test_request_approve_and_pay(pw):
    entry = request(pw, milestones=pw.met[:2])
    assert entry.status == IncentiveEntry.Status.REQUESTED
    assert set(entry.milestones.all()) == set(pw.met[:2])
    entry = paid(pw, entry)
    entry.refresh_from_db()
    assert entry.status == IncentiveEntry.Status.PAID
    assert (entry.decided_by, entry.paid_by) == (pw.org.manager, pw.finance)
    assert (entry.payment_method, entry.payment_reference, entry.amount_cents) == (
        "check",
        "1042",
        50_000,
    )


def test_monthly_cap_exceeded_at_request(pw):
    request(pw, milestones=[pw.met[0]], amount=60_000)
    with pytest.raises(ServiceError, match="Monthly cap exceeded"):
        request(pw, milestones=[pw.met[1]], amount=40_001)
    assert IncentiveEntry.objects.count() == 1


def test_total_cap_exceeded_at_request(pw):
    pw.rules.total_cap_cents = 120_000
    pw.rules.save()
    last_month = month_of(THIS_MONTH - timedelta(days=1))
    request(pw, milestones=[pw.met[0]], amount=100_000, month=last_month)
    with pytest.raises(ServiceError, match="Total cap exceeded"):
        request(pw, milestones=[pw.met[1]], amount=30_000)


def test_max_months(pw):
    pw.rules.max_months = 1
    pw.rules.save()
    request(
        pw, milestones=[pw.met[0]], amount=10_000, month=month_of(THIS_MONTH - timedelta(days=1))
    )
    with pytest.raises(ServiceError, match="at most 1 months"):
        request(pw, milestones=[pw.met[1]], amount=10_000)


def test_caps_are_checked_again_at_approval(pw):
    first = request(pw, milestones=[pw.met[0]], amount=60_000)
    second = request(pw, milestones=[pw.met[1]], amount=40_000)
    # The program lowers its cap after both were requested.
    pw.rules.monthly_cap_cents = 70_000
    pw.rules.save()
    approve_incentive(entry=first, by=pw.org.manager)
    with pytest.raises(ServiceError, match="Monthly cap exceeded"):
        approve_incentive(entry=second, by=pw.org.manager)
    second.refresh_from_db()
    assert second.status == IncentiveEntry.Status.REQUESTED


def test_a_declined_request_frees_the_cap_and_its_milestones(pw):
    entry = request(pw, amount=100_000)
    decline_incentive(entry=entry, by=pw.org.manager, reason="Wrong month")
    again = request(pw, amount=100_000)
    assert again.pk != entry.pk


def test_not_yet_eligible(org_a):
    pw = make_plan_world(org_a, months_enrolled=3)
    with pytest.raises(ServiceError, match="Not yet eligible"):
        request(pw)
    assert not IncentiveEntry.objects.exists()


def test_eligibility_is_checked_again_at_approval(pw):
    entry = request(pw)
    pw.rules.months_before_eligible = 24
    pw.rules.save()
    with pytest.raises(ServiceError, match="Not yet eligible"):
        approve_incentive(entry=entry, by=pw.org.manager)


def test_a_program_that_pays_no_incentives(pw):
    pw.rules.pays_incentives = False
    pw.rules.save()
    with pytest.raises(ServiceError, match="does not pay incentives"):
        request(pw)


def test_a_funding_source_the_program_does_not_use(pw):
    pw.rules.funds_private = False
    pw.rules.save()
    with pytest.raises(ServiceError, match="from that source"):
        request(pw, source=FundingSource.PRIVATE_FUNDS)


def test_only_met_milestones_of_an_approved_plan(pw):
    with pytest.raises(ServiceError, match="milestones that are met"):
        request(pw, milestones=[pw.open[0]])


def test_a_milestone_is_paid_once(pw):
    request(pw, milestones=[pw.met[0]], amount=10_000)
    with pytest.raises(ServiceError, match="already has an incentive"):
        request(pw, milestones=[pw.met[0], pw.met[1]], amount=10_000)


def test_future_months_and_zero_amounts_are_refused(pw):
    with pytest.raises(ServiceError, match="not a future one"):
        request(pw, month=month_of(THIS_MONTH + timedelta(days=40)))
    with pytest.raises(ServiceError, match="above zero"):
        request(pw, amount=0)


def test_self_approval_is_refused(pw):
    entry = request(pw, by=pw.org.manager)
    with pytest.raises(ServiceError, match="other than its requester"):
        approve_incentive(entry=entry, by=pw.org.manager)
    with pytest.raises(ServiceError, match="other than its requester"):
        decline_incentive(entry=entry, by=pw.org.manager, reason="no")
    assert approve_incentive(entry=entry, by=pw.manager2).status == IncentiveEntry.Status.APPROVED


def test_only_a_manager_approves_and_only_finance_pays(pw):
    entry = request(pw)
    with pytest.raises(ServiceError, match="Only managers"):
        approve_incentive(entry=entry, by=pw.finance)
    approve_incentive(entry=entry, by=pw.org.manager)
    for not_finance in (pw.org.worker, pw.org.manager):
        with pytest.raises(ServiceError, match="Only finance staff"):
            mark_incentive_paid(
                entry=entry, by=not_finance, paid_on=timezone.localdate(), method="cash"
            )


def test_another_organisation_cannot_decide_or_pay(pw, org_b):
    entry = request(pw)
    with pytest.raises(ServiceError):
        approve_incentive(entry=entry, by=org_b.manager)


def test_paying_a_declined_request_is_refused(pw):
    entry = request(pw)
    decline_incentive(entry=entry, by=pw.org.manager, reason="Not this month")
    with pytest.raises(ServiceError, match="Only an approved entry"):
        mark_incentive_paid(entry=entry, by=pw.finance, paid_on=timezone.localdate(), method="cash")
    entry.refresh_from_db()
    assert entry.status == IncentiveEntry.Status.DECLINED and entry.paid_by is None


def test_paying_twice_and_deciding_twice_are_refused(pw):
    entry = paid(pw, request(pw))
    with pytest.raises(ServiceError, match="Only an approved entry"):
        mark_incentive_paid(entry=entry, by=pw.finance, paid_on=timezone.localdate(), method="cash")
    with pytest.raises(ServiceError, match="already paid"):
        decline_incentive(entry=entry, by=pw.manager2, reason="changed my mind")


def test_a_paid_entry_is_corrected_by_a_reversing_entry(pw):
    entry = paid(pw, request(pw, amount=100_000))
    reversal = reverse_incentive(entry=entry, by=pw.org.manager)
    assert (reversal.kind, reversal.amount_cents, reversal.reverses) == (
        "reversal",
        -100_000,
        entry,
    )
    with pytest.raises(ServiceError, match="already has a reversing entry"):
        reverse_incentive(entry=entry, by=pw.manager2)
    # The reversal is approved by someone else and posted by finance, like a payment.
    with pytest.raises(ServiceError, match="other than its requester"):
        approve_incentive(entry=reversal, by=pw.org.manager)
    paid_reversal = mark_incentive_paid(
        entry=approve_incentive(entry=reversal, by=pw.manager2),
        by=pw.finance,
        paid_on=timezone.localdate(),
        method="transfer",
    )
    assert paid_reversal.status == IncentiveEntry.Status.PAID
    # Reversed, the payment no longer counts toward the month's cap.
    assert request(pw, milestones=[pw.met[1]], amount=100_000).status == "requested"
    entry.refresh_from_db()
    assert entry.amount_cents == 100_000 and entry.status == IncentiveEntry.Status.PAID


def test_only_paid_payments_are_reversed(pw):
    entry = request(pw)
    with pytest.raises(ServiceError, match="Only a paid payment"):
        reverse_incentive(entry=entry, by=pw.org.manager)


def test_a_draft_plan_gets_no_incentive(org_a):
    pw = make_plan_world(org_a)
    from interventions.services.plans import start_new_version

    start_new_version(plan=pw.plan, by=pw.org.worker)
    with pytest.raises(ServiceError, match="approved, current plan"):
        request(pw)


def test_a_milestone_paid_in_one_version_is_not_paid_again_in_the_next(pw):
    from interventions.models.plans import Milestone
    from interventions.services import plans as plan_services

    request(pw, milestones=[pw.met[0]], amount=10_000)
    new = plan_services.start_new_version(plan=pw.plan, by=pw.org.worker)
    plan_services.approve_plan(plan=new, by=pw.org.manager)
    copy = Milestone.objects.get(goal__plan=new, origin=pw.met[0])
    with pytest.raises(ServiceError, match="already has an incentive"):
        request(pw, milestones=[copy], amount=10_000)
    other = Milestone.objects.get(goal__plan=new, origin=pw.met[1])
    assert request(pw, milestones=[other], amount=10_000).plan == new
