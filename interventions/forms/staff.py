"""Invite a staff member: name, e-mail, organisation and role, in one form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from interventions.models import Membership, PartnerOrganization


class InviteStaffForm(forms.Form):
    first_name = forms.CharField(max_length=150)
    last_name = forms.CharField(max_length=150)
    email = forms.EmailField(label="E-mail", max_length=254)
    organization = forms.ModelChoiceField(
        label="Organisation", queryset=PartnerOrganization.objects.none()
    )
    role = forms.ChoiceField(choices=Membership.Role.choices)

    def __init__(
        self, *args: Any, organizations: QuerySet[PartnerOrganization], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()
