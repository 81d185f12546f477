"""Import crime-outcome counts from a CSV file (format in metrics/importer.py and README)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from metrics.importer import ImportRefused, import_outcomes


class Command(BaseCommand):
    help = "Import crime outcomes from CSV: area,period,measure,count,source[,note]."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="Path to the CSV file")

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No file at {path}.")
        try:
            with path.open("rb") as handle:
                result = import_outcomes(handle, name=path.name, size=path.stat().st_size)
        except ImportRefused as refused:
            for problem in refused.problems:
                self.stderr.write(problem)
            raise CommandError(
                f"Nothing was imported: {len(refused.problems)} problem(s) in {path.name}."
            ) from refused
        self.stdout.write(self.style.SUCCESS(result.summary()))
