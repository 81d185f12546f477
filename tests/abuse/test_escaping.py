"""Script tags, attribute break-outs, SQL fragments and template syntax typed into every text
field of the project's forms are stored as the text typed and shown escaped on every page that
shows them, never as markup."""

from __future__ import annotations

import pytest
from django.urls import reverse

from interventions.models import (
    Area,
    Enrollment,
    EnrollmentStatusChange,
    Incident,
    Participant,
    Referral,
    Session,
    StreetGroup,
)
from interventions.views.worker import PARTICIPANT_TABS
from tests.abuse.helpers import (
    ESCAPED_XSS,
    PAYLOAD,
    RAW_MARKERS,
    TEMPLATE_SYNTAX,
    incident_data,
    referral_data,
    register_data,
    session_data,
    today,
)
from tests.conftest import logged_in
from tests.security.routes import all_routes, case_objects, fill_kwargs, is_admin

pytestmark = pytest.mark.django_db


def _posted(response, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 302, (
        f"{what}: {response.status_code} {response.content[:2000]!r}"
    )


@pytest.fixture
def hostile_records(org_a, city_admin):  # type: ignore[no-untyped-def]
    """Every text field of the worker, manager, response and admin forms filled with the
    payload, through the forms themselves."""
    worker = logged_in(org_a.worker)
    manager = logged_in(org_a.manager)
    admin = logged_in(city_admin)

    _posted(
        worker.post(
            reverse("participant_register"),
            register_data(org_a.program.pk, first_name=PAYLOAD, last_name=PAYLOAD, aliases=PAYLOAD),
        ),
        "register",
    )
    participant = Participant.objects.get(first_name=PAYLOAD)
    enrollment = Enrollment.objects.get(participant=participant)
    _posted(
        worker.post(reverse("session_log"), session_data(participant.pk, notes=PAYLOAD * 3)),
        "session",
    )
    _posted(
        worker.post(
            reverse("referral_create", args=[participant.pk]),
            referral_data(outside_provider=PAYLOAD, notes=PAYLOAD + TEMPLATE_SYNTAX),
        ),
        "referral",
    )
    referral = Referral.objects.get(participant=participant)
    _posted(
        worker.post(
            reverse("referral_advance", args=[referral.pk]),
            {"status": Referral.Status.ACCEPTED, "on": today(), "outcome": PAYLOAD},
        ),
        "referral advance",
    )
    _posted(
        worker.post(
            reverse("enrollment_status", args=[enrollment.pk]),
            {"status": Enrollment.Status.CONTACTED, "on": today(), "note": PAYLOAD},
        ),
        "status",
    )
    _posted(
        manager.post(
            reverse("incident_new"),
            incident_data(org_a.organization.pk, location_description=PAYLOAD),
        ),
        "incident",
    )
    _posted(
        admin.post(
            reverse("admin:interventions_area_add"),
            {"name": PAYLOAD, "slug": "hostile-area", "kind": Area.Kind.NEIGHBORHOOD},
        ),
        "admin area",
    )
    _posted(
        admin.post(
            reverse("admin:interventions_streetgroup_add"),
            {
                "name": PAYLOAD,
                "slug": "hostile-group",
                "status": StreetGroup.Status.ACTIVE,
                "notes": PAYLOAD,
                **_empty_inline("ties"),
            },
        ),
        "admin street group",
    )
    return {
        "participant": participant,
        "enrollment": enrollment,
        "referral": referral,
        "session": Session.objects.get(notes=PAYLOAD * 3),
        "incident": Incident.objects.get(location_description=PAYLOAD),
        "clients": {"worker": worker, "manager": manager, "admin": admin},
    }


def _empty_inline(prefix: str) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": "0",
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_hostile_text_is_stored_exactly_as_typed(hostile_records):
    participant = hostile_records["participant"]
    assert (participant.first_name, participant.last_name, participant.aliases) == (PAYLOAD,) * 3
    assert hostile_records["session"].notes == PAYLOAD * 3
    referral = Referral.objects.get(pk=hostile_records["referral"].pk)
    assert referral.outside_provider == PAYLOAD
    assert referral.notes == PAYLOAD + TEMPLATE_SYNTAX
    assert referral.outcome == PAYLOAD
    assert EnrollmentStatusChange.objects.filter(note=PAYLOAD).count() == 1
    assert hostile_records["incident"].location_description == PAYLOAD
    assert Area.objects.filter(name=PAYLOAD).count() == 1
    assert StreetGroup.objects.filter(name=PAYLOAD, notes=PAYLOAD).count() == 1
    # The SQL fragment was a value, never a statement: the table is still there.
    assert Participant.objects.filter(pk=participant.pk).exists()


def test_pages_showing_hostile_text_escape_it(hostile_records):
    participant = hostile_records["participant"]
    clients = hostile_records["clients"]
    must_show = [
        ("worker", reverse("participant_detail", args=[participant.pk])),
        ("worker", reverse("caseload")),
        ("manager", reverse("org_participants")),
        ("manager", reverse("org_sessions")),
        ("manager", reverse("org_referrals")),
        ("manager", reverse("incident_detail", args=[hostile_records["incident"].pk])),
        ("admin", reverse("admin:interventions_participant_changelist")),
        ("admin", reverse("admin:interventions_area_changelist")),
        ("admin", reverse("admin:interventions_streetgroup_changelist")),
        ("admin", reverse("admin:interventions_participant_change", args=[participant.pk])),
    ]
    for role, url in must_show:
        response = clients[role].get(url)
        assert response.status_code == 200, url
        page = response.content.decode()
        assert ESCAPED_XSS in page, f"{url} does not show the text"
        for marker in RAW_MARKERS:
            assert marker not in page, f"{url} shows {marker!r} unescaped"


def test_no_page_anywhere_shows_hostile_text_unescaped(hostile_records, org_a):
    """Every GET route the resolver knows, as worker, manager and city admin, with the hostile
    records' ids filled in."""
    objects = case_objects(org_a)
    objects.update(
        {
            "participant_id": hostile_records["participant"].pk,
            "enrollment_id": hostile_records["enrollment"].pk,
            "referral_id": hostile_records["referral"].pk,
            "session_id": hostile_records["session"].pk,
            "incident_id": hostile_records["incident"].pk,
            "streetgroup_id": StreetGroup.objects.get(name=PAYLOAD).pk,
        }
    )
    checked = 0
    shown = 0
    for route in all_routes():
        kwargs = fill_kwargs(route, objects)
        if kwargs is None or route.name in {"logout"}:
            continue
        url = reverse(route.name, kwargs=kwargs)
        roles = ("admin",) if is_admin(route) else ("worker", "manager", "admin")
        # The participant page draws one tab at a time: each is checked.
        tabs = PARTICIPANT_TABS if route.name == "participant_detail" else ("",)
        for role, tab in ((role, tab) for role in roles for tab in tabs):
            response = hostile_records["clients"][role].get(url, {"tab": tab} if tab else {})
            if "html" not in response.get("Content-Type", "") or response.streaming:
                continue
            page = response.content.decode()
            checked += 1
            shown += ESCAPED_XSS in page
            for marker in RAW_MARKERS:
                assert marker not in page, f"{route.name} as {role} shows {marker!r}"
    assert checked > 40
    assert shown >= 8
