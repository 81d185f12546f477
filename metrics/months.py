"""Calendar months as the first day of the month: one set of helpers for the dashboard, the
evaluation (which must stay free of Django) and the extract. Imports nothing of the project."""

from __future__ import annotations

from datetime import date


def next_month_start(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from first to last, both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month_start(month)
    return months
