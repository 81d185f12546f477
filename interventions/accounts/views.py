"""Two-factor pages: set up an authenticator app (with backup codes), and the code prompt after a
password login. The rules are in accounts/two_factor.py. And the English/Español switch."""

from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import user_has_device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from interventions.accounts import language as languages
from interventions.accounts import two_factor
from interventions.audit import record
from interventions.services import reminders as reminder_services


class CodeForm(forms.Form):
    code = forms.CharField(
        max_length=32,
        strip=True,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "off", "autofocus": True}
        ),
    )


def _next_url(request: HttpRequest) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("home")


def _qr_code(device: TOTPDevice) -> SafeString:
    svg = two_factor.qr_code_svg(device)
    # segno draws the SVG from the otpauth:// address alone: paths and a fixed title, no text a
    # user typed, nothing to escape.
    return mark_safe(svg)  # noqa: S308  # nosec B308 B703


@login_required
@never_cache
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not two_factor.requires_two_factor(user):
        return redirect("home")
    if user_has_device(user):
        # Adding another authenticator needs this session verified first (and is done by an
        # admin resetting the old one): a password alone must not be able to add a device.
        return redirect(
            _next_url(request) if two_factor.is_verified(request) else "two_factor_verify"
        )
    device = two_factor.pending_authenticator(user=user)
    # An empty POST is a form sent without a code: bound, so it says the code is missing.
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        verification, codes = two_factor.confirm_authenticator(
            user=user, device=device, token=form.cleaned_data["code"]
        )
        if verification.device is not None:
            two_factor.mark_verified(request, verification.device)
            record(request, "login", factor="totp_setup")
            return render(
                request,
                "registration/two_factor_backup_codes.html",
                {"codes": codes, "next": _next_url(request)},
            )
        record(request, "login_failed", outcome="failed", factor="totp_setup")
        form.add_error("code", verification.message)
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": _qr_code(device),
            "secret": two_factor.secret_text(device),
            "next": _next_url(request),
        },
    )


@login_required
@never_cache
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = request.user
    if two_factor.is_verified(request) or not two_factor.requires_two_factor(user):
        return redirect(_next_url(request))
    if not user_has_device(user):
        return redirect(f"{reverse('two_factor_setup')}?{urlencode({'next': _next_url(request)})}")
    # An empty POST is a form sent without a code: bound, so it says the code is missing.
    form = CodeForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        verification = two_factor.verify_code(user=user, token=form.cleaned_data["code"])
        if verification.device is not None:
            two_factor.mark_verified(request, verification.device)
            if isinstance(verification.device, StaticDevice):
                record(request, "login", factor="backup_code")
                left = two_factor.backup_codes_left(user)
                messages.warning(
                    request,
                    ngettext(
                        "You used a backup code; %(left)s left. Ask an administrator for new "
                        "ones when they run low.",
                        "You used a backup code; %(left)s left. Ask an administrator for new "
                        "ones when they run low.",
                        left,
                    )
                    % {"left": left},
                )
            else:
                record(request, "login", factor="totp")
            return redirect(_next_url(request))
        record(request, "login_failed", outcome="failed", factor="two_factor")
        form.add_error("code", verification.message)
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language (the cookie, then back to `next`); for a signed-in user the choice
    is also saved, so their reminders and their next sign-in on any device use it. A language
    the app does not speak is refused, changing nothing (the switch offers only the ones it
    does)."""
    language = request.POST.get("language", "")
    if not languages.is_supported(language):
        return HttpResponseBadRequest(
            gettext("Choose one of the languages offered: English or Español."),
            content_type="text/plain; charset=utf-8",
        )
    response = i18n.set_language(request)
    user = request.user
    fully_signed_in = user.is_authenticated and (
        two_factor.is_verified(request) or not two_factor.requires_two_factor(user)
    )
    if fully_signed_in and languages.is_supported(language):
        reminder_services.save_language(user=request.user, language=language)
        languages.remember(request, language)
    return response
