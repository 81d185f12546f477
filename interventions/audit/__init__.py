"""The audit trail: `record()` for the events views know about (views of a participant page,
exports); changes to case data are recorded by the database itself (see context.py)."""

from interventions.audit.recording import audited_view, record, record_participants_viewed

__all__ = ["audited_view", "record", "record_participants_viewed"]
