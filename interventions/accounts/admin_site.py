"""The Django admin, open only to staff whose session passed two-factor verification."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite, ModelAdmin
from django.contrib.admin.apps import AdminConfig
from django.db import models
from django.http import HttpRequest

from interventions.accounts.admin_notes_guard import guarded

# Free text typed in the admin (descriptions, notes, decisions): a long text fits, a pasted
# document or a flood is refused with a message. The same limit as the case-note forms.
ADMIN_TEXT_MAX_LENGTH = 5000


class VerifiedAdminSite(AdminSite):
    """The admin site: staff, and verified by a TOTP or backup code in this session. The
    middleware in accounts/two_factor.py already sends unverified users to the code prompt;
    this holds even if that middleware is ever left out."""

    def has_permission(self, request: HttpRequest) -> bool:
        from interventions.accounts.two_factor import is_verified

        return super().has_permission(request) and is_verified(request)

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        """Register with the notes guard in front of the admin class (no free-text field of
        case data is shown or looked up in the admin, whoever writes the admin), then give
        every unbounded text field of the model's forms a maximum length (character fields
        already have theirs from the database column)."""
        super().register(model_or_iterable, guarded(admin_class or ModelAdmin), **options)
        models_ = [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        for model in models_:
            overrides = self._registry[model].formfield_overrides
            overrides.setdefault(models.TextField, {}).setdefault(
                "max_length", ADMIN_TEXT_MAX_LENGTH
            )


class GVRAdminConfig(AdminConfig):
    default_site = "interventions.accounts.admin_site.VerifiedAdminSite"

    def ready(self) -> None:
        super().ready()
        # Connects the signal that ends a user's sessions when their authenticator is removed.
        # Connects the signal that keeps a user's saved language in their session at login.
        import interventions.accounts.language
        import interventions.accounts.two_factor  # noqa: F401
