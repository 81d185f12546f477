from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from interventions.outbox.services import dispatch_all, runs_in_process


class Command(BaseCommand):
    help = (
        "Send every pending background task of the outbox now, due or not. With no broker "
        "configured (or with --in-process) the tasks run here, one after another."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--in-process",
            action="store_true",
            help="Run the tasks in this process even though a broker is configured (Redis is "
            "down for long and the work cannot wait).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        in_process = options["in_process"] or runs_in_process()
        result = dispatch_all(in_process=in_process)
        verb = "Ran" if in_process else "Sent"
        self.stdout.write(f"{verb} {result.tasks} tasks for {result.rows} pending rows.")
        if result.failed:
            raise CommandError(
                f"{result.failed} rows could not be sent and stay pending; the errors are on the "
                "rows (last_error) and in the log."
            )
