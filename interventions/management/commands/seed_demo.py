"""`manage.py seed_demo`: load the fictional Kern County demo data (idempotent) and print the
demo logins."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from interventions.demo.case import seed_demo


class Command(BaseCommand):
    help = (
        "Load the demo data (Kern County areas, partner organisations, staff, ~150 fictional "
        "participants and a year of sessions). Safe to run again: nothing is added twice. "
        "Prints the demo logins."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.monotonic()
        seed_demo(self.stdout)
        self.stdout.write(f"  ({time.monotonic() - started:.1f} s)\n")
