"""A double-submitted form creates one record.

A form that creates a record carries a random token (`form_token`, hidden), drawn once with
the page. The view claims the token before it writes: the first request to claim it saves, and
a repeat of the same submission (a double tap, a resend on a weak connection, the back button)
finds the claim and is sent to what the first one saved instead of saving again. A refused
submission releases its claim, so the corrected form can be sent with the same token.

The claim is an atomic "set if absent" (Redis SET NX) in the store every web process shares:
the Celery broker's Redis when there is one (as in production), else the Django cache (one
process in development). Sessions use a client key with a unique constraint in the database
instead (services.log_session); the forms here have no such column yet.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext

from interventions.claims import ClaimStore
from interventions.errors import ServiceError

logger = logging.getLogger(__name__)

FIELD_NAME = "form_token"
# How long a used token is remembered: longer than anyone keeps a form open and resends it.
REMEMBER_SECONDS = 24 * 60 * 60
PENDING = "pending"
# A claim whose request died before it saved or let go is given up after this long.
PENDING_SECONDS = 60
# How long a repeat waits for the first submission to finish before saying it is still saving.
WAIT_SECONDS = 5.0
POLL_SECONDS = 0.1


class SingleSubmitFormMixin(forms.Form):
    """Adds the hidden token. A post without one (an old page) is saved without the check."""

    form_token = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault(FIELD_NAME, uuid.uuid4())


@dataclass
class Submission:
    """A claim on a form's token. On a repeat, `earlier_url` is where the first submission's
    record is (or `still_saving` when it had not finished); otherwise the view saves and calls
    `saved(url)`, or `release()` when the write was refused."""

    key: str | None
    store: ClaimStore | None = None
    earlier_url: str | None = None
    still_saving: bool = False

    @property
    def is_repeat(self) -> bool:
        return self.earlier_url is not None or self.still_saving

    def saved(self, url: str) -> None:
        """The record was created: a repeat of this submission is sent to `url`."""
        if self.key and self.store:
            self._quietly(lambda store: store.set(self.key, url, REMEMBER_SECONDS))

    def release(self) -> None:
        """The write was refused: the corrected form may be sent again with the same token."""
        if self.key and self.store:
            self._quietly(lambda store: store.delete(self.key))

    def _quietly(self, action: Any) -> None:
        try:
            action(self.store)
        except Exception:
            logger.warning("Could not reach the store that de-duplicates form submissions")


def _key(user: AbstractBaseUser, token: uuid.UUID) -> str:
    # Per user: a token copied from someone else's page leads nowhere.
    return f"gvr:form-once:{user.pk}:{token.hex}"


def claim(user: AbstractBaseUser, token: uuid.UUID | None) -> Submission:
    """Claim the form's token before writing:

        submission = submissions.claim(request.user, form.cleaned_data["form_token"])
        if submission.is_repeat:
            return submissions.repeat_response(request, submission, fallback=...)
        try:
            record = services.create_something(...)
        except ServiceError as error:
            submission.release()
            ...
        else:
            submission.saved(url)

    A claim whose request died before saving or releasing expires after PENDING_SECONDS. A
    repeat that finds the claim pending waits (bounded) for the first submission to finish.
    With no token (an old page) or no reachable store, the write goes ahead unchecked."""
    if token is None:
        return Submission(None)
    key = _key(user, token)
    try:
        store = ClaimStore()
        deadline = time.monotonic() + WAIT_SECONDS
        while True:
            if store.add(key, PENDING, PENDING_SECONDS):
                return Submission(key, store)
            value = store.get(key)
            if value and value != PENDING:
                return Submission(key, store, earlier_url=value)
            # None: the first submission was refused and let go in between; claim again.
            if value == PENDING and time.monotonic() >= deadline:
                return Submission(key, store, still_saving=True)
            time.sleep(POLL_SECONDS)
    except Exception:
        logger.warning("Could not reach the store that de-duplicates form submissions")
        return Submission(None)


def repeat_response(request: HttpRequest, submission: Submission, *, fallback: str) -> HttpResponse:
    """The answer to a repeated submission: what the first one saved, once."""
    if submission.earlier_url:
        messages.info(request, gettext("This form had already been sent; it was saved once."))
        return redirect(submission.earlier_url)
    messages.warning(
        request,
        gettext(
            "This form was already sent and is still being saved. Check the list before sending "
            "it again."
        ),
    )
    return redirect(fallback)


def save_once(
    request: HttpRequest,
    token: uuid.UUID | None,
    *,
    fallback: str,
    write: Callable[[], tuple[str, str]],
) -> HttpResponse:
    """The whole claim → write → saved/release sequence for a creating form. `write()` saves
    and returns (url of the new record, success message); a ServiceError it raises releases the
    claim and propagates, so the view shows it on the form."""
    submission = claim(request.user, token)
    if submission.is_repeat:
        return repeat_response(request, submission, fallback=fallback)
    try:
        url, message = write()
    except ServiceError:
        submission.release()
        raise
    submission.saved(url)
    messages.success(request, message)
    return redirect(url)
