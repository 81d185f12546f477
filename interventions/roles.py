"""The roles as Django permission groups (created by migration 0004_consent_and_roles).

An organisation role (outreach worker, manager) is held per organisation by a Membership; the
group of the same name follows the memberships (sync_role_groups), so the admin's user list
shows who holds which role. The city admin and analyst roles are held by group alone."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from interventions.models import Membership

OUTREACH_WORKER_GROUP = "Outreach worker"
MANAGER_GROUP = "Manager"
CITY_ADMIN_GROUP = "City admin"
ANALYST_GROUP = "Analyst"
FINANCE_GROUP = "Finance"

MEMBERSHIP_GROUPS = {
    Membership.Role.OUTREACH_WORKER.value: OUTREACH_WORKER_GROUP,
    Membership.Role.MANAGER.value: MANAGER_GROUP,
    Membership.Role.FINANCE.value: FINANCE_GROUP,
}

VIEW_AGGREGATES_PERMISSION = "interventions.view_aggregate_metrics"
OVERRIDE_CONSENT_PERMISSION = "interventions.override_consent"


@transaction.atomic
def sync_role_groups(*, user: AbstractBaseUser) -> None:
    """Put the user in the group of each role they hold in an active membership of an active
    organisation, and out of the groups of the roles they no longer hold."""
    held = set(
        Membership.objects.filter(
            user=user, is_active=True, organization__is_active=True
        ).values_list("role", flat=True)
    )
    groups = {
        group.name: group for group in Group.objects.filter(name__in=MEMBERSHIP_GROUPS.values())
    }
    wanted = [groups[MEMBERSHIP_GROUPS[role]] for role in held if MEMBERSHIP_GROUPS[role] in groups]
    unwanted = [group for group in groups.values() if group not in wanted]
    user.groups.add(*wanted)
    user.groups.remove(*unwanted)


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def _membership_changed(sender: type, instance: Membership, **kwargs: object) -> None:
    sync_role_groups(user=instance.user)
