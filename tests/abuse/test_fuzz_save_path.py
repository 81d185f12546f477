"""Fuzzing that reaches the save path: every route that takes POST, fed bodies that are valid
but for one thing (hypothesis), so most examples get past the form to the service and the
database.

The routes come from the URL resolver through tests/test_post_scoping.py, which classifies every
route answering POST (and fails on one it has not classified). Each write there has a valid
body builder; this file turns each into a strategy: the valid body, or the valid body with one
field given an odd value, left out, sent twice, or set to one of organisation B's ids. Routes
about the sender's own account and city-wide POSTs get their own valid bodies here;
`test_every_post_route_has_a_body_strategy` fails for a POST route with none.

Each example runs in a savepoint rolled back at its end, so every example starts from the same
world. The first, unfuzzed request (the control) learns what a valid POST writes: which tables
change and how many rows each gains. Then for every example:
- never a server error;
- nothing changed, and the answer says why (403/404/405, a 4xx, the form shown again with an
  error, or a redirect carrying an error message); or
- a complete record: only tables the valid POST writes, the same number of new rows in each
  table where the valid POST adds one, and no new row with a required text field left blank.
A route whose valid POST changes nothing (keep-alive, the evaluator extract) must change
nothing, whatever the body.

Not derandomised: each run tries new examples; a failing one is printed and kept in
hypothesis's example database (.hypothesis/, git-ignored) and tried first next time."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interventions.access import ANALYST_GROUP
from interventions.accounts import two_factor
from interventions.models import Membership
from interventions.services import staff as staff_services
from tests.abuse.test_fuzz import any_text, nasty
from tests.conftest import OrgSetup, logged_in
from tests.factories import TEST_PASSWORD, MembershipFactory, UserFactory
from tests.registry import ACCOUNT_TABLES, changed_tables, project_tables, snapshot_rows
from tests.security.test_two_factor import code_for, password_login
from tests.test_post_scoping import (
    CITY_WIDE,
    OWN_ACCOUNT,
    WRITES,
    _extract_body,
    _has_error,
    _sender,
    _url,
)
from tests.test_scoping import World, make_world

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    print_blob=True,
)

NEW_PASSWORD = "a long new password 2026"


@pytest.fixture(name="world")
def world_fixture(org_a: OrgSetup, org_b: OrgSetup) -> World:
    return make_world(org_a, org_b)


# Valid requests: who sends what where ---------------------------------------------------------


@dataclass(frozen=True)
class Request:
    client: Client
    url: str
    body: dict[str, Any]


def _write(name: str) -> Callable[[World], Request]:
    def build(world: World) -> Request:
        write = WRITES[name]
        return Request(_sender(write, world), _url(name, world), write.body(world))

    return build


def _login(world: World) -> Request:
    return Request(
        Client(), reverse("login"), {"username": world.a.worker.username, "password": TEST_PASSWORD}
    )


def _own(url_name: str, body: dict[str, Any]) -> Callable[[World], Request]:
    def build(world: World) -> Request:
        return Request(logged_in(world.a.worker), reverse(url_name), dict(body))

    return build


def _manager_without_authenticator(world: World) -> Request:
    manager = MembershipFactory(
        organization=world.a.organization, role=Membership.Role.MANAGER
    ).user
    client = password_login(manager.username)
    device = two_factor.pending_authenticator(user=manager)
    return Request(client, reverse("two_factor_setup"), {"code": code_for(device)})


def _manager_with_authenticator(world: World) -> Request:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    manager = MembershipFactory(
        organization=world.a.organization, role=Membership.Role.MANAGER
    ).user
    device = TOTPDevice.objects.create(user=manager, name="Phone", confirmed=True)
    client = password_login(manager.username)
    return Request(client, reverse("two_factor_verify"), {"code": code_for(device)})


def _invitation(world: World) -> Request:
    invited = UserFactory(username=f"invited-{uuid.uuid4().hex[:8]}")
    invited.set_unusable_password()
    invited.save()
    MembershipFactory(
        user=invited, organization=world.a.organization, role=Membership.Role.OUTREACH_WORKER
    )
    return Request(
        Client(),
        staff_services.invitation_path(invited),
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )


def _extract(world: World) -> Request:
    analyst = UserFactory(username=f"analyst-{uuid.uuid4().hex[:8]}")
    analyst.groups.add(Group.objects.get_or_create(name=ANALYST_GROUP)[0])
    return Request(logged_in(analyst), reverse("metrics:extract"), _extract_body(world))


OWN_ACCOUNT_AND_CITY_WIDE: dict[str, Callable[[World], Request]] = {
    "login": _login,
    "logout": _own("logout", {}),
    "password_change": _own(
        "password_change",
        {
            "old_password": TEST_PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
    ),
    "two_factor_setup": _manager_without_authenticator,
    "two_factor_verify": _manager_with_authenticator,
    "keep_alive": _own("keep_alive", {}),
    "set_language": _own("set_language", {"language": "es", "next": "/"}),
    "reminder_settings": _own(
        "reminder_settings",
        {
            "response_tasks": "on",
            "morning_digest": "on",
            "by_email": "on",
            "by_text": "",
            "phone": "",
            "quiet_from": "",
            "quiet_until": "",
        },
    ),
    "staff_invitation_accept": _invitation,
    "metrics:extract": _extract,
}

REQUESTS: dict[str, Callable[[World], Request]] = {
    **{name: _write(name) for name in WRITES},
    **OWN_ACCOUNT_AND_CITY_WIDE,
}


def test_every_post_route_has_a_body_strategy() -> None:
    """Every route tests/test_post_scoping.py knows takes POST (it fails on one it does not
    know) is fuzzed here; read pages that merely answer POST like GET are not writes."""
    takes_post = WRITES.keys() | OWN_ACCOUNT.keys() | CITY_WIDE.keys()
    missing = sorted(takes_post - REQUESTS.keys())
    assert not missing, f"POST routes with no body strategy in {__name__}: {missing}"
    assert not sorted(REQUESTS.keys() - takes_post), "strategies for routes that take no POST"


# Bodies valid but for one thing ---------------------------------------------------------------


def other_organisation_ids(world: World) -> list[int]:
    from interventions.models import Enrollment, Participant

    b = world.b
    return [
        b.organization.pk,
        b.program.pk,
        b.worker.pk,
        b.manager.pk,
        *Participant.objects.filter(organization=b.organization).values_list("pk", flat=True)[:1],
        *Enrollment.objects.filter(program=b.program).values_list("pk", flat=True)[:1],
    ]


odd_values = st.one_of(
    any_text,
    nasty,
    st.integers(-(2**63), 2**63).map(str),
    st.sampled_from(["on", "off", "true", "2000000000", "1.5", "2024-13-01", "25:99"]),
)


def bodies(valid: dict[str, Any], foreign_ids: list[int]) -> st.SearchStrategy[dict[str, Any]]:
    """The valid body most often unchanged in all but one key: that key given an odd value,
    left out, sent twice (the valid value and another), or set to another organisation's id;
    or an unknown key added."""
    keys = sorted(valid)
    unchanged = st.just(dict(valid))
    extra = st.builds(lambda name, value: {**valid, name: value}, any_text, odd_values)
    if not keys:
        return st.one_of(unchanged, extra)
    key = st.sampled_from(keys)

    def replaced(name: str, value: Any) -> dict[str, Any]:
        return {**valid, name: value}

    def left_out(name: str) -> dict[str, Any]:
        return {k: v for k, v in valid.items() if k != name}

    def twice(name: str, value: Any) -> dict[str, Any]:
        first = valid[name] if isinstance(valid[name], list) else [valid[name]]
        return {**valid, name: [*first, value]}

    return st.one_of(
        unchanged,
        st.builds(replaced, key, odd_values),
        st.builds(left_out, key),
        st.builds(twice, key, st.one_of(st.just(""), odd_values)),
        st.builds(twice, key, st.sampled_from(foreign_ids).map(str)),
        st.builds(replaced, key, st.sampled_from(foreign_ids)),
        extra,
    )


# What a POST wrote ----------------------------------------------------------------------------

_TABLES = sorted(project_tables() | set(ACCOUNT_TABLES))


@functools.cache
def _models_by_table() -> dict[str, type[models.Model]]:
    return {model._meta.db_table: model for model in apps.get_models(include_auto_created=True)}


def row_counts_and_last_ids() -> dict[str, tuple[int, int]]:
    """Table -> (rows, highest id), in one query; the audit table's records of changes only
    (a page view is recorded too)."""
    quote = connection.ops.quote_name
    parts = []
    for table in _TABLES:
        model = _models_by_table().get(table)
        has_id = model is not None and isinstance(
            model._meta.pk, (models.AutoField, models.BigAutoField)
        )
        last = f"coalesce(max({quote(model._meta.pk.column)}), 0)" if has_id else "0"
        where = (
            " WHERE action IN ('create', 'update', 'delete')" if table == "audit_auditevent" else ""
        )
        parts.append(f"SELECT '{table}', count(*), {last} FROM {quote(table)}{where}")  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts))
        return {table: (rows, last) for table, rows, last in cursor.fetchall()}


def blank_required_fields(before: dict[str, tuple[int, int]]) -> list[str]:
    """New rows with a required text field left empty: a record saved incomplete."""
    problems = []
    for table, (_rows, last) in before.items():
        model = _models_by_table().get(table)
        if model is None or table == "audit_auditevent":
            continue
        required = [
            field.name
            for field in model._meta.concrete_fields
            if isinstance(field, (models.CharField, models.TextField))
            and not field.blank
            and not field.null
        ]
        if not required or not isinstance(model._meta.pk, (models.AutoField, models.BigAutoField)):
            continue
        for row in model._base_manager.filter(pk__gt=last).values("pk", *required):
            problems += [
                f"{table} {row['pk']}: {name} is blank" for name in required if row[name] == ""
            ]
    return problems


@dataclass
class Written:
    tables: list[str]
    added: dict[str, int]


def post(request: Request) -> tuple[Any, Written, list[str]]:
    digests, counts = snapshot_rows(), row_counts_and_last_ids()
    response = request.client.post(request.url, request.body)
    after = row_counts_and_last_ids()
    written = Written(
        changed_tables(digests, snapshot_rows()),
        {table: after[table][0] - counts[table][0] for table in after},
    )
    return response, written, blank_required_fields(counts)


def _asks_to_confirm(response: Any) -> bool:
    """An exit or a revocation sent without its confirmation shows the page that asks for it."""
    if response.status_code != 200 or response.context is None:
        return False
    return bool(response.context.get("confirming")) or b'name="confirm"' in response.content


def _refused_clearly(response: Any) -> bool:
    return 400 <= response.status_code < 500 or _has_error(response) or _asks_to_confirm(response)


# What a refused POST may still write, and why: a wrong code counts against the authenticator
# (django-otp's throttling), which is the point of refusing it.
REFUSAL_WRITES = {
    "two_factor_setup": {"otp_totp_totpdevice"},
    "two_factor_verify": {"otp_totp_totpdevice", "otp_static_staticdevice"},
}

# Relations a valid record may have none of: the valid body sends one, a body without it still
# saves a complete record.
OPTIONAL_ROWS = {
    "callin_new": {
        "interventions_callin_attendees": "a call-in may be recorded before anyone is marked "
        "present (the form's attendees are optional)",
    },
}


def _in_a_savepoint(world: World, work: Callable[[], None]) -> None:
    """Run and roll back, and forget the ids the world's builders cached meanwhile."""
    cached = dict(world.records)
    try:
        with transaction.atomic():
            work()
            transaction.set_rollback(True)
    finally:
        world.records.clear()
        world.records.update(cached)


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_a_post_saves_one_complete_record_or_nothing_with_a_reason(name: str, world: World) -> None:
    build = REQUESTS[name]
    foreign = other_organisation_ids(world)
    control: dict[str, Any] = {}

    def learn() -> None:
        response, written, blank = post(build(world))
        assert response.status_code < 500, response.content[:2000]
        assert not _has_error(response), f"{name}: the valid body was refused"
        assert not blank, blank
        control.update(response=response, written=written)

    _in_a_savepoint(world, learn)
    expected: Written = control["written"]
    one_row = {table for table, added in expected.added.items() if added == 1}

    @FUZZ
    @given(data=st.data())
    def run(data: st.DataObject) -> None:
        def example() -> None:
            request = build(world)
            body = data.draw(bodies(request.body, foreign), label="body")
            response, written, blank = post(Request(request.client, request.url, body))
            assert response.status_code < 500, response.content[:2000]
            assert not connection.needs_rollback
            if not expected.tables:
                assert not written.tables, f"{name} wrote {written.tables}"
                return
            if _has_error(response) and set(written.tables) <= REFUSAL_WRITES.get(name, set()):
                return
            if not written.tables:
                assert _refused_clearly(response), (
                    f"{name} saved nothing and answered {response.status_code} with no error"
                )
                return
            assert not _has_error(response), f"{name} showed an error but wrote {written.tables}"
            assert set(written.tables) <= set(expected.tables), (
                f"{name} wrote {written.tables}, the valid body {expected.tables}"
            )
            optional = OPTIONAL_ROWS.get(name, {})
            partial = {
                table: written.added[table]
                for table in one_row
                if written.added[table] != 1
                and not (table in optional and written.added[table] == 0)
            }
            assert not partial, f"{name}: rows added {partial}; the valid body adds one to each"
            assert not blank, blank

        _in_a_savepoint(world, example)

    run()
