"""Invite a staff member (managers and city admins), and the invited person's set-a-password
page (no login: the one-time link is the key)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode
from django.utils.translation import activate, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from interventions.accounts import language as languages
from interventions.errors import ServiceError
from interventions.forms.staff import InviteStaffForm
from interventions.services import staff as staff_services
from interventions.views.guards import manager_required


@manager_required(city_wide=True)
@require_http_methods(["GET", "POST"])
def invite_staff(request: HttpRequest) -> HttpResponse:
    form = InviteStaffForm(
        request.POST or None,
        organizations=staff_services.organizations_to_invite_into(request.user),
    )
    if request.method == "POST" and form.is_valid():
        details = dict(form.cleaned_data)
        try:
            user = staff_services.invite_staff_member(invited_by=request.user, **details)
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext(
                    "Invitation sent to %(email)s: the link to set a password works for 72 hours."
                )
                % {"email": user.email},
            )
            return redirect("invite_staff")
    return render(request, "interventions/invite_staff.html", {"form": form})


def _invited_user(uidb64: str, token: str):  # type: ignore[no-untyped-def]
    try:
        user_id = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        return None
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or not staff_services.invitation_tokens.check_token(user, token):
        return None
    return user


@never_cache
@require_http_methods(["GET", "POST"])
def staff_invitation_accept(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    user = _invited_user(uidb64, token)
    if user is None:
        return render(request, "interventions/invitation_invalid.html", status=404)
    # The page speaks the language chosen on the invitation, as the e-mail did.
    language = languages.saved_language(user.pk)
    if language:
        activate(language)
        request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
    form = SetPasswordForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        staff_services.accept_invitation(user=user, password_form=form)
        messages.success(request, gettext("Your password is set. Log in with it now."))
        response = redirect("login")
        if language:
            languages.set_cookie(response, language)
        return response
    return render(request, "interventions/invitation_accept.html", {"form": form, "invited": user})
