"""Inviting a staff member (issue 14, finding 10): one form instead of three admin screens.

1. A manager invites into the organisations they manage, a city admin into any active one.
2. The account, its membership and (through the membership, `access.sync_role_groups`) its
   group are made in one transaction: there is never a user with a group and no organisation.
3. The account has no usable password. The person gets a one-time link to set one: a token of
   Django's password-reset machinery with a salt of its own, valid for PASSWORD_RESET_TIMEOUT
   (72 hours) and spent once a password is set (the token covers the password hash).
4. The invitation e-mail is sent through the outbox, after the commit.
5. The invitation is recorded in the audit trail (who invited, the organisation and the role).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext

from interventions.access import managed_organizations
from interventions.accounts.language import language_for
from interventions.audit import record
from interventions.errors import ServiceError
from interventions.models import Membership, PartnerOrganization
from interventions.outbox import services as outbox
from interventions.services.reminders import save_language

INVITE_TASK = "interventions.send_staff_invitation"


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    # Its own salt: a password-reset token is no invitation, and an invitation no reset.
    key_salt = "interventions.services.staff.InvitationTokenGenerator"


invitation_tokens = InvitationTokenGenerator()


def organizations_to_invite_into(user: AbstractBaseUser):  # type: ignore[no-untyped-def]
    return managed_organizations(user, city_wide=True)


@transaction.atomic
def invite_staff_member(
    *,
    invited_by: AbstractBaseUser,
    first_name: str,
    last_name: str,
    email: str,
    organization: PartnerOrganization,
    role: str,
    language: str = "",
) -> AbstractBaseUser:
    """Make the account (no usable password), its membership and, when one is chosen, the
    language the person's pages and e-mails speak, together; the invitation e-mail follows
    the commit."""
    if not organizations_to_invite_into(invited_by).filter(pk=organization.pk).exists():
        raise ServiceError(gettext("You can invite staff only into an organisation you manage."))
    if role not in Membership.Role.values:
        raise ServiceError(gettext("Choose a role."))
    email = email.strip().lower()
    User = get_user_model()
    if (
        User.objects.filter(email__iexact=email).exists()
        or User.objects.filter(username__iexact=email).exists()
    ):
        raise ServiceError(
            gettext(
                "Someone with this e-mail address already has an account: add them to the "
                "organisation in the admin instead."
            )
        )
    user = User(username=email, email=email, first_name=first_name, last_name=last_name)
    user.set_unusable_password()
    user.save()
    membership = Membership.objects.create(user=user, organization=organization, role=role)
    if language:
        save_language(user=user, language=language)
    record(
        None,
        "create",
        membership,
        user=invited_by,
        object_type="staff_invitation",
        invited_user_id=user.pk,
        organization_id=organization.pk,
        role=role,
    )
    outbox.enqueue(INVITE_TASK, kwargs={"user_id": user.pk})
    return user


def invitation_path(user: AbstractBaseUser) -> str:
    return reverse(
        "staff_invitation_accept",
        args=[urlsafe_base64_encode(force_bytes(user.pk)), invitation_tokens.make_token(user)],
    )


def send_staff_invitation(user_id: int) -> bool:
    """E-mail the set-a-password link; nothing once the person has set a password (the task
    may run twice)."""
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if user is None or user.has_usable_password() or not user.email:
        return False
    hours = settings.PASSWORD_RESET_TIMEOUT // 3600
    # Written in the language chosen on the invitation, whichever process sends it.
    with translation.override(language_for(user.pk)):
        send_mail(
            gettext("GVR Case Manager: set your password"),
            gettext(
                "Hello %(first_name)s,\n\n"
                "You have been given an account on GVR Case Manager. Set your password here "
                "(the link works once, for %(hours)s hours):\n\n"
                "%(link)s\n\n"
                "Your username is %(username)s.\n"
            )
            % {
                "first_name": user.first_name,
                "hours": hours,
                "link": f"{settings.GVR_SITE_URL}{invitation_path(user)}",
                "username": user.get_username(),
            },
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
        )
    return True


def accept_invitation(*, user: AbstractBaseUser, password_form) -> AbstractBaseUser:  # type: ignore[no-untyped-def]
    """Set the password from a valid SetPasswordForm; the link is spent with it."""
    with transaction.atomic():
        user = password_form.save()
        record(None, "update", user, user=user, object_type="staff_invitation_accepted")
    return user
