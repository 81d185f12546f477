"""Reads for the reminders: who gets a digest, and the counts it carries. Counts only: a
reminder never carries a name, a code or any case detail."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, QuerySet

from interventions.access import AnyUser
from interventions.models import ReminderPreference, SessionParticipant
from interventions.selectors import plans as plan_selectors
from interventions.selectors.worker import caseload_for

# A follow-up date further back than this is history, not something due.
FOLLOW_UP_LOOKBACK = timedelta(days=30)


@dataclass(frozen=True)
class DigestCounts:
    follow_ups_due: int
    gone_cold: int
    plans_due_for_review: int

    @property
    def anything(self) -> bool:
        return bool(self.follow_ups_due or self.gone_cold or self.plans_due_for_review)


def preference_of(user: AnyUser) -> ReminderPreference:
    """The user's choices, or the defaults (unsaved) when they never changed them."""
    preference = ReminderPreference.objects.filter(user_id=user.pk).first()
    return preference or ReminderPreference(user_id=user.pk)


def digest_recipients() -> QuerySet:
    """Active users with an active membership (the people who carry a caseload or manage one)
    who have not turned the digest off."""
    return (
        get_user_model()
        .objects.filter(is_active=True, memberships__is_active=True)
        .exclude(reminder_preference__morning_digest=False)
        .distinct()
        .order_by("pk")
    )


def follow_ups_due_count(user: AnyUser, today: date) -> int:
    """People in the user's caseload with a follow-up date of today or the last 30 days and no
    contact on or after that date."""
    contacted_since = SessionParticipant.objects.filter(
        participant=OuterRef("participant"),
        occurred_at__date__gte=OuterRef("session__follow_up_on"),
    )
    return (
        SessionParticipant.objects.filter(
            participant__in=caseload_for(user).values("pk"),
            session__follow_up_on__lte=today,
            session__follow_up_on__gte=today - FOLLOW_UP_LOOKBACK,
        )
        .exclude(Exists(contacted_since))
        .values("participant")
        .distinct()
        .count()
    )


def plans_due_for_review_count(user: AnyUser, today: date) -> int:
    """How many current plans of the user's caseload are due for review on `today`: not
    reviewed for GVR_PLAN_REVIEW_DAYS or more (the list the worker's home shows)."""
    return plan_selectors.plans_due_for_review(user, today).count()


def digest_counts(user: AnyUser, today: date) -> DigestCounts:
    return DigestCounts(
        follow_ups_due=follow_ups_due_count(user, today),
        gone_cold=caseload_for(user).filter(is_cold=True).count(),
        plans_due_for_review=plans_due_for_review_count(user, today),
    )
