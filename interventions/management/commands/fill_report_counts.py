"""`manage.py fill_report_counts`: rebuild the funder report's kept session counts."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from interventions.services.report_counts import fill_session_day_counts


class Command(BaseCommand):
    help = (
        "Rebuild the funder report's session counts per organisation, day and kind from the "
        "sessions (needed after the site's time zone changes; harmless to run again)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        written = fill_session_day_counts()
        self.stdout.write(f"Session day counts filled: {written} rows.")
