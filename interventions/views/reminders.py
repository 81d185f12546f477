"""The reminder settings page: which reminders a user gets, how, and quiet hours."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

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
        reminder_services.save_preference(user=request.user, preference=form.save(commit=False))
        messages.success(request, "Your reminder settings are saved.")
        return redirect("reminder_settings")
    return render(
        request,
        "interventions/reminder_settings.html",
        {"form": form, "has_email": bool(request.user.email)},
    )
