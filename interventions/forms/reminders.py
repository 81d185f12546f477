"""The reminder settings form: which reminders, how, and quiet hours."""

from __future__ import annotations

from typing import Any

from django import forms

from interventions.models import ReminderPreference


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


class ReminderPreferenceForm(forms.ModelForm):
    class Meta:
        model = ReminderPreference
        fields = [
            "response_tasks",
            "morning_digest",
            "by_email",
            "by_text",
            "phone",
            "quiet_from",
            "quiet_until",
        ]
        widgets = {"quiet_from": TimeInput, "quiet_until": TimeInput}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})

    def clean_phone(self) -> str:
        phone = "".join(self.cleaned_data["phone"].split())
        if phone and not (phone.startswith("+") and phone[1:].isdigit() and len(phone) >= 9):
            raise forms.ValidationError("Write the number with its country code: +16615550142.")
        return phone
