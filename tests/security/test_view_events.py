"""Every page that shows a participant's name records a view of that participant (SECURITY.md,
Audit: "every ... view of a participant record (any page that shows it)").

The pages are found from the URL resolver rather than listed: every route that names a record
(tests/test_scoping.py's RECORD_ROUTES) is opened by organisation A's worker and manager for a
world whose participant has a name found nowhere else. Wherever that name is in the page, the
request must have left a view event naming the participant, so the participant's audit page
answers "who has looked at this person"."""

from __future__ import annotations

import pytest

from interventions.audit.models import AuditEvent
from tests.conftest import OrgSetup, logged_in
from tests.test_scoping import RECORD_ROUTES, SECRETS, World, build_url, content, make_world


@pytest.fixture(name="world")
def world_fixture(org_a: OrgSetup, org_b: OrgSetup) -> World:
    return make_world(org_a, org_b)


def _last_event_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


def _shows_the_name(page: str) -> bool:
    return SECRETS["first_name"] in page or SECRETS["last_name"] in page


def pages_showing_the_name_without_a_view_event(world: World) -> tuple[list[str], int]:
    """The pages that show the participant's name with no view event of them, and how many
    pages showed the name at all."""
    missing, showing = [], 0
    for route in RECORD_ROUTES:
        url = build_url(route, world)
        for user in (world.a.worker, world.a.manager):
            client = logged_in(user)
            start = _last_event_id()
            response = client.get(url)
            if response.status_code != 200 or not _shows_the_name(content(response)):
                continue
            showing += 1
            viewed = AuditEvent.objects.filter(
                id__gt=start,
                action=AuditEvent.Action.VIEW,
                participant_id=world.participant.pk,
                user_id=user.pk,
                outcome="ok",
            )
            if not viewed.exists():
                missing.append(f"{route.name} ({url}) for {user}")
    return missing, showing


@pytest.mark.django_db
def test_every_page_showing_a_participants_name_records_a_view_of_them(world: World) -> None:
    missing, showing = pages_showing_the_name_without_a_view_event(world)
    assert showing >= 5, "too few pages showed the participant's name for the check to mean much"
    assert not missing, "pages that show the participant with no view event:\n" + "\n".join(missing)
