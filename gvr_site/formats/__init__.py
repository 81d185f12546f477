"""The app's date and number formats per language (FORMAT_MODULE_PATH), so `{{ value|date }}`,
`{{ value|date:"DATETIME_FORMAT" }}` and `{{ value }}` show one format everywhere: "Fri 27 Nov
2026, 8:30 am" in English, "vie 27 nov 2026, 8:30 a. m." in Spanish. Django's date filter
writes the day and month names from its own translations; files (CSV, Excel) stay ISO.

Django writes the "a" format through gettext("a.m.") and gettext("p.m."); its Spanish catalogue
leaves them as they are, so they are named here to get the Spanish spelling ("a. m.", "p. m.")
from the project's catalogue, which Django reads before its own; locale/en (kept by hand)
gives English its "am" and "pm"."""

from django.utils.translation import gettext_noop

MERIDIEM_NAMES = (gettext_noop("a.m."), gettext_noop("p.m."))
