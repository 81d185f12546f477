"""Reminders that reach people: each user's choices, and a record of every reminder sent.

A reminder carries counts and a link, never a participant's name, code or any case detail
(SECURITY.md: no personal data in e-mail or text messages), so these tables hold no case data."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ReminderPreference(models.Model):
    """Which reminders a user wants, how, when not to be disturbed, and in which language the
    app and its messages speak to them. A user without a row gets the defaults (both
    reminders, by e-mail; the browser's language)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="reminder_preference",
        verbose_name=_("user"),
    )
    response_tasks = models.BooleanField(_("New shooting-response tasks, at once"), default=True)
    morning_digest = models.BooleanField(
        _("A morning digest: follow-ups due, people gone cold, plans due for review"), default=True
    )
    by_email = models.BooleanField(_("By e-mail"), default=True)
    by_text = models.BooleanField(_("By text message"), default=False)
    phone = models.CharField(
        _("Mobile number for text messages"),
        max_length=20,
        blank=True,
        help_text=_("With the country code, for example +16615550142."),
    )
    quiet_from = models.TimeField(_("Quiet hours from"), null=True, blank=True)
    quiet_until = models.TimeField(_("Quiet hours until"), null=True, blank=True)
    # The pages, reminders and e-mails in this language (settings.LANGUAGES); empty: the
    # browser's language on the pages, English in reminders.
    language = models.CharField(
        _("Language"), max_length=10, choices=settings.LANGUAGES, blank=True
    )
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    class Meta:
        verbose_name = _("reminder preference")
        verbose_name_plural = _("reminder preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(by_text=False) | ~Q(phone=""),
                name="reminder_text_needs_a_phone",
                violation_error_message=_("Give a mobile number to receive text messages."),
            ),
            models.CheckConstraint(
                condition=Q(quiet_from__isnull=True, quiet_until__isnull=True)
                | Q(quiet_from__isnull=False, quiet_until__isnull=False),
                name="reminder_quiet_hours_both_ends",
                violation_error_message=_("Quiet hours need a start and an end."),
            ),
        ]

    def __str__(self) -> str:
        return f"Reminders of user {self.user_id}"


class ReminderDelivery(models.Model):
    """One reminder decided for one user: claimed (the row), then sent (`sent_at`). The unique
    constraints make the claim the guard against sending twice: two overlapping beats, or a
    task run again, both try to insert the same row and only one can."""

    class Kind(models.TextChoices):
        MORNING_DIGEST = "morning_digest", _("Morning digest")
        RESPONSE_TASKS = "response_tasks", _("New response tasks")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reminder_deliveries"
    )
    day = models.DateField()
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # What the reminder is about, beyond the day: "incident:42" for response tasks.
    subject = models.CharField(max_length=40, blank=True)
    # "email", "text", both comma-separated, or "" when there was nothing to tell.
    channels = models.CharField(max_length=20, blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "day", "kind"],
                condition=Q(kind="morning_digest"),
                name="reminder_one_digest_per_user_and_day",
                violation_error_message=_("This digest was already sent today."),
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "subject"],
                condition=Q(kind="response_tasks"),
                name="reminder_one_alert_per_user_and_incident",
                violation_error_message=_("This alert was already sent."),
            ),
        ]
        indexes = [models.Index(fields=["day", "kind"])]

    def __str__(self) -> str:
        return f"{self.kind} for user {self.user_id} on {self.day}"
