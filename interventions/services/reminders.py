"""Reminders that reach people (issue 14).

1. A new shooting-response task is told to its worker at once: `generate_response_tasks`
   enqueues `interventions.send_response_task_alerts` through the outbox in its own transaction,
   so the alert exists exactly when the tasks do.
2. Follow-ups due, people gone cold and plans due for review go out as one morning digest:
   Celery beat runs `send_morning_digests` every 15 minutes, and each user gets theirs at the
   first run after GVR_DIGEST_HOUR (local time) that is outside their quiet hours.
3. Once only: before sending, a `ReminderDelivery` row is inserted in its own transaction; its
   unique constraint (one digest per user, day and kind; one alert per user and incident) lets
   one of two overlapping runs claim it, and the other skips. A send that fails gives the claim
   back and raises, so the task's retry sends it later.
4. Counts and a link only: no message ever carries a participant's name, code or case detail.
   Each is written in the recipient's language (their saved choice, else English).
5. Quiet hours hold back the digest, and text messages of any kind (an alert still goes by
   e-mail, which does not ring).
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from interventions import text_messages
from interventions.access import AnyUser
from interventions.models import ReminderDelivery, ReminderPreference, ResponseTask
from interventions.outbox import services as outbox
from interventions.selectors import reminders as reminder_selectors

logger = logging.getLogger(__name__)

ALERT_TASK = "interventions.send_response_task_alerts"


# Settings page -----------------------------------------------------------------------------


def save_preference(*, user: AnyUser, preference: ReminderPreference) -> ReminderPreference:
    preference.user_id = user.pk
    preference.full_clean()
    preference.save()
    return preference


def save_language(*, user: AnyUser, language: str) -> None:
    """The language of the user's pages, reminders and e-mails (the English/Español switch)."""
    ReminderPreference.objects.update_or_create(user_id=user.pk, defaults={"language": language})


# When ----------------------------------------------------------------------------------------


def in_quiet_hours(preference: ReminderPreference, moment: datetime) -> bool:
    start, end = preference.quiet_from, preference.quiet_until
    if start is None or end is None or start == end:
        return False
    now = timezone.localtime(moment).time()
    if start < end:
        return start <= now < end
    return now >= start or now < end  # overnight, 22:00 to 07:00


def digest_is_due(preference: ReminderPreference, moment: datetime) -> bool:
    local = timezone.localtime(moment)
    return local.time() >= time(settings.GVR_DIGEST_HOUR) and not in_quiet_hours(preference, moment)


# What ----------------------------------------------------------------------------------------


def _link(route: str) -> str:
    return f"{settings.GVR_SITE_URL}{reverse(route)}"


def digest_texts(counts: reminder_selectors.DigestCounts) -> tuple[str, str, str]:
    """Subject, e-mail body and text message of a digest, in the active language (the caller
    sets the recipient's): counts and links, nothing else."""
    follow_ups = ngettext(
        "%(count)s follow-up due", "%(count)s follow-ups due", counts.follow_ups_due
    ) % {"count": counts.follow_ups_due}
    cold = ngettext(
        "%(count)s person gone cold", "%(count)s people gone cold", counts.gone_cold
    ) % {"count": counts.gone_cold}
    plans = ngettext(
        "%(count)s plan to review", "%(count)s plans to review", counts.plans_due_for_review
    ) % {"count": counts.plans_due_for_review}
    subject = gettext("Today: %(follow_ups)s, %(cold)s") % {"follow_ups": follow_ups, "cold": cold}
    body = (
        gettext("Good morning.")
        + "\n\n"
        + gettext("Follow-ups due today or overdue: %(count)s") % {"count": counts.follow_ups_due}
        + "\n"
        + gettext("People in your caseload gone cold: %(count)s") % {"count": counts.gone_cold}
        + "\n"
        + gettext("Plans due for review: %(count)s") % {"count": counts.plans_due_for_review}
        + "\n\n"
        + gettext("Open your caseload: %(link)s") % {"link": _link("caseload")}
        + "\n\n"
        + _footer()
    )
    text = gettext("GVR: %(follow_ups)s, %(cold)s, %(plans)s. %(link)s") % {
        "follow_ups": follow_ups,
        "cold": cold,
        "plans": plans,
        "link": _link("caseload"),
    }
    return subject, body, text


def alert_texts(count: int) -> tuple[str, str, str]:
    """Subject, e-mail body and text message of a new-tasks alert, in the active language."""
    values = {"count": count, "tasks_link": _link("response_tasks")}
    subject = (
        ngettext(
            "%(count)s new shooting-response task for you",
            "%(count)s new shooting-response tasks for you",
            count,
        )
        % values
    )
    body = (
        ngettext(
            "You have %(count)s new shooting-response task: reach each person within 24 hours.",
            "You have %(count)s new shooting-response tasks: reach each person within 24 hours.",
            count,
        )
        % values
        + "\n\n"
        + gettext("Open your tasks: %(tasks_link)s") % values
        + "\n\n"
        + _footer()
    )
    text = (
        ngettext(
            "GVR: %(count)s new shooting-response task, reach within 24 h. %(tasks_link)s",
            "GVR: %(count)s new shooting-response tasks, reach within 24 h. %(tasks_link)s",
            count,
        )
        % values
    )
    return subject, body, text


