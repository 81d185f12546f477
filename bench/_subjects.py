"""Who the page benchmarks measure: the busiest worker and a manager of the first volume
organisation, and that worker's most contacted participant (the worst case)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count

from interventions.demo.volume import volume_organizations
from interventions.models import Enrollment, Participant, PartnerOrganization


def measured_subjects() -> tuple[PartnerOrganization, Any, Any, Participant]:
    """(organisation, worker, manager, participant); exits when there is no volume data."""
    user_model = get_user_model()
    organization = volume_organizations().order_by("slug").first()
    worker = (
        user_model.objects.filter(
            assigned_enrollments__program__organization=organization,
            assigned_enrollments__status__in=Enrollment.CASELOAD_STATUSES,
        )
        .annotate(caseload=Count("assigned_enrollments"))
        .order_by("-caseload")
        .first()
    )
    manager = user_model.objects.filter(
        memberships__organization=organization, memberships__role="manager"
    ).first()
    participant = (
        Participant.objects.filter(enrollments__assigned_worker=worker)
        .annotate(contacts=Count("attendance"))
        .order_by("-contacts")
        .first()
    )
    if organization is None or worker is None or manager is None or participant is None:
        raise SystemExit("No volume data to measure (bench/pages.py loads it).")
    return organization, worker, manager, participant
