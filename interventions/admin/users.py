"""Users in the admin: roles come from groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.http import HttpRequest

User = get_user_model()


class GroupBasedUserAdmin(UserAdmin):
    """City admins manage users and give them roles (groups); only a superuser can make a
    superuser or grant a permission outside a group."""

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Sequence[str]:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if request.user.is_superuser:
            return readonly
        return (*readonly, "is_superuser", "user_permissions")


# Replaces the registration django.contrib.auth makes for the user model.
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, GroupBasedUserAdmin)
