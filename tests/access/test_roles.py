"""Roles are least-privilege permission groups; the Django admin is for staff only and what a
staff user may do there comes from their groups."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from interventions import access
from interventions.access import (
    ANALYST_GROUP,
    CITY_ADMIN_GROUP,
    MANAGER_GROUP,
    OUTREACH_WORKER_GROUP,
    sync_role_groups,
)
from interventions.models import Membership
from tests.access.conftest import fresh
from tests.conftest import logged_in
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CASE_MODELS = ("participant", "enrollment", "session", "referral", "consent")


def codenames(group_name: str) -> set[str]:
    return set(Group.objects.get(name=group_name).permissions.values_list("codename", flat=True))


def test_the_migration_creates_the_four_role_groups_with_least_privileges():
    assert codenames(OUTREACH_WORKER_GROUP) == set()
    assert codenames(MANAGER_GROUP) == set()
    assert codenames(ANALYST_GROUP) == {"view_aggregate_metrics"}
    city_admin = codenames(CITY_ADMIN_GROUP)
    assert {"change_participant", "view_session", "add_program", "view_auditevent"} <= city_admin
    # History is kept: no case record can be deleted from the admin, no audit row changed.
    assert not {f"delete_{model}" for model in CASE_MODELS} & city_admin
    assert not {"change_auditevent", "delete_auditevent", "change_group"} & city_admin
    assert "override_consent" not in city_admin, "emergency override is granted one by one"


def test_user_roles_come_from_memberships_and_groups(org_a, analyst, group_city_admin, plain_staff):
    assert access.user_roles(fresh(org_a.worker)) == {access.OUTREACH_WORKER}
    assert access.user_roles(fresh(org_a.manager)) == {access.MANAGER}
    assert access.user_roles(fresh(analyst)) == {access.ANALYST}
    assert access.user_roles(fresh(group_city_admin)) == {access.CITY_ADMIN}
    superuser = UserFactory(is_staff=True, is_superuser=True)
    assert access.user_roles(fresh(superuser)) == {access.CITY_ADMIN}
    # The staff flag opens the admin's door and grants no role.
    assert access.user_roles(fresh(plain_staff)) == frozenset()


def test_user_roles_is_one_query(org_a, analyst, django_assert_num_queries):
    user = fresh(org_a.manager)
    user.groups.add(Group.objects.get(name=ANALYST_GROUP))
    with django_assert_num_queries(1):
        assert access.user_roles(user) == {access.MANAGER, access.ANALYST}


def test_memberships_keep_the_role_groups_in_step(org_a):
    user = UserFactory()
    membership = MembershipFactory(
        user=user, organization=org_a.organization, role=Membership.Role.MANAGER
    )
    assert set(user.groups.values_list("name", flat=True)) == {MANAGER_GROUP}
    membership.role = Membership.Role.OUTREACH_WORKER
    membership.save()
    assert set(user.groups.values_list("name", flat=True)) == {OUTREACH_WORKER_GROUP}
    membership.is_active = False
    membership.save()
    assert not user.groups.exists()
    membership.is_active = True
    membership.save()
    membership.delete()
    assert not user.groups.exists()


def test_sync_leaves_other_groups_alone(org_a, analyst):
    MembershipFactory(user=analyst, organization=org_a.organization)
    sync_role_groups(user=analyst)
    assert set(analyst.groups.values_list("name", flat=True)) == {
        ANALYST_GROUP,
        OUTREACH_WORKER_GROUP,
    }


def test_a_staff_user_in_the_city_admin_group_can_use_the_admin(group_city_admin, a_record):
    client = logged_in(group_city_admin)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert reverse("admin:interventions_participant_changelist") in index.content.decode()
    assert client.get(reverse("admin:interventions_participant_changelist")).status_code == 200
    change = reverse("admin:interventions_participant_change", args=[a_record.participant.pk])
    assert client.get(change).status_code == 200
    # ...but cannot delete a case record: the group holds no delete permission on it.
    delete = reverse("admin:interventions_participant_delete", args=[a_record.participant.pk])
    assert client.get(delete).status_code == 403


def test_a_staff_user_in_no_group_sees_nothing_to_change(plain_staff, a_record):
    client = logged_in(plain_staff)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert "permission to view or edit anything" in index.content.decode()
    for url in (
        reverse("admin:interventions_participant_changelist"),
        reverse("admin:interventions_participant_change", args=[a_record.participant.pk]),
        reverse("admin:auth_user_changelist"),
    ):
        assert client.get(url).status_code == 403, url


def test_the_admin_is_for_staff_only(org_a, analyst):
    for user in (org_a.manager, org_a.worker, analyst):
        response = logged_in(user).get(reverse("admin:interventions_participant_changelist"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))


def test_a_city_admin_cannot_make_a_superuser_or_grant_permissions_outside_groups(
    group_city_admin,
):
    target = UserFactory(username="someone")
    client = logged_in(group_city_admin)
    url = reverse("admin:auth_user_change", args=[target.pk])
    page = client.get(url).content.decode()
    assert 'name="is_superuser"' not in page and 'name="user_permissions"' not in page
    assert 'name="groups"' in page, "roles are given through groups"
    client.post(
        url,
        {
            "username": target.username,
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "date_joined_0": "2026-01-01",
            "date_joined_1": "10:00:00",
            "groups": [Group.objects.get(name=CITY_ADMIN_GROUP).pk],
        },
    )
    target.refresh_from_db()
    assert not target.is_superuser
