"""The user's settings page: the language of the app, which reminders they get, how, and
quiet hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext, override
from django.views.decorators.http import require_http_methods

from interventions.accounts import language as languages
from interventions.forms.reminders import ReminderPreferenceForm
from interventions.selectors import reminders as reminder_selectors
from interventions.services import reminders as reminder_services
from interventions.views.guards import member_required


@member_required
@require_http_methods(["GET", "POST"])
def reminder_settings(request: HttpRequest) -> HttpResponse:
    preference = reminder_selectors.preference_of(request.user)
    form = ReminderPreferenceForm(request.POST or None, instance=preference)
    if request.method == "POST" and form.is_valid():
        preference = reminder_services.save_preference(
            user=request.user, preference=form.save(commit=False)
        )
        languages.remember(request, preference.language)
        # Said in the language just chosen (or, with none, the browser's).
        with override(preference.language or languages.browser_language(request)):
            messages.success(request, gettext("Your settings are saved."))
        response = redirect("reminder_settings")
        languages.set_cookie(response, preference.language)
        return response
    return render(
        request,
        "interventions/reminder_settings.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
