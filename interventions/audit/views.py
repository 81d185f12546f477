from __future__ import annotations

from datetime import datetime, time, timedelta

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_GET

from interventions.access import organizations_of, participants_visible_to
from interventions.audit.forms import AuditFilterForm
from interventions.audit.models import AuditEvent
from interventions.audit.recording import audited_view
from interventions.models import Membership


def _filtered(events: QuerySet[AuditEvent], form: AuditFilterForm) -> QuerySet[AuditEvent]:
    if not form.is_valid():
        return events
    data = form.cleaned_data
    if data["action"]:
        events = events.filter(action=data["action"])
    if data["username"]:
        events = events.filter(username__iexact=data["username"].strip())
    zone = timezone.get_current_timezone()
    if data["since"]:
        events = events.filter(occurred_at__gte=datetime.combine(data["since"], time.min, zone))
    if data["until"]:
        end = datetime.combine(data["until"] + timedelta(days=1), time.min, zone)
        events = events.filter(occurred_at__lt=end)
    return events


@require_GET
@login_required
@audited_view("view", "participant")
def audit_participant(request: HttpRequest, participant_id: int) -> HttpResponse:
    """Who has seen or changed this person's record: for the managers of their organisation."""
    participant = get_object_or_404(
        participants_visible_to(request.user).select_related("organization"), pk=participant_id
    )
    managed = organizations_of(request.user, role=Membership.Role.MANAGER)
    if not managed.filter(pk=participant.organization_id).exists():
        raise PermissionDenied(
            gettext("Only the organisation's managers can read the audit trail.")
        )
    form = AuditFilterForm(request.GET or None)
    events = _filtered(AuditEvent.objects.filter(participant_id=participant.pk), form)
    page = Paginator(events.order_by("-occurred_at", "-id"), 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/participant.html",
        {
            "participant": participant,
            "form": form,
            "page": page,
            "query": query.urlencode(),
        },
    )
