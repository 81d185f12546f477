"""Issue 14, finding 4: the likely-duplicate warning matches on name and alias similarity alone,
strengthened (never gated) by date of birth and phone; matches are suggested as the name is
typed, from the user's own organisations only, by name only."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from interventions.models import Participant
from interventions.selectors import worker as worker_selectors
from tests.conftest import logged_in
from tests.factories import ConsentFactory, EnrollmentFactory, ParticipantFactory
from tests.interventions.test_worker_views import register_post

pytestmark = pytest.mark.django_db


def test_jose_tapya_beside_jose_tapia_warns_without_a_birth_date(org_a, worker_client):
    tapia = ParticipantFactory(
        organization=org_a.organization,
        first_name="Jose",
        last_name="Tapia",
        date_of_birth="2003-01-15",
    )
    for date_of_birth in ("", "2001-07-30"):  # none given, or another one
        data = register_post(
            org_a, first_name="Jose", last_name="Tapya", date_of_birth=date_of_birth
        )
        warned = worker_client.post(reverse("participant_register"), data)
        assert warned.status_code == 200, date_of_birth
        assert list(warned.context["duplicates"]) == [tapia]
        assert "Register anyway" in warned.content.decode()
    assert Participant.objects.count() == 1


def test_an_alias_matches_a_name_and_a_name_matches_an_alias(org_a, worker_client):
    chuy = ParticipantFactory(
        organization=org_a.organization, first_name="Luis", last_name="Ramos", aliases="Chuy Flaco"
    )
    by_name = worker_client.post(
        reverse("participant_register"),
        register_post(org_a, first_name="Chuy", last_name="Flaco", date_of_birth=""),
    )
    assert list(by_name.context["duplicates"]) == [chuy]
    by_alias = worker_client.post(
        reverse("participant_register"),
        register_post(org_a, first_name="Jesus", last_name="Navarro", aliases="Flaco, Chuy Flaco"),
    )
    assert list(by_alias.context["duplicates"]) == [chuy]


def test_birth_date_and_phone_strengthen_a_match_but_are_not_needed(org_a):
    smyth = ParticipantFactory(
        organization=org_a.organization,
        first_name="Joan",
        last_name="Smyth",
        date_of_birth="2004-03-09",
        phone="(661) 555-0142",
    )

    def found(**typed) -> list[Participant]:
        return list(worker_selectors.likely_duplicates(org_a.worker, "John", "Smith", **typed))

    # "John Smith" and "Joan Smyth" are a little too far apart on their own (0.29)...
    assert found() == []
    assert found(date_of_birth=None, phone="661 555") == []  # too few digits to count
    # ...and close enough beside the same birth date or the same phone number.
    assert found(date_of_birth=smyth.date_of_birth) == [smyth]
    assert found(phone="661-555-0142") == [smyth]


def test_the_same_birth_date_ranks_the_likelier_person_first(org_a):
    born_elsewhere, same_day = (
        ParticipantFactory(
            organization=org_a.organization,
            first_name="Jose",
            last_name="Tapia",
            date_of_birth=born,
        )
        for born in (date(1999, 1, 1), date(2003, 1, 15))
    )
    # The same name twice: without a birth date they come in the order registered...
    assert list(worker_selectors.likely_duplicates(org_a.worker, "Jose", "Tapya")) == [
        born_elsewhere,
        same_day,
    ]
    # ...and the one born that day comes first when the birth date is typed.
    ranked = worker_selectors.likely_duplicates(org_a.worker, "Jose", "Tapya", date(2003, 1, 15))
    assert list(ranked) == [same_day, born_elsewhere]
    assert ranked[0].duplicate_score > ranked[1].duplicate_score


def test_names_are_suggested_as_typed_from_the_users_organisations_only(
    org_a, org_b, worker_client
):
    ours = ParticipantFactory(
        organization=org_a.organization,
        first_name="Jose",
        last_name="Tapia",
        participant_code="A-TAPIA",
        date_of_birth="2003-01-15",
        aliases="Big Tap",
    )
    theirs = ParticipantFactory(
        organization=org_b.organization, first_name="Jose", last_name="Tapiaz"
    )
    shared = ParticipantFactory(
        organization=org_b.organization, first_name="Josef", last_name="Tapia"
    )
    # Shared with org A under consent and enrolled there: visible to A, still B's person.
    ConsentFactory(participant=shared, organization=org_a.organization)
    EnrollmentFactory(participant=shared, program=org_a.program)

    response = worker_client.get(
        reverse("participant_matches"), {"first_name": "Jose", "last_name": "Tapya"}
    )
    assert response.status_code == 200
    content = response.content.decode()
    assert "Jose Tapia" in content
    assert reverse("participant_detail", args=[ours.pk]) in content
    # Names only: no code, birth date or alias of the person in the hint.
    for detail in ("A-TAPIA", "2003", "Big Tap"):
        assert detail not in content
    assert theirs.last_name not in content
    assert "Josef" not in content

    # Another organisation's worker typing the same name is told nothing of org A's people.
    outsider = logged_in(org_b.worker).get(
        reverse("participant_matches"), {"first_name": "Jose", "last_name": "Tapya"}
    )
    assert "Big Tap" not in outsider.content.decode()
    assert reverse("participant_detail", args=[ours.pk]) not in outsider.content.decode()


def test_suggestions_wait_for_a_name_and_ignore_half_typed_dates(org_a, worker_client):
    ParticipantFactory(organization=org_a.organization, first_name="Jose", last_name="Tapia")
    url = reverse("participant_matches")
    assert worker_client.get(url, {"first_name": "J"}).content.decode().strip() == ""
    half_date = worker_client.get(
        url, {"first_name": "Jose", "last_name": "Tapia", "date_of_birth": "2003-0"}
    )
    assert half_date.status_code == 200
    assert "Jose Tapia" in half_date.content.decode()


def test_the_register_form_asks_for_matches_as_the_name_is_typed(org_a, worker_client):
    content = worker_client.get(reverse("participant_register")).content.decode()
    assert f'hx-get="{reverse("participant_matches")}"' in content
    assert 'id="name-matches"' in content
