"""Users in the admin: roles come from groups. A city admin manages the users below them:
never a superuser or a staff member with a right they lack (access.can_change_user), never
their own roles; only a superuser makes a superuser or grants a permission outside a group.
Every change to a user and their groups is audited (audit/user_changes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from interventions import access
from interventions.accounts import two_factor

User = get_user_model()


class GroupBasedUserAdmin(UserAdmin):
    actions = ["reset_two_factor"]

    @admin.action(description=_("Reset two-step login (lost phone)"), permissions=["change"])
    def reset_two_factor(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Every device of each selected user goes, their sessions end, and their next
        sign-in sets up a new authenticator. Not for users the admin may not change."""
        done, refused = [], []
        for user in queryset.order_by("username"):
            if access.can_change_user(request.user, user):
                two_factor.reset_two_factor(user=user, request=request)
                done.append(user.get_username())
            else:
                refused.append(user.get_username())
        if done:
            self.message_user(
                request,
                gettext(
                    "Two-step login reset for %(users)s: they set up a new authenticator at their "
                    "next sign-in."
                )
                % {"users": ", ".join(done)},
                messages.SUCCESS,
            )
        if refused:
            self.message_user(
                request,
                gettext("Not reset (only a superuser may): %(users)s.")
                % {"users": ", ".join(refused)},
                messages.ERROR,
            )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        readonly = (*readonly, "is_superuser", "user_permissions")
        if obj is not None and obj.pk == request.user.pk:
            # Nobody gives themself a role, or takes away the checks on their own account.
            readonly = (*readonly, "groups", "is_staff", "is_active")
        return readonly

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The password form asks this too: a refused user's password cannot be set.
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or access.can_change_user(request.user, obj))

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or access.can_change_user(request.user, obj))

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        # The bulk delete asks for the permission without a row: check each one here.
        mine = [user for user in queryset if access.can_change_user(request.user, user)]
        super().delete_queryset(request, queryset.filter(pk__in=[user.pk for user in mine]))

    def formfield_for_manytomany(
        self, db_field: models.ManyToManyField, request: HttpRequest, **kwargs: Any
    ) -> Any:
        if db_field.name == "groups":
            kwargs["queryset"] = access.groups_grantable_by(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


# Replaces the registration django.contrib.auth makes for the user model.
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, GroupBasedUserAdmin)
