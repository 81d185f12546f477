"""Text-message backends, chosen by GVR_TEXT_BACKEND the way Django chooses an e-mail backend:

- `interventions.text_messages.ConsoleBackend` (development default): writes each message to
  standard output;
- `interventions.text_messages.FileBackend`: appends each message to GVR_TEXT_FILE_PATH;
- `interventions.text_messages.MemoryBackend` (tests): keeps them in `outbox`;
- `interventions.text_messages.TwilioBackend`: Twilio's REST API (TWILIO_ACCOUNT_SID,
  TWILIO_AUTH_TOKEN, TWILIO_FROM_NUMBER).

Like errors.py and claims.py it imports nothing else of the app. Callers pass only text that is
safe to send (counts and a link: interventions/services/reminders.py)."""

from __future__ import annotations

import base64
import json
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

TWILIO_API = "https://api.twilio.com/2010-04-01/Accounts/{sid}/Messages.json"
TIMEOUT_SECONDS = 10


class TextMessageError(Exception):
    """The provider refused or could not be reached."""


@dataclass(frozen=True)
class TextMessage:
    to: str
    body: str


class TextBackend(Protocol):
    def send(self, message: TextMessage) -> None: ...


class ConsoleBackend:
    def send(self, message: TextMessage) -> None:
        sys.stdout.write(f"Text to {message.to}: {message.body}\n")
        sys.stdout.flush()


class FileBackend:
    def send(self, message: TextMessage) -> None:
        path = Path(settings.GVR_TEXT_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as file:
            file.write(json.dumps({"to": message.to, "body": message.body}) + "\n")


class MemoryBackend:
    outbox: list[TextMessage] = []  # shared on purpose, like Django's locmem e-mail

    def send(self, message: TextMessage) -> None:
        MemoryBackend.outbox.append(message)


class TwilioBackend:
    """One POST per message to Twilio's Messages resource, with HTTP basic authentication."""

    def send(self, message: TextMessage) -> None:
        sid, token = settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN
        if not (sid and token and settings.TWILIO_FROM_NUMBER):
            raise TextMessageError("Twilio is not configured (TWILIO_* settings).")
        data = urllib.parse.urlencode(
            {"To": message.to, "From": settings.TWILIO_FROM_NUMBER, "Body": message.body}
        ).encode()
        request = urllib.request.Request(  # noqa: S310  # nosec B310 - a fixed https URL
            TWILIO_API.format(sid=urllib.parse.quote(sid)), data=data, method="POST"
        )
        credentials = base64.b64encode(f"{sid}:{token}".encode()).decode()
        request.add_header("Authorization", f"Basic {credentials}")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
                if response.status >= 300:
                    raise TextMessageError(f"Twilio answered {response.status}")
        except OSError as error:
            raise TextMessageError(f"Twilio could not be reached: {error}") from error


def get_backend() -> TextBackend:
    return import_string(settings.GVR_TEXT_BACKEND)()


def send_text(to: str, body: str) -> None:
    get_backend().send(TextMessage(to=to, body=body))
