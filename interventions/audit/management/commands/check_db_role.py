from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from interventions.audit.db_role import database_role_problems

# For a local try of `make serve` on the embedded database (which runs as its superuser).
ALLOW_VARIABLE = "GVR_ALLOW_PRIVILEGED_DB_ROLE"


class Command(BaseCommand):
    help = (
        "Fail unless the application's database role is not a superuser and owns nothing "
        "(so it cannot switch off or remove the audit trail's triggers)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        with connection.cursor() as cursor:
            problems = database_role_problems(cursor)
        if not problems:
            self.stdout.write("The database role is not a superuser and owns nothing.")
            return
        message = (
            "The application must not connect to PostgreSQL as it does: "
            + "; ".join(problems)
            + ". Connect as a role without those rights (README, Deploying)."
        )
        if os.environ.get(ALLOW_VARIABLE) == "1":
            self.stderr.write(f"WARNING ({ALLOW_VARIABLE}=1, not for production): {message}")
            return
        raise CommandError(message)
