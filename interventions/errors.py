"""The errors the service layer raises, shared by both apps. Imports nothing of the app, so
any module may raise or catch them without an import cycle."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils import dateformat, timezone
from django.utils.translation import gettext


class ServiceError(ValidationError):
    """A rule refused the write. The message is meant for the person who asked for it."""

    def __str__(self) -> str:
        # ValidationError prints a list's repr ("['…']"); a refusal is shown to a person or
        # printed by a command as plain sentences.
        return " ".join(self.messages)


class RecordChanged(ServiceError):
    """The record was saved by someone else after the form was drawn. `current` is the record
    as it is now (locked until the transaction ends)."""

    def __init__(self, current: Any, message: str | None = None, *, who: str = "") -> None:
        # `who` comes from the audit trail (services.locking.last_changed_by): this module
        # reads no table, so that it imports nothing of the app.
        self.current = current
        when = dateformat.format(timezone.localtime(current.updated_at), "M j, H:i")
        if not message and who:
            message = gettext(
                "Someone else saved this record by %(who)s at %(when)s since you opened this "
                "form. Nothing you typed has been saved yet: check the differences, then save "
                "again to keep your version."
            ) % {"who": who, "when": when}
        elif not message:
            message = gettext(
                "Someone else saved this record at %(when)s since you opened this form. Nothing "
                "you typed has been saved yet: check the differences, then save again to keep "
                "your version."
            ) % {"when": when}
        super().__init__(message, code="record_changed")
