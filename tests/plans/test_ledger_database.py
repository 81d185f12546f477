"""The ledger's rules held by the database itself: each test writes around the services, with
the ORM or raw SQL, and is refused."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from interventions.audit.models import AuditEvent
from interventions.models.plans import (
    FundingSource,
    IncentiveEntry,
    IncentiveEntryMilestone,
    LifePlan,
)
from interventions.services.plans import (
    approve_incentive,
    decline_incentive,
    mark_incentive_paid,
    month_of,
    request_incentive,
    start_new_version,
)

pytestmark = pytest.mark.django_db

THIS_MONTH = month_of(timezone.localdate())


def requested(pw, by=None, amount=50_000):
    return request_incentive(
        milestones=pw.met[:1],
        by=by or pw.org.worker,
        month=THIS_MONTH,
        amount_cents=amount,
        funding_source=FundingSource.PUBLIC_GRANT,
    )


def refused(sql: str, params: list, match: str) -> None:
    with (
        pytest.raises(IntegrityError, match=match),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)


def test_self_approval_is_refused_by_the_database(pw):
    entry = requested(pw)
    with pytest.raises(IntegrityError, match="incentive_two_person_rule"), transaction.atomic():
        IncentiveEntry.objects.filter(pk=entry.pk).update(
            status="approved", decided_by=pw.org.worker, decided_at=timezone.now()
        )
    entry.refresh_from_db()
    assert entry.status == IncentiveEntry.Status.REQUESTED


def test_a_request_written_already_approved_by_its_requester_is_refused(pw):
    with pytest.raises(IntegrityError, match="incentive_two_person_rule"), transaction.atomic():
        IncentiveEntry.objects.create(
            enrollment=pw.enrollment,
            plan=pw.plan,
            month=THIS_MONTH,
            amount_cents=100,
            funding_source=FundingSource.PUBLIC_GRANT,
            requested_by=pw.org.worker,
            status="approved",
            decided_by=pw.org.worker,
            decided_at=timezone.now(),
        )


def test_paying_a_declined_request_is_refused_by_the_database(pw):
    entry = requested(pw)
    decline_incentive(entry=entry, by=pw.org.manager, reason="Not this month")
    refused(
        "UPDATE interventions_incentiveentry SET status = 'paid', paid_by_id = %s,"
        " paid_on = CURRENT_DATE, payment_method = 'cash', paid_recorded_at = now()"
        " WHERE id = %s",
        [pw.finance.pk, entry.pk],
        "settled as declined",
    )


def test_editing_a_paid_entry_is_refused(pw):
    entry = requested(pw)
    approve_incentive(entry=entry, by=pw.org.manager)
    mark_incentive_paid(entry=entry, by=pw.finance, paid_on=timezone.localdate(), method="check")
    for column, value in (
        ("amount_cents", 1),
        ("payment_reference", "changed"),
        ("funding_source", "private_funds"),
        ("paid_on", timezone.localdate().replace(day=1)),
    ):
        refused(
            # The column names come from the fixed list above.
            f"UPDATE interventions_incentiveentry SET {column} = %s WHERE id = %s",  # noqa: S608
            [value, entry.pk],
            "settled as paid",
        )
    with pytest.raises(IntegrityError, match="settled as paid"), transaction.atomic():
        IncentiveEntry.objects.filter(pk=entry.pk).update(amount_cents=99_999)
    entry.refresh_from_db()
    assert entry.amount_cents == 50_000


def test_a_requested_amount_cannot_be_changed_before_approval(pw):
    entry = requested(pw)
    refused(
        "UPDATE interventions_incentiveentry SET amount_cents = 99999 WHERE id = %s",
        [entry.pk],
        "settled as requested",
    )


def test_approval_cannot_change_what_was_requested(pw):
    entry = requested(pw)
    refused(
        "UPDATE interventions_incentiveentry SET status = 'approved', decided_by_id = %s,"
        " decided_at = now(), amount_cents = 100000 WHERE id = %s",
        [pw.org.manager.pk, entry.pk],
        "settled as requested",
    )


def test_a_decision_cannot_be_reversed_in_place(pw):
    entry = requested(pw)
    approve_incentive(entry=entry, by=pw.org.manager)
    refused(
        "UPDATE interventions_incentiveentry SET status = 'declined', decline_reason = 'x'"
        " WHERE id = %s",
        [entry.pk],
        "settled as approved",
    )


def test_entries_are_never_deleted(pw):
    entry = requested(pw)
    # The ORM's own PROTECT stops a delete first; beneath it, the trigger.
    with pytest.raises(IntegrityError, match="never deleted"), transaction.atomic():
        IncentiveEntry.objects.filter(pk=entry.pk)._raw_delete(connection.alias)
    refused("DELETE FROM interventions_incentiveentry", [], "never deleted")
    assert IncentiveEntry.objects.filter(pk=entry.pk).exists()


def test_the_milestones_of_an_entry_are_fixed(pw):
    entry = requested(pw)
    link = IncentiveEntryMilestone.objects.get(entry=entry)
    refused(
        "DELETE FROM interventions_incentiveentrymilestone WHERE id = %s",
        [link.pk],
        "never changed",
    )
    refused(
        "UPDATE interventions_incentiveentrymilestone SET milestone_id = %s WHERE id = %s",
        [pw.met[1].pk, link.pk],
        "never changed",
    )
    approve_incentive(entry=entry, by=pw.org.manager)
    with pytest.raises(IntegrityError, match="fixed when it was requested"), transaction.atomic():
        IncentiveEntryMilestone.objects.create(entry=entry, milestone=pw.met[1])


@pytest.mark.parametrize(
    ("changes", "constraint"),
    [
        ({"amount_cents": -5}, "incentive_amount_sign_follows_kind"),
        ({"amount_cents": 0}, "incentive_amount_sign_follows_kind"),
        ({"month": THIS_MONTH.replace(day=2)}, "incentive_month_is_first_day"),
        ({"status": "paid"}, "incentive_decision_has_decider_and_time"),
    ],
)
def test_check_constraints_of_a_new_entry(pw, changes, constraint):
    fields = {
        "enrollment": pw.enrollment,
        "plan": pw.plan,
        "month": THIS_MONTH,
        "amount_cents": 100,
        "funding_source": FundingSource.PUBLIC_GRANT,
        "requested_by": pw.org.worker,
        **changes,
    }
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic():
        IncentiveEntry.objects.create(**fields)


def test_a_paid_entry_needs_its_payer_date_and_method(pw):
    entry = requested(pw)
    approve_incentive(entry=entry, by=pw.org.manager)
    refused(
        "UPDATE interventions_incentiveentry SET status = 'paid' WHERE id = %s",
        [entry.pk],
        "incentive_payment_has_date_method_and_payer",
    )


def test_an_earlier_plan_version_is_read_only_in_the_database(pw):
    start_new_version(plan=pw.plan, by=pw.org.worker)
    old = LifePlan.objects.get(pk=pw.plan.pk)
    assert old.status == LifePlan.Status.SUPERSEDED
    refused(
        "UPDATE interventions_goal SET description = 'rewritten' WHERE plan_id = %s",
        [old.pk],
        "read only",
    )
    refused(
        "UPDATE interventions_milestone SET met_on = NULL WHERE id = %s",
        [pw.met[0].pk],
        "read only",
    )
    refused("UPDATE interventions_lifeplan SET version = 9 WHERE id = %s", [old.pk], "read only")


def test_approver_of_a_plan_is_not_its_drafter_in_the_database(org_a):
    from tests.plans.factories import LifePlanFactory

    plan = LifePlanFactory(
        enrollment__participant__organization=org_a.organization,
        enrollment__program=org_a.program,
        drafted_by=org_a.worker,
    )
    with (
        pytest.raises(IntegrityError, match="lifeplan_approver_is_not_drafter"),
        transaction.atomic(),
    ):
        LifePlan.objects.filter(pk=plan.pk).update(
            status="approved", approved_by=org_a.worker, approved_at=timezone.now()
        )


def test_every_step_is_in_the_audit_trail(pw):
    start = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first()
    entry = requested(pw)
    approve_incentive(entry=entry, by=pw.org.manager)
    mark_incentive_paid(entry=entry, by=pw.finance, paid_on=timezone.localdate(), method="card")
    events = list(
        AuditEvent.objects.filter(id__gt=start, object_type="incentiveentry").order_by("id")
    )
    assert [e.action for e in events] == ["create", "update", "update"]
    assert all(e.object_id == entry.pk for e in events)
    assert all(e.participant_id == pw.enrollment.participant_id for e in events)
    assert "decided_by_id" in events[1].changed_fields
    assert "paid_by_id" in events[2].changed_fields


def test_every_plan_and_ledger_table_has_the_audit_triggers():
    from interventions.audit.tables import AUDITED_TABLE_NAMES

    tables = [
        "interventions_lifeplan",
        "interventions_goal",
        "interventions_milestone",
        "interventions_milestoneprogress",
        "interventions_planchange",
        "interventions_incentiveentry",
        "interventions_incentiveentrymilestone",
        "interventions_incentiverules",
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text, tgname FROM pg_trigger"
            " WHERE NOT tgisinternal AND tgname LIKE 'audit_%%'"
        )
        triggers = set(cursor.fetchall())
    for table in tables:
        assert {(table, f"audit_{op}") for op in ("insert", "update", "delete")} <= triggers
        assert table in AUDITED_TABLE_NAMES
