from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from interventions.audit.models import AuditEvent
from interventions.date_bounds import BoundedDateField


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("", _("Any action")), *AuditEvent.Action.choices],
        required=False,
        label=_("Action"),
    )
    username = forms.CharField(max_length=150, required=False, label=_("User"))
    since = BoundedDateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    until = BoundedDateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict[str, object]:
        cleaned = super().clean() or {}
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned
