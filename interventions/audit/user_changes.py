"""Changes to users and their groups go to the audit trail: who changed whom, when, from
where, and which fields (never their values; a password is named, its hash never kept).

Why signals here and triggers for case tables: the user and group tables belong to
django.contrib.auth, and every write to them in this app goes through the ORM (the admin,
createsuperuser, the accounts views), so signals see them all; memberships are a case table
and have their trigger. The actor comes from the same context the triggers read."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from interventions.audit.context import current_actor
from interventions.audit.models import AuditEvent

User = get_user_model()

# The columns whose change is recorded by name. last_login changes at every login, which the
# login event already records.
WATCHED_FIELDS = (
    "username",
    "password",
    "first_name",
    "last_name",
    "email",
    "is_active",
    "is_staff",
    "is_superuser",
)


def _record(action: str, user_id: int, changed: list[str], **detail: Any) -> None:
    actor = current_actor()
    AuditEvent.objects.create(
        user_id=actor.user_id,
        username=actor.username,
        ip_address=actor.ip_address,
        path=actor.path[:500],
        action=action,
        object_type="user",
        object_id=user_id,
        changed_fields=changed,
        detail=detail,
    )


@receiver(pre_save, sender=User, dispatch_uid="gvr_audit_user_before")
def _remember_before(sender: Any, instance: Any, **kwargs: Any) -> None:
    if instance.pk is None:
        return
    before = sender._default_manager.filter(pk=instance.pk).values(*WATCHED_FIELDS).first()
    instance._gvr_audit_before = before


@receiver(post_save, sender=User, dispatch_uid="gvr_audit_user_saved")
def _user_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if created:
        _record(AuditEvent.Action.CREATE, instance.pk, list(WATCHED_FIELDS))
        return
    before = getattr(instance, "_gvr_audit_before", None) or {}
    changed = [name for name in WATCHED_FIELDS if before.get(name) != getattr(instance, name)]
    if changed:
        _record(AuditEvent.Action.UPDATE, instance.pk, changed)


@receiver(post_delete, sender=User, dispatch_uid="gvr_audit_user_deleted")
def _user_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    _record(AuditEvent.Action.DELETE, instance.pk, [])


def _relation_changed(field: str) -> Any:
    def handler(
        sender: Any, instance: Any, action: str, reverse: bool, pk_set: Any, **kwargs: Any
    ) -> None:
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if action != "post_clear" and not pk_set:
            return  # add() or remove() of nothing changed nothing
        # From the user's side the instance is the user; from the group's, the users are pk_set.
        user_ids = sorted(pk_set or ()) if reverse else [instance.pk]
        others = [] if reverse else sorted(pk_set or ())
        for user_id in user_ids:
            _record(
                AuditEvent.Action.UPDATE,
                user_id,
                [field],
                change=action.removeprefix("post_"),
                ids=",".join(str(pk) for pk in others) or str(instance.pk),
            )

    return handler


_groups_changed = _relation_changed("groups")
_permissions_changed = _relation_changed("user_permissions")
m2m_changed.connect(
    _groups_changed, sender=User.groups.through, dispatch_uid="gvr_audit_user_groups"
)
m2m_changed.connect(
    _permissions_changed,
    sender=User.user_permissions.through,
    dispatch_uid="gvr_audit_user_permissions",
)
