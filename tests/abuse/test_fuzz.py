"""The main write views, fed generated field values (hypothesis): never a server error, and
either one complete record written or none, never part of one. Every POST route, with bodies
valid but for one thing so the save path is reached, is fuzzed in test_fuzz_save_path.py."""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interventions.models import (
    Enrollment,
    EnrollmentStatusChange,
    Incident,
    IncidentParticipant,
    Participant,
    Referral,
    Session,
    SessionParticipant,
)
from metrics.models import CrimeOutcome, Measure
from tests.abuse.helpers import (
    PAYLOAD,
    incident_data,
    referral_data,
    register_data,
    session_data,
    today,
)
from tests.conftest import logged_in
from tests.factories import (
    AreaFactory,
    EnrollmentFactory,
    MembershipFactory,
    ParticipantFactory,
    ReferralFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    # New examples on every run; a failing one is printed (with the blob that replays it) and
    # kept in hypothesis's example database (.hypothesis/, git-ignored), tried first next run.
    print_blob=True,
)

# Text a person, a broken client or an attacker might send. No lone surrogates: they cannot be
# encoded into a request at all.
any_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=120)
nasty = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "99999999999999999999999",
        "1e309",
        "NaN",
        "2024-02-30",
        "0000-00-00",
        "9999-12-31T23:59",
        "\x00",
        "nul\x00in the middle",
        "null",
        "[]",
        "../../etc/passwd",
        PAYLOAD,
        "x" * 6000,
    ]
)


def field_values(valid: Any) -> st.SearchStrategy[Any]:
    """The valid value most of the time, else anything."""
    return st.one_of(st.just(valid), st.just(valid), any_text, nasty)


