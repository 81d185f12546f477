"""Spanish formats (gvr_site/formats/__init__.py): "vie 27 nov 2026, 8:30 a. m.". The
month is "b" (Spanish writes it in lower case), where English has "M".

US Spanish, as in California (and Mexico): a decimal point and a thousands comma, not Spain's
decimal comma, so a number typed in a form or shown beside an English page reads the same.
What a form's date or time box sends is ISO (the browser's own pickers), first in the input
formats, so a date field shows and reads the same value in both languages."""

DATE_FORMAT = "D j b Y"
TIME_FORMAT = "g:i a"
DATETIME_FORMAT = "D j b Y, g:i a"
YEAR_MONTH_FORMAT = r"F \d\e Y"
MONTH_DAY_FORMAT = "j b"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
FIRST_DAY_OF_WEEK = 0  # Sunday, as on a US calendar
DATE_INPUT_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y"]
TIME_INPUT_FORMATS = ["%H:%M:%S", "%H:%M:%S.%f", "%H:%M"]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
    "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M",
]
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
