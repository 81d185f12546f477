"""Sharing a participant's record: the consent section of the participant page, recording and
revoking consent (members of the organisation that owns the record), and the emergency
override (a separate permission, a reason, limited time, audited)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from interventions import access
from interventions.access import OVERRIDE_CONSENT_PERMISSION
from interventions.audit import audited_view, record
from interventions.errors import ServiceError
from interventions.forms.sharing import ConsentForm, ConsentOverrideForm, ConsentRevokeForm
from interventions.models import Consent, Enrollment, Participant, Referral
from interventions.services import sharing as consent_services


def mark_editable(
    request: HttpRequest,
    participant: Participant,
    enrollments: Iterable[Enrollment],
    referrals: Iterable[Referral] = (),
) -> bool:
    """Set `can_edit` on the enrolments and referrals (the user's organisation opened them) and
    answer whether the user's organisation owns the participant's record, in one query."""
    own = set(access.organizations_of(request.user).values_list("pk", flat=True))
    for enrollment in enrollments:
        enrollment.can_edit = enrollment.program.organization_id in own  # type: ignore[attr-defined]
    for referral in referrals:
        referral.can_edit = referral.organization_id in own  # type: ignore[attr-defined]
    return participant.organization_id in own


def sharing_context(
    request: HttpRequest,
    participant: Participant,
    enrollments: Iterable[Enrollment],
    referrals: Iterable[Referral],
) -> dict[str, Any]:
    """What the participant page shows about sharing, and which of its forms the user may use:
    the owning organisation manages consent and changes its own enrolments and referrals; an
    organisation the record is shared with works only on what it opened itself."""
    user = request.user
    is_owner = mark_editable(request, participant, enrollments, referrals)
    context: dict[str, Any] = {"is_owner": is_owner}
    if is_owner:
        consents = list(
            Consent.objects.filter(participant=participant)
            .select_related("organization", "recorded_by", "revoked_by")
            .order_by("-granted_on", "-pk")
        )
        today = timezone.localdate()
        for consent in consents:
            consent.in_force = consent.is_valid_on(today)  # type: ignore[attr-defined]
        context["consents"] = consents
        context["consent_form"] = ConsentForm(participant=participant, auto_id="id_consent_%s")
    else:
        context["override"] = (
            access.active_overrides(user)
            .filter(participant=participant)
            .order_by("-expires_at")
            .first()
        )
    return context


def _owned_participant(request: HttpRequest, participant_id: int) -> Participant:
    """A participant of one of the user's organisations: consent is the owner's to manage."""
    return get_object_or_404(
        access.participants_visible_to(request.user)
        .filter(organization__in=access.organizations_of(request.user))
        .select_related("organization"),
        pk=participant_id,
    )


def _render_form(request: HttpRequest, participant: Participant, **context: Any) -> HttpResponse:
    return render(
        request, "interventions/action_form.html", {"participant": participant, **context}
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@audited_view("view", "participant", shown_only=True)
def consent_create(request: HttpRequest, participant_id: int) -> HttpResponse:
    participant = _owned_participant(request, participant_id)
    form = ConsentForm(request.POST or None, participant=participant)
    if request.method == "POST" and form.is_valid():
        try:
            consent = consent_services.record_consent(
                participant=participant, recorded_by=request.user, **form.service_kwargs()
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext("Consent recorded: the record is shared with %(shared_with)s.")
                % {"shared_with": consent.shared_with},
            )
            return redirect("participant_detail", participant_id=participant.pk)
    return _render_form(
        request,
        participant,
        title=gettext("Record consent for %(name)s") % {"name": participant.full_name},
        form=form,
        action=reverse("consent_create", args=[participant.pk]),
        submit_label=gettext("Record consent"),
    )


@login_required
@never_cache
@require_POST
def consent_revoke(request: HttpRequest, consent_id: int) -> HttpResponse:
    """Revoke a consent. The first post shows what will happen; only the confirmed one
    (confirm=1) revokes."""
    consent = get_object_or_404(
        Consent.objects.filter(
            participant__in=access.participants_visible_to(request.user),
            participant__organization__in=access.organizations_of(request.user),
        ).select_related("participant", "organization"),
        pk=consent_id,
    )
    form = ConsentRevokeForm(request.POST)
    confirmed = request.POST.get("confirm") == "1"
    if form.is_valid() and confirmed:
        try:
            consent = consent_services.revoke_consent(
                consent=consent, revoked_by=request.user, on=form.cleaned_data["on"]
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                gettext("Consent revoked: %(shared_with)s no longer sees the record from %(on)s.")
                % {
                    "shared_with": consent.shared_with,
                    "on": dateformat.format(consent.revoked_on, "M j, Y"),
                },
            )
            return redirect("participant_detail", participant_id=consent.participant_id)
    participant = consent.participant
    return _render_form(
        request,
        participant,
        title=gettext("Revoke consent: %(shared_with)s") % {"shared_with": consent.shared_with},
        form=form,
        action=reverse("consent_revoke", args=[consent.pk]),
        submit_label=gettext("Yes, revoke") if form.is_valid() else gettext("Revoke"),
        confirming=form.is_valid(),
        confirm_text=gettext(
            "Revoke the consent to share %(name)s's record with %(shared_with)s? From that day "
            "they no longer see it."
        )
        % {"name": participant.full_name, "shared_with": consent.shared_with},
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def consent_override(request: HttpRequest) -> HttpResponse:
    """Open one participant's record without consent, in an emergency: for holders of the
    override permission, with a reason, for 24 hours, recorded in the audit trail."""
    if not request.user.has_perm(OVERRIDE_CONSENT_PERMISSION):
        raise PermissionDenied(gettext("Overriding consent needs its own permission."))
    form = ConsentOverrideForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            override = consent_services.override_consent(
                user=request.user,
                participant_code=form.cleaned_data["participant_code"],
                reason=form.cleaned_data["reason"],
            )
        except ServiceError as error:
            form.add_error(None, error)
        else:
            # The reason stays on the override row; the trail names the row, never free text.
            hours = round((override.expires_at - override.granted_at).total_seconds() / 3600)
            record(request, "override", override.participant, override_id=override.pk, hours=hours)
            messages.warning(
                request,
                gettext("Emergency access to this record until %(until)s. It is recorded.")
                % {"until": dateformat.format(timezone.localtime(override.expires_at), "M j, H:i")},
            )
            return redirect("participant_detail", participant_id=override.participant_id)
    return render(request, "interventions/consent_override.html", {"form": form})
