"""Counts kept for the manager's dashboard, so a page never counts a whole organisation.

Rebuilt whole per organisation by `services.caseload.refresh_caseload_counts`, after every
write that changes them (through the outbox, on commit) and nightly (gone-cold figures move
with the calendar): never edit rows by hand. They hold counts only, no case data, so they need
no audit trigger (like the metrics rollup)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from interventions.models.case import PartnerOrganization


class CaseloadCount(models.Model):
    """One row per organisation (`scope=organization`: its totals), per worker it shows
    (`scope=worker`) and one for the enrolments assigned to nobody (`scope=unassigned`)."""

    class Scope(models.TextChoices):
        ORGANIZATION = "organization", _("Organisation")
        WORKER = "worker", _("Worker")
        UNASSIGNED = "unassigned", _("Not assigned")

    organization = models.ForeignKey(
        PartnerOrganization, on_delete=models.CASCADE, related_name="caseload_counts"
    )
    scope = models.CharField(max_length=12, choices=Scope.choices)
    worker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    is_member = models.BooleanField(default=True)
    # Distinct people with a referred-to-active enrolment in the organisation's programs.
    caseload = models.PositiveIntegerField(default=0)
    gone_cold = models.PositiveIntegerField(default=0)
    # The month the session figures below belong to ("this month" when refreshed).
    month = models.DateField()
    sessions_this_month = models.PositiveIntegerField(default=0)
    minutes_this_month = models.PositiveIntegerField(default=0)
    sessions_last_month = models.PositiveIntegerField(default=0)
    minutes_last_month = models.PositiveIntegerField(default=0)
    # Organisation row only: {status: distinct people with an open enrolment in it}, the
    # referrals waiting, and the people identified in `month`.
    by_status = models.JSONField(default=dict, blank=True)
    referrals_waiting = models.PositiveIntegerField(default=0)
    new_participants = models.PositiveIntegerField(default=0)
    # Sorting and searching the worker list without touching the user table's every row.
    worker_name = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["organization_id", "scope", "worker_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "scope", "worker"],
                name="caseload_count_one_row_per_scope",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=Q(scope="worker", worker__isnull=False)
                | (~Q(scope="worker") & Q(worker__isnull=True)),
                name="caseload_count_worker_only_on_worker_rows",
            ),
        ]
        indexes = [
            models.Index(
                fields=["organization", "scope", "-gone_cold"], name="caseload_count_attention_idx"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.scope} {self.worker_id}: {self.caseload}"


class CaseloadFillState(models.Model):
    """One row per organisation whose counts are kept: written in the same transaction as its
    rows, so an organisation with a fill state has complete counts, and a crashed refresh leaves
    the previous complete state (or none, and the dashboard counts live) behind."""

    organization = models.OneToOneField(
        PartnerOrganization, on_delete=models.CASCADE, related_name="caseload_fill_state"
    )
    refreshed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.organization_id} refreshed {self.refreshed_at:%Y-%m-%d %H:%M}"
