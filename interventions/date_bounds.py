"""The dates a person can mean: every date a form or filter accepts lies between 1900 and 2200.

Python's dates run from year 1 to 9999, so a query such as `?end=0001-01-01` parsed fine and
then overflowed as soon as a page stepped a day or a month past it (a 500, issue 13). Bounding
the input at the form is simpler than guarding every date arithmetic behind it. Imports nothing
of the app, so any form module can use it."""

from __future__ import annotations

from datetime import date, datetime

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)


def validate_date_in_range(value: date | datetime | None) -> None:
    if value is None:
        return
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(
            gettext("Enter a date between %(earliest)s and %(latest)s.")
            % {"earliest": EARLIEST_DATE.year, "latest": LATEST_DATE.year},
            code="date_out_of_range",
        )


class BoundedDateField(forms.DateField):
    default_validators = [validate_date_in_range]


class BoundedDateTimeField(forms.DateTimeField):
    default_validators = [validate_date_in_range]