def _footer() -> str:
    return (
        gettext("Reminders never name anyone. Change what you receive: %(link)s")
        % {"link": _link("reminder_settings")}
        + "\n"
    )


# Sending -------------------------------------------------------------------------------------


def _language(preference: ReminderPreference) -> str:
    """The recipient's language (a reminder has no browser to ask): their saved one, else the
    site's."""
    if preference.language in dict(settings.LANGUAGES):
        return preference.language
    return translation.get_supported_language_variant(settings.LANGUAGE_CODE)


def _claim(user_id: int, *, day: date, kind: str, subject: str = "") -> ReminderDelivery | None:
    try:
        with transaction.atomic():
            return ReminderDelivery.objects.create(
                user_id=user_id, day=day, kind=kind, subject=subject
            )
    except IntegrityError:
        return None  # claimed by another run: sent, or being sent


def _deliver(
    claim: ReminderDelivery,
    user: AnyUser,
    preference: ReminderPreference,
    texts: tuple[str, str, str],
    *,
    quiet: bool,
) -> None:
    subject, body, text = texts
    channels = []
    try:
        if preference.by_email and user.email:
            send_mail(
                gettext("GVR Case Manager: %(subject)s") % {"subject": subject},
                body,
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
            )
            channels.append("email")
        if preference.by_text and preference.phone and not quiet:
            text_messages.send_text(preference.phone, text)
            channels.append("text")
    except Exception:
        # Give the claim back so the task's retry sends it; what went out already may go out
        # again then, which is better than a reminder lost.
        claim.delete()
        raise
    claim.channels = ",".join(channels)
    claim.sent_at = timezone.now()
    claim.save(update_fields=["channels", "sent_at"])


def send_digest(user: AnyUser, *, now: datetime | None = None) -> bool:
    """Send the user's digest for today if it is due and not decided yet; True when this call
    sent one. A day with nothing to tell is decided (claimed) without a message."""
    now = now or timezone.now()
    preference = reminder_selectors.preference_of(user)
    if not preference.morning_digest or not digest_is_due(preference, now):
        return False
    claim = _claim(user.pk, day=timezone.localdate(now), kind=ReminderDelivery.Kind.MORNING_DIGEST)
    if claim is None:
        return False
    counts = reminder_selectors.digest_counts(user, timezone.localdate(now))
    if not counts.anything:
        claim.sent_at = timezone.now()  # decided: nothing to tell today
        claim.save(update_fields=["sent_at"])
        return False
    with translation.override(_language(preference)):
        _deliver(claim, user, preference, digest_texts(counts), quiet=False)
    return True


def send_morning_digests(*, now: datetime | None = None) -> int:
    """Every user's digest that is due; how many digests this run sent."""
    now = now or timezone.now()
    sent = 0
    for user in reminder_selectors.digest_recipients():
        try:
            sent += send_digest(user, now=now)
        except Exception:
            # One mailbox or phone that fails must not hold back everyone else's digest; its
            # claim was given back, so the next run tries again.
            logger.exception("Could not send the digest of user %s", user.pk)
    return sent


def enqueue_response_task_alerts(incident_id: int) -> None:
    """Called in the transaction that created an incident's response tasks."""
    outbox.enqueue(ALERT_TASK, kwargs={"incident_id": incident_id})


def send_response_task_alerts(incident_id: int, *, now: datetime | None = None) -> int:
    """Tell each worker with open response tasks of the incident how many they have; once per
    worker and incident. Returns how many workers this call told."""
    now = now or timezone.now()
    counts: dict[int, int] = {}
    for worker_id in ResponseTask.objects.filter(
        incident_id=incident_id,
        status=ResponseTask.Status.OPEN,
        assigned_worker__isnull=False,
    ).values_list("assigned_worker_id", flat=True):
        counts[worker_id] = counts.get(worker_id, 0) + 1
    told = 0
    for user in get_user_model().objects.filter(pk__in=counts, is_active=True).order_by("pk"):
        preference = reminder_selectors.preference_of(user)
        if not preference.response_tasks:
            continue
        claim = _claim(
            user.pk,
            day=timezone.localdate(now),
            kind=ReminderDelivery.Kind.RESPONSE_TASKS,
            subject=f"incident:{incident_id}",
        )
        if claim is None:
            continue
        with translation.override(_language(preference)):
            _deliver(
                claim,
                user,
                preference,
                alert_texts(counts[user.pk]),
                quiet=in_quiet_hours(preference, now),
            )
        told += 1
    return told
