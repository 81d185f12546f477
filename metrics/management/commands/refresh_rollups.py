"""Rebuild the activity rollup by hand: every month, or --from YYYY-MM --to YYYY-MM."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions.errors import ServiceError
from metrics import services


def _month(value: str) -> date:
    match = re.fullmatch(r"(\d{4})-(\d{2})", value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CommandError(f"“{value}” is not a month like 2024-03.")
    return date(int(match.group(1)), int(match.group(2)), 1)


class Command(BaseCommand):
    help = "Rebuild the program-activity rollup (the same refresh the Celery tasks run)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", help="First month, YYYY-MM")
        parser.add_argument("--to", dest="end", help="Last month, YYYY-MM")

    def handle(self, *args: Any, start: str | None, end: str | None, **options: Any) -> None:
        if bool(start) != bool(end):
            raise CommandError("Give both --from and --to, or neither (every month).")
        try:
            rows = services.refresh_rollups(
                start_month=_month(start) if start else None,
                end_month=_month(end) if end else None,
            )
        except ServiceError as error:
            raise CommandError(" ".join(error.messages)) from error
        what = f"{start} to {end}" if start else "every month"
        self.stdout.write(self.style.SUCCESS(f"Rollup refreshed for {what}: {rows} rows."))