def spoiled(valid: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({name: field_values(value) for name, value in valid.items()})


def _counts(*models: Any) -> tuple[int, ...]:
    return tuple(model.objects.count() for model in models)


def _ok(response: Any) -> None:
    assert response.status_code < 500, response.content[:500]
    # The request's transaction ended cleanly: nothing left half-done for the next query.
    assert not connection.needs_rollback


@pytest.fixture
def caseload(org_a):  # type: ignore[no-untyped-def]
    participant = ParticipantFactory(organization=org_a.organization)
    enrollment = EnrollmentFactory(
        participant=participant, program=org_a.program, assigned_worker=org_a.worker
    )
    return participant, enrollment


def test_log_session(org_a, caseload):
    participant, _ = caseload
    client = logged_in(org_a.worker)

    @FUZZ
    @given(data=spoiled(session_data(participant.pk, notes="Checked in at the park.")))
    def run(data: dict[str, Any]) -> None:
        data["client_key"] = str(uuid.uuid4()) if data["client_key"] else data["client_key"]
        before = _counts(Session, SessionParticipant)
        response = client.post(reverse("session_log"), data)
        _ok(response)
        sessions, attendance = (
            a - b for a, b in zip(_counts(Session, SessionParticipant), before, strict=True)
        )
        assert sessions in {0, 1}
        assert attendance == sessions  # one participant posted: one attendance row with it
        assert (response.status_code == 302) == (sessions == 1)

    run()


def test_register_participant(org_a):
    client = logged_in(org_a.worker)

    @FUZZ
    @given(data=spoiled(register_data(org_a.program.pk, first_name="Dante", last_name="Moreno")))
    def run(data: dict[str, Any]) -> None:
        data["form_token"] = str(uuid.uuid4())
        before = _counts(Participant, Enrollment, EnrollmentStatusChange)
        response = client.post(reverse("participant_register"), data)
        _ok(response)
        people, enrollments, changes = (
            a - b
            for a, b in zip(
                _counts(Participant, Enrollment, EnrollmentStatusChange), before, strict=True
            )
        )
        assert people in {0, 1}
        assert enrollments == people  # a participant never without their enrolment
        assert (changes >= 1) == (people == 1)

    run()


def test_create_referral(org_a, caseload):
    participant, _ = caseload
    client = logged_in(org_a.worker)
    url = reverse("referral_create", args=[participant.pk])

    @FUZZ
    @given(data=spoiled(referral_data(notes="Interview Tuesday.")))
    def run(data: dict[str, Any]) -> None:
        before = Referral.objects.count()
        response = client.post(url, data)
        _ok(response)
        assert Referral.objects.count() - before in {0, 1}

    run()


def test_advance_referral(org_a, caseload):
    participant, _ = caseload
    client = logged_in(org_a.worker)

    @FUZZ
    @given(data=spoiled({"status": Referral.Status.ACCEPTED, "on": today(), "outcome": "Started."}))
    def run(data: dict[str, Any]) -> None:
        referral = ReferralFactory(participant=participant, made_by=org_a.worker)
        response = client.post(reverse("referral_advance", args=[referral.pk]), data)
        _ok(response)
        after = Referral.objects.get(pk=referral.pk)
        if response.status_code == 302:
            assert after.status == data["status"]
            assert after.accepted_on is not None
        else:
            assert (after.status, after.outcome) == (Referral.Status.MADE, "")

    run()


@pytest.mark.parametrize("action", ["enrollment_status", "enrollment_exit"])
def test_change_or_end_an_enrolment(org_a, action):
    client = logged_in(org_a.worker)
    valid = (
        {"status": Enrollment.Status.INACTIVE, "on": today(), "note": "Moved away for a while."}
        if action == "enrollment_status"
        else {"reason": Enrollment.ExitReason.GRADUATED, "on": today(), "note": "", "confirm": "1"}
    )

    @FUZZ
    @given(data=spoiled(valid))
    def run(data: dict[str, Any]) -> None:
        enrollment = EnrollmentFactory(
            participant=ParticipantFactory(organization=org_a.organization),
            program=org_a.program,
            assigned_worker=org_a.worker,
        )
        before = EnrollmentStatusChange.objects.count()
        response = client.post(reverse(action, args=[enrollment.pk]), data)
        _ok(response)
        written = EnrollmentStatusChange.objects.count() - before
        enrollment.refresh_from_db()
        assert written in {0, 1}
        # The status and its history move together or not at all.
        assert (enrollment.status != Enrollment.Status.ACTIVE) == (written == 1)

    run()


def test_assign_workers(org_a, caseload):
    _, enrollment = caseload
    other = UserFactory(username="org-a-second-worker")
    MembershipFactory(user=other, organization=org_a.organization)
    client = logged_in(org_a.manager)

    @FUZZ
    @given(data=spoiled({"enrollments": str(enrollment.pk), "worker": str(other.pk)}))
    def run(data: dict[str, Any]) -> None:
        Enrollment.objects.filter(pk=enrollment.pk).update(assigned_worker=org_a.worker)
        response = client.post(reverse("assign_workers"), data)
        _ok(response)
        enrollment.refresh_from_db()
        assert enrollment.assigned_worker_id in {org_a.worker.pk, other.pk}
        if enrollment.assigned_worker_id == other.pk:
            assert (data["enrollments"], data["worker"]) == (str(enrollment.pk), str(other.pk))

    run()


def test_new_incident(org_a, caseload):
    participant, _ = caseload
    client = logged_in(org_a.manager)
    valid = incident_data(org_a.organization.pk, location_description="Near the park")
    valid["victims"] = str(participant.pk)

    @FUZZ
    @given(data=spoiled(valid))
    def run(data: dict[str, Any]) -> None:
        data["form_token"] = str(uuid.uuid4())
        before = _counts(Incident, IncidentParticipant)
        response = client.post(reverse("incident_new"), data)
        _ok(response)
        incidents, people = (
            a - b for a, b in zip(_counts(Incident, IncidentParticipant), before, strict=True)
        )
        assert incidents in {0, 1}
        assert people == (incidents if data["victims"] == str(participant.pk) else 0)
        assert (response.status_code == 302) == (incidents == 1)

    run()


def _csv(rows: list[dict[str, str]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["area", "period", "measure", "count", "source"])
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def test_outcome_import_is_all_or_nothing(city_admin):
    AreaFactory(slug="bakersfield", name="Bakersfield")
    client = logged_in(city_admin)
    url = reverse("admin:metrics_crimeoutcome_import")
    valid_row = {
        "area": "bakersfield",
        "period": "2021",
        "measure": Measure.HOMICIDE,
        "count": "60",
        "source": "City of Bakersfield",
    }
    row = st.fixed_dictionaries({name: field_values(value) for name, value in valid_row.items()})

    def table() -> set[tuple[Any, ...]]:
        return set(CrimeOutcome.objects.values_list("area_id", "period_start", "measure", "count"))

    @FUZZ
    @given(rows=st.lists(row, min_size=1, max_size=4))
    def run(rows: list[dict[str, str]]) -> None:
        before = table()
        try:
            body = _csv(rows)
        except csv.Error:
            return
        upload = SimpleUploadedFile("outcomes.csv", body, content_type="text/csv")
        response = client.post(url, {"file": upload})
        _ok(response)
        if response.status_code != 302:
            assert table() == before  # a refused import changes no row

    run()


# GET parameters of every list page (issue 13, finding 10) ----------------------------------

ODD_QUERIES = [
    ("response_reach", {"end": "0001-01-01"}),
    ("shooting_review", {"end": "0001-01-01"}),
    ("notification_funnel", {"end": "0001-01-01"}),
    ("response_reach", {"start": "9999-12-31"}),
    ("org_sessions", {"occurred_to": "9999-12-31"}),
    ("org_sessions", {"occurred_from": "0001-01-01"}),
    ("metrics:dashboard_csv", {"start": "9999-01"}),
    ("metrics:dashboard", {"start": "9999-01"}),
    ("metrics:dashboard", {"end": "0001-01"}),
]


@pytest.mark.parametrize(("name", "query"), ODD_QUERIES)
def test_odd_dates_in_a_query_are_refused_or_bounded_never_a_server_error(
    org_a, city_admin, name, query
):
    for user in (org_a.manager, city_admin):
        response = logged_in(user).get(reverse(name), query)
        _ok(response)


@pytest.mark.parametrize(
    ("name", "key"),
    [("participant_search", "q"), ("org_participants", "q"), ("metrics:dashboard", "area")],
)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_nul_byte_in_any_parameter_is_a_400(org_a, name, key, method):
    client = logged_in(org_a.manager)
    response = getattr(client, method)(reverse(name), {key: "Elijah\x00"})
    assert response.status_code == 400


def _parameter_names(response: Any) -> set[str]:
    """The names of the inputs a page's forms and filters read, from its template context."""
    import django_filters
    from django import forms as django_forms

    names: set[str] = set()
    contexts = response.context or []
    layers = [contexts] if isinstance(contexts, dict) else list(contexts)
    for layer in layers:
        values = layer.flatten().values() if hasattr(layer, "flatten") else layer.values()
        for value in values:
            if isinstance(value, django_filters.FilterSet):
                value = value.form
            if isinstance(value, django_forms.BaseForm):
                names |= {value.add_prefix(name) for name in value.fields}
    return names


# Pages that read GET parameters, found from the resolver: every route without URL arguments.
def _list_pages() -> list[str]:
    from tests.security.routes import all_routes, is_admin

    return [
        route.name
        for route in all_routes()
        if not route.kwarg_names and not is_admin(route) and "logout" not in route.name
    ]


# Read by pages whose filters are not a form in their context (downloads, the dashboard).
COMMON_PARAMETERS = {"q", "page", "sort", "org", "area", "start", "end", "occurred_to"}


@pytest.mark.parametrize("name", _list_pages())
def test_odd_values_in_any_get_parameter_of_a_list_page(org_a, city_admin, caseload, name):
    AreaFactory(slug="bakersfield")
    values = [
        "0001-01-01",
        "9999-12-31",
        "9999-01",
        "0001-01",
        "-1",
        "99999999999999999999999",
        "1e309",
        "x" * 6000,
    ]
    tried = 0
    for user in (org_a.worker, org_a.manager, city_admin):
        client = logged_in(user)
        plain = client.get(reverse(name))
        if plain.status_code != 200:
            continue
        for parameter in sorted(_parameter_names(plain) | COMMON_PARAMETERS):
            for value in values:
                _ok(client.get(reverse(name), {parameter: value}))
                tried += 1
            nul = client.get(reverse(name), {parameter: "a\x00b"})
            assert nul.status_code == 400, (name, parameter)
        break  # one role that reaches the page is enough: the parameters are the same
    if tried == 0:
        pytest.skip(f"{name}: no role gets a page here (a redirect or a form page)")
