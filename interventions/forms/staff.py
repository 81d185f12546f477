"""Invite a staff member: name, e-mail, organisation and role, in one form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from interventions.models import Membership, PartnerOrganization


class InviteStaffForm(forms.Form):
    first_name = forms.CharField(label=_("First name"), max_length=150)
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    email = forms.EmailField(label=_("E-mail"), max_length=254)
    organization = forms.ModelChoiceField(
        label=_("Organisation"), queryset=PartnerOrganization.objects.none()
    )
    role = forms.ChoiceField(label=_("Role"), choices=Membership.Role.choices)
    # Their invitation e-mail, pages and reminders; they can change it on "Your settings".
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        initial=settings.LANGUAGES[0][0],
        required=False,
    )

    def __init__(
        self, *args: Any, organizations: QuerySet[PartnerOrganization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()
