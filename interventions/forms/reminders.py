"""The user's settings form: the app's language, which reminders, how, and quiet hours."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext, gettext_lazy

from interventions.models import ReminderPreference


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs=attrs, format="%H:%M")


BROWSER_LANGUAGE = gettext_lazy("The language of my browser")


class ReminderPreferenceForm(forms.ModelForm):
    class Meta:
        model = ReminderPreference
        fields = [
            "language",
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
        # Each language named in its own language, so a person finds theirs in either.
        self.fields["language"].choices = [("", BROWSER_LANGUAGE), *settings.LANGUAGES]
        self.fields["language"].help_text = gettext_lazy(
            "The pages, your reminders and e-mails from the app."
        )

    def clean_phone(self) -> str:
        phone = "".join(self.cleaned_data["phone"].split())
        if phone and not (phone.startswith("+") and phone[1:].isdigit() and len(phone) >= 9):
            raise forms.ValidationError(
                gettext("Write the number with its country code: +16615550142.")
            )
        return phone
