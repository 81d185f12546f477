"""The incentive ledger's TRUNCATE, like the audit table's, is refused unless the transaction
has set `gvr.allow_append_only_truncate = on` (the test runner's flush does, tests/conftest.py),
instead of in any database whose name starts with `test_` (see audit/0005 for why)."""

from django.db import migrations

FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION incentive_entry_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    decision_columns text[] := ARRAY['status', 'decided_by_id', 'decided_at', 'decline_reason'];
    payment_columns text[] := ARRAY['status', 'paid_by_id', 'paid_on', 'payment_method',
                                    'payment_reference', 'paid_recorded_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'incentive ledger entries are never deleted; record a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        IF COALESCE(current_setting('gvr.allow_append_only_truncate', true), '') = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'the incentive ledger is never truncated'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'requested' AND NEW.status IN ('approved', 'declined')
       AND to_jsonb(OLD) - decision_columns = to_jsonb(NEW) - decision_columns THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'approved' AND NEW.status = 'paid'
       AND to_jsonb(OLD) - payment_columns = to_jsonb(NEW) - payment_columns THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'incentive entry % is settled as %: it cannot be changed, only reversed',
        OLD.id, OLD.status
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE OR REPLACE FUNCTION incentive_entry_milestone_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF COALESCE(current_setting('gvr.allow_append_only_truncate', true), '') = 'on' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF (SELECT status FROM interventions_incentiveentry WHERE id = NEW.entry_id)
           = 'requested' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the milestones of incentive entry % were fixed when it was requested',
            NEW.entry_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'the milestones an incentive entry pays for are never changed (% refused)',
        TG_OP USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""

EARLIER_FUNCTIONS_SQL = r"""
CREATE OR REPLACE FUNCTION incentive_entry_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    decision_columns text[] := ARRAY['status', 'decided_by_id', 'decided_at', 'decline_reason'];
    payment_columns text[] := ARRAY['status', 'paid_by_id', 'paid_on', 'payment_method',
                                    'payment_reference', 'paid_recorded_at'];
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'incentive ledger entries are never deleted; record a reversing entry'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'TRUNCATE' THEN
        IF current_database() LIKE 'test\_%' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'the incentive ledger is never truncated'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF to_jsonb(NEW) = to_jsonb(OLD) THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'requested' AND NEW.status IN ('approved', 'declined')
       AND to_jsonb(OLD) - decision_columns = to_jsonb(NEW) - decision_columns THEN
        RETURN NEW;
    END IF;
    IF OLD.status = 'approved' AND NEW.status = 'paid'
       AND to_jsonb(OLD) - payment_columns = to_jsonb(NEW) - payment_columns THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'incentive entry % is settled as %: it cannot be changed, only reversed',
        OLD.id, OLD.status
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;

CREATE OR REPLACE FUNCTION incentive_entry_milestone_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF current_database() LIKE 'test\_%' THEN
            RETURN NULL;
        END IF;
    ELSIF TG_OP = 'INSERT' THEN
        IF (SELECT status FROM interventions_incentiveentry WHERE id = NEW.entry_id)
           = 'requested' THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION 'the milestones of incentive entry % were fixed when it was requested',
            NEW.entry_id USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'the milestones an incentive entry pays for are never changed (% refused)',
        TG_OP USING ERRCODE = 'integrity_constraint_violation';
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("interventions", "0013_translatable_labels")]

    operations = [migrations.RunSQL(FUNCTIONS_SQL, EARLIER_FUNCTIONS_SQL)]
