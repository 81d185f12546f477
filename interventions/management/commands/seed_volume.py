"""`manage.py seed_volume`: bulk-load fictional volume data for benchmarks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions.demo.volume import MAX_ORGANIZATIONS, VolumeDataExists, seed_volume


class Command(BaseCommand):
    help = (
        "Bulk-load fictional volume data (its own 'Volume Partner' organisations, staff, "
        "participants, enrolments, sessions and referrals) for benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participants", type=int, default=10_000)
        parser.add_argument("--sessions", type=int, default=500_000)
        parser.add_argument(
            "--organizations", type=int, default=10, help=f"1 to {MAX_ORGANIZATIONS}"
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the previous volume data first (only the volume organisations' data).",
        )
        parser.add_argument("--seed", type=int, default=2026, help="Random seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            seed_volume(
                options["participants"],
                options["sessions"],
                organizations=options["organizations"],
                reset=options["reset"],
                seed=options["seed"],
                stdout=self.stdout,
            )
        except (VolumeDataExists, ValueError) as error:
            raise CommandError(str(error)) from error
