"""English formats (gvr_site/formats/__init__.py): "Fri 27 Nov 2026, 8:30 am" (the "am" from
locale/en, in place of Django's "a.m.")."""

DATE_FORMAT = "D j M Y"
TIME_FORMAT = "g:i a"
DATETIME_FORMAT = "D j M Y, g:i a"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j M"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 0  # Sunday, as on a US calendar
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
