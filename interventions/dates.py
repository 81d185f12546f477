"""Months and periods, the one set of date helpers both apps use. Dates are local dates;
datetimes are timezone-aware, at local midnight. Imports nothing of the app."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.utils import timezone


def month_start(day: date) -> date:
    """The first day of the day's month."""
    return day.replace(day=1)


def previous_month(day: date) -> date:
    """The first day of the month before the day's month."""
    return (day.replace(day=1) - timedelta(days=1)).replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after the day's month."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from first to last (both firsts of months), both included."""
    months, month = [], first
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def last_day_of_month(month: date) -> date:
    return next_month(month) - timedelta(days=1)


def local_midnight(day: date) -> datetime:
    """The moment the day starts, local time."""
    return timezone.make_aware(datetime.combine(day, time.min))


def local_month_of(moment: datetime) -> date:
    """The first day of the local month the moment falls in."""
    return month_start(timezone.localtime(moment).date())


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """A date range as aware datetimes, end exclusive (the day after `end`, at midnight)."""
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(start, time.min, tzinfo=tz),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
    )
