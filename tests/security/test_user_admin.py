"""What a city admin (the "City admin" group, not a superuser) may do to users in the Django
admin: manage the users below them, never a superuser or a staff member with more rights,
never give themself a role or a membership; and every change to a user, their groups and
their memberships is in the audit trail."""

from __future__ import annotations

import pytest
from django.contrib.admin import helpers
from django.contrib.auth.models import Group, Permission
from django.test import Client

from interventions.access import CITY_ADMIN_GROUP
from interventions.audit.models import AuditEvent
from interventions.models import Membership
from tests.conftest import logged_in
from tests.factories import TEST_PASSWORD, UserFactory
from tests.interventions.test_admin import admin_url, form_data

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "an-entirely-new-passphrase-2026"


@pytest.fixture
def city_admin_by_group(db: None):  # type: ignore[no-untyped-def]
    user = UserFactory(username="group-admin", is_staff=True)
    user.groups.add(Group.objects.get(name=CITY_ADMIN_GROUP))
    return user


@pytest.fixture
def group_admin_client(city_admin_by_group) -> Client:  # type: ignore[no-untyped-def]
    return logged_in(city_admin_by_group)


@pytest.fixture
def superuser(db: None):  # type: ignore[no-untyped-def]
    return UserFactory(username="root", is_staff=True, is_superuser=True)


def _user_model():  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    return get_user_model()


def test_a_city_admin_cannot_set_a_superusers_password(group_admin_client, superuser):
    url = admin_url(_user_model(), "password_change", superuser.pk)
    assert group_admin_client.get(url).status_code == 403
    response = group_admin_client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.check_password(TEST_PASSWORD)


def test_a_city_admin_cannot_deactivate_a_superuser(
    group_admin_client, superuser, admin_client_city
):
    url = admin_url(_user_model(), "change", superuser.pk)
    data = form_data(admin_client_city, url)
    data.pop("is_active", None)  # an unticked box sends nothing
    response = group_admin_client.post(url, data)
    assert response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.is_active


def test_a_city_admin_cannot_change_a_staff_member_with_more_rights(
    group_admin_client, admin_client_city
):
    stronger = UserFactory(username="stronger", is_staff=True)
    stronger.groups.add(Group.objects.get(name=CITY_ADMIN_GROUP))
    stronger.user_permissions.add(Permission.objects.get(codename="change_group"))
    url = admin_url(_user_model(), "change", stronger.pk)
    data = form_data(admin_client_city, url)
    data.pop("is_active", None)
    assert group_admin_client.post(url, data).status_code == 403
    password_url = admin_url(_user_model(), "password_change", stronger.pk)
    assert group_admin_client.get(password_url).status_code == 403
    stronger.refresh_from_db()
    assert stronger.is_active


def test_bulk_actions_cannot_touch_a_superuser(group_admin_client, city_admin_by_group, superuser):
    # Even with the right to delete users, the bulk delete leaves a superuser alone.
    city_admin_by_group.user_permissions.add(Permission.objects.get(codename="delete_user"))
    victim = UserFactory(username="plain-user")
    changelist = admin_url(_user_model(), "changelist")

    def bulk_delete(*users):  # type: ignore[no-untyped-def]
        return group_admin_client.post(
            changelist,
            {
                "action": "delete_selected",
                helpers.ACTION_CHECKBOX_NAME: [user.pk for user in users],
                "post": "yes",
            },
        )

    assert bulk_delete(superuser, victim).status_code == 403
    assert _user_model().objects.filter(pk__in=[superuser.pk, victim.pk]).count() == 2
    # The control: the same action on the plain user alone deletes them.
    assert bulk_delete(victim).status_code == 302
    assert not _user_model().objects.filter(pk=victim.pk).exists()


def test_a_city_admin_still_manages_an_outreach_worker(group_admin_client, org_a):
    """The control: the checks above refuse because of who the target is."""
    worker = org_a.worker
    url = admin_url(_user_model(), "password_change", worker.pk)
    response = group_admin_client.post(
        url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
    )
    assert response.status_code == 302
    worker.refresh_from_db()
    assert worker.check_password(NEW_PASSWORD)
    change = admin_url(_user_model(), "change", worker.pk)
    data = form_data(group_admin_client, change)
    data.pop("is_active", None)
    assert group_admin_client.post(change, data).status_code == 302
    worker.refresh_from_db()
    assert not worker.is_active


def test_a_city_admin_cannot_give_themself_a_role(group_admin_client, city_admin_by_group):
    url = admin_url(_user_model(), "change", city_admin_by_group.pk)
    every_group = [str(pk) for pk in Group.objects.values_list("pk", flat=True)]
    data = form_data(group_admin_client, url, groups=every_group)
    group_admin_client.post(url, data)
    assert set(city_admin_by_group.groups.values_list("name", flat=True)) == {CITY_ADMIN_GROUP}


def test_a_city_admin_cannot_give_themself_a_membership(
    group_admin_client, city_admin_by_group, org_a
):
    url = admin_url(Membership, "add")
    data = {
        "user": city_admin_by_group.pk,
        "organization": org_a.organization.pk,
        "role": Membership.Role.MANAGER,
        "is_active": "on",
    }
    response = group_admin_client.post(url, data)
    assert response.status_code == 200  # the form again, with the reason
    assert not Membership.objects.filter(user=city_admin_by_group).exists()
    # Through the organisation's page the same.
    org_url = admin_url(type(org_a.organization), "change", org_a.organization.pk)
    org_data = form_data(group_admin_client, org_url)
    prefix = "memberships"
    total = int(org_data[f"{prefix}-TOTAL_FORMS"])
    org_data.update(
        {
            f"{prefix}-TOTAL_FORMS": str(total + 1),
            f"{prefix}-{total}-user": city_admin_by_group.pk,
            f"{prefix}-{total}-role": Membership.Role.MANAGER,
            f"{prefix}-{total}-is_active": "on",
            f"{prefix}-{total}-organization": org_a.organization.pk,
        }
    )
    group_admin_client.post(org_url, org_data)
    assert not Membership.objects.filter(user=city_admin_by_group).exists()


def test_someone_else_gives_the_membership_and_it_is_audited(
    admin_client_city, city_admin_by_group, org_a
):
    response = admin_client_city.post(
        admin_url(Membership, "add"),
        {
            "user": city_admin_by_group.pk,
            "organization": org_a.organization.pk,
            "role": Membership.Role.MANAGER,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=city_admin_by_group)
    event = AuditEvent.objects.get(object_type="membership", object_id=membership.pk)
    assert event.action == "create" and event.username == "city-admin"


def test_every_change_to_a_user_and_their_groups_is_audited(group_admin_client, org_a):
    worker = org_a.worker
    before = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    change = admin_url(_user_model(), "change", worker.pk)
    manager_group = Group.objects.get(name="Manager")
    data = form_data(group_admin_client, change)
    data.pop("is_active", None)
    data["groups"] = [str(pk) for pk in worker.groups.values_list("pk", flat=True)] + [
        str(manager_group.pk)
    ]
    assert group_admin_client.post(change, data).status_code == 302
    group_admin_client.post(
        admin_url(_user_model(), "password_change", worker.pk),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )
    events = AuditEvent.objects.filter(object_type="user", object_id=worker.pk, pk__gt=before)
    changed = {field for event in events for field in event.changed_fields}
    assert {"is_active", "groups", "password"} <= changed
    assert {event.username for event in events} == {"group-admin"}
    # Never the values themselves.
    assert all(NEW_PASSWORD not in str(event.detail) for event in events)
