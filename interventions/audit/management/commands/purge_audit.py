from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from interventions.audit.services import audit_events_purge_expired, audit_retention_cutoff
from interventions.errors import ServiceError


class Command(BaseCommand):
    help = "Delete audit events older than GVR_AUDIT_RETENTION_DAYS (never younger ones)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cutoff = audit_retention_cutoff()
            deleted = audit_events_purge_expired()
        except ServiceError as error:
            raise CommandError(" ".join(error.messages)) from error
        self.stdout.write(f"Deleted {deleted} audit events from before {cutoff:%Y-%m-%d}.")
