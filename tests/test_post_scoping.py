"""One door for writes: no outsider changes organisation A's records by POST.

Every route of the URL resolver is classified here, and a route that answers POST but is in no
list fails `test_every_route_that_takes_post_is_classified`:
- WRITES: a valid body carrying A's ids (built per route; `test_the_body_is_valid_for_a` proves
  it by letting one of A's own users send it and seeing the database change) is sent by every
  outsider (B's worker and manager, an analyst, staff in no group). Each must be refused
  (404, 403, or the form shown again with an error) and leave every row of every project and
  account table as it was (tests/registry.py's snapshot);
- PAGES_ANSWERING_POST: read pages without a method check; a POST by an outsider changes
  nothing and shows nothing of A's;
- OWN_ACCOUNT: sign-in, sign-out, password and two-step login act on the signed-in person's
  own account and carry no organisation's record;
- CITY_WIDE: city-wide work for city admins and analysts (no organisation's record in the
  body): every organisation's user is refused, and nobody changes a row;
- the Django admin: every admin URL, POSTed by every outsider with A's ids (a change, an
  add and the delete action at once), is refused and changes nothing.
A route that answers POST with 405 to those of A's worker and manager its guard lets in (at
least one of them; the other may be refused by the guard with 403) takes no POST.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.forms import BaseForm, BaseFormSet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from interventions.models import Enrollment, Membership, Session
from interventions.models.outcomes import InstrumentVersion
from interventions.models.plans import FundingSource, Goal, IncentiveEntry, LifePlan
from interventions.services import plans as plan_services
from tests.abuse.helpers import (
    incident_data,
    now_local,
    referral_data,
    register_data,
    session_data,
    today,
)
from tests.conftest import OrgSetup, logged_in
from tests.factories import EnrollmentFactory, MembershipFactory, ProgramFactory, UserFactory
from tests.outcomes.factories import InstrumentFactory, make_version
from tests.registry import changed_tables, snapshot_rows
from tests.test_scoping import (
    ADMIN_ROUTES,
    RECORD_BUILDERS,
    ROUTES,
    World,
    admin_url,
    build_url,
    content,
    leaked,
    make_world,
    outsiders,
)


@pytest.fixture(name="world")
def world_fixture(org_a: OrgSetup, org_b: OrgSetup) -> World:
    return make_world(org_a, org_b)


@dataclass(frozen=True)
class Write:
    body: Callable[[World], dict[str, Any]]
    # Who in organisation A may send the body, for the control.
    sender: str = "worker"
    # The address, when the route's record must be in a state of its own first (a draft plan
    # to approve, a paid entry to reverse); otherwise the scoping world's records.
    url: Callable[[World], str] | None = None


def _edit_body(world: World) -> dict[str, Any]:
    # The form's version field is the record's version when the page was drawn: read it the
    # way a browser would.
    page = logged_in(world.a.worker).get(reverse("participant_edit", args=[world.participant.pk]))
    version = re.search(r'name="version" value="([^"]+)"', page.content.decode())
    assert version, "the edit page carries its version"
    participant = world.participant
    return {
        "first_name": participant.first_name,
        "last_name": "Renamed",
        "aliases": participant.aliases,
        "date_of_birth": "",
        "phone": "",
        "area": "",
        "referral_source": participant.referral_source,
        "risk_tier": participant.risk_tier,
        "version": version.group(1),
    }


def _assign_body(world: World) -> dict[str, Any]:
    colleague = MembershipFactory(
        organization=world.a.organization, role=Membership.Role.OUTREACH_WORKER
    ).user
    return {
        "org": world.a.organization.slug,
        "enrollments": [world.enrollment.pk],
        "worker": colleague.pk,
    }


def _review_body(world: World) -> dict[str, Any]:
    return {
        "organization": world.a.organization.pk,
        "period_start": today(),
        "period_end": today(),
        "decisions": "Reach both families before Friday.",
        "followup-TOTAL_FORMS": "1",
        "followup-INITIAL_FORMS": "0",
        "followup-MIN_NUM_FORMS": "0",
        "followup-MAX_NUM_FORMS": "10",
        "followup-0-assigned_to": world.a.worker.pk,
        "followup-0-description": "Visit the family",
        "followup-0-due_on": "",
    }


# Plans and the ledger: the world holds A's approved plan, a goal, a met milestone and a
# requested incentive (tests/test_scoping.py, _plan_and_incentive).


def _plan(world: World) -> LifePlan:
    return LifePlan.objects.get(pk=world.records["plan"])


def _entry(world: World) -> IncentiveEntry:
    return IncentiveEntry.objects.get(pk=world.records["entry"])


def _finance(world: World) -> Any:
    if "finance" not in world.records:
        world.records["finance"] = MembershipFactory(
            organization=world.a.organization, role=Membership.Role.FINANCE
        ).user.pk
    return get_user_model().objects.get(pk=world.records["finance"])


def _start_plan_url(world: World) -> str:
    # An enrolment of A's in a second program, with no plan yet.
    enrollment = EnrollmentFactory(
        participant=world.participant,
        program=ProgramFactory(organization=world.a.organization),
        assigned_worker=world.a.worker,
    )
    return reverse("plan_start", args=[enrollment.pk])


def _draft_url(world: World) -> str:
    draft = plan_services.start_new_version(plan=_plan(world), by=world.a.worker)
    return reverse("plan_approve", args=[draft.pk])


def _open_milestone_url(world: World) -> str:
    milestone = plan_services.add_milestone(
        goal=Goal.objects.get(pk=world.records["goal"]),
        by=world.a.worker,
        description="Open a bank account",
        due_on=timezone.localdate(),
    )
    return reverse("milestone_met", args=[milestone.pk])


def _incentive_body(world: World) -> dict[str, Any]:
    if "open milestone" not in world.records:
        milestone = plan_services.add_milestone(
            goal=Goal.objects.get(pk=world.records["goal"]),
            by=world.a.worker,
            description="Keep the job a month",
            due_on=timezone.localdate(),
        )
        plan_services.mark_milestone_met(milestone=milestone, by=world.a.worker)
        world.records["open milestone"] = milestone.pk
    return {
        "milestones": [world.records["open milestone"]],
        "month": timezone.localdate().strftime("%Y-%m"),
        "amount": "50.00",
        "funding_source": FundingSource.PUBLIC_GRANT,
    }


def _approved_entry_url(world: World) -> str:
    entry = plan_services.approve_incentive(entry=_entry(world), by=world.a.manager)
    return reverse("incentive_pay", args=[entry.pk])


def _paid_entry_url(world: World) -> str:
    entry = plan_services.approve_incentive(entry=_entry(world), by=world.a.manager)
    plan_services.mark_incentive_paid(
        entry=entry, by=_finance(world), paid_on=timezone.localdate(), method="cash"
    )
    return reverse("incentive_reverse", args=[entry.pk])


# Assessments: a published instrument, answered by its ?instrument= address.
INSTRUMENT = "post-matrix-tool"


def _instrument(world: World) -> InstrumentVersion:
    if "instrument" not in world.records:
        world.records["instrument"] = make_version(
            instrument=InstrumentFactory(slug=INSTRUMENT), scales=2
        ).pk
    return InstrumentVersion.objects.get(pk=world.records["instrument"])


def _assessment_url(world: World) -> str:
    _instrument(world)
    return reverse("assessment_create", args=[world.participant.pk]) + f"?instrument={INSTRUMENT}"


def _assessment_body(world: World) -> dict[str, Any]:
    items = _instrument(world).items.all()
    return {"assessed_on": today(), **{f"item_{item.pk}": "1" for item in items}}


WRITES: dict[str, Write] = {
    "session_log": Write(lambda w: session_data(w.participant.pk, program=w.a.program.pk)),
    "participant_register": Write(lambda w: register_data(w.a.program.pk)),
    "participant_edit": Write(_edit_body),
    "referral_create": Write(lambda w: referral_data()),
    "referral_advance": Write(lambda w: {"status": "accepted", "on": today(), "outcome": ""}),
    "enrollment_status": Write(lambda w: {"status": "inactive", "on": today(), "note": ""}),
    "enrollment_exit": Write(
        lambda w: {
            "reason": Enrollment.ExitReason.GRADUATED,
            "on": today(),
            "note": "",
            "confirm": "1",
        }
    ),
    "consent_create": Write(
        lambda w: {"share_with": w.b.organization.pk, "granted_on": today(), "note": ""},
        sender="manager",
    ),
    "consent_revoke": Write(lambda w: {"on": today(), "confirm": "1"}, sender="manager"),
    "consent_override": Write(
        lambda w: {
            "participant_code": w.participant.participant_code,
            "reason": "Credible threat reported by hospital staff tonight",
        },
        sender="override holder",
    ),
    "assign_workers": Write(_assign_body, sender="manager"),
    "incident_new": Write(
        lambda w: incident_data(w.a.organization.pk, participants=[w.participant.pk]),
        sender="manager",
    ),
    "response_task_complete": Write(
        lambda w: {
            "action": "log",
            "occurred_at": now_local(),
            "duration_minutes": "30",
            "location": Session.Location.STREET,
            "notes": "",
            "client_key": str(uuid.uuid4()),
        }
    ),
    "response_task_cancel": Write(lambda w: {}, sender="manager"),
    "shooting_review": Write(_review_body, sender="manager"),
    "callin_new": Write(
        lambda w: {
            "organization": w.a.organization.pk,
            "held_on": today(),
            "place": "Community hall",
            "area": "",
            "attendees": [w.participant.pk],
            "notes": "",
            "form_token": str(uuid.uuid4()),
        },
        sender="manager",
    ),
    "custom_notification_new": Write(
        lambda w: {
            "participant": w.participant.pk,
            "delivered_on": today(),
            "deliverers": [w.a.worker.pk],
            "message_delivered": "on",
            "response": "",
            "response_notes": "",
            "form_token": str(uuid.uuid4()),
        },
        sender="manager",
    ),
    # The offline app's queue sends the session form's body to its own address.
    "send_queued_session": Write(lambda w: session_data(w.participant.pk, program=w.a.program.pk)),
    "invite_staff": Write(
        lambda w: {
            "first_name": "Invited",
            "last_name": "Colleague",
            "email": f"invited-{uuid.uuid4().hex[:8]}@example.org",
            "organization": w.a.organization.pk,
            "role": Membership.Role.OUTREACH_WORKER,
        },
        sender="manager",
    ),
    # Outcomes, demographics and assessments.
    "outcome_event_create": Write(
        lambda w: {"kind": "employment_started", "occurred_on": today(), "source": "employer"}
    ),
    "victimization_from_incident": Write(lambda w: {"source": "hospital"}),
    "demographics_edit": Write(
        lambda w: {"gender": "man", "race_ethnicity": ["white"], "preferred_language": "spanish"}
    ),
    "risk_tier_set": Write(lambda w: {"tier": "1", "reason": "Shot at last week"}),
    "assessment_create": Write(_assessment_body, url=_assessment_url),
    # Life plans.
    "plan_start": Write(lambda w: {"template": ""}, url=_start_plan_url),
    "plan_approve": Write(lambda w: {}, sender="manager", url=_draft_url),
    "plan_review": Write(lambda w: {"on": today()}),
    "plan_new_version": Write(lambda w: {}),
    "goal_add": Write(
        lambda w: {
            "domain": "education",
            "description": "Finish the GED",
            "target_on": today(),
            "form_token": str(uuid.uuid4()),
        }
    ),
    "goal_edit": Write(
        lambda w: {
            "domain": "employment",
            "description": "Keep a job for six months",
            "target_on": today(),
            "status": "in_progress",
        }
    ),
    "milestone_add": Write(
        lambda w: {
            "description": "Two interviews",
            "due_on": today(),
            "form_token": str(uuid.uuid4()),
        }
    ),
    "milestone_met": Write(lambda w: {"on": today()}, url=_open_milestone_url),
    # The incentive ledger.
    "incentive_request": Write(_incentive_body),
    "incentive_approve": Write(lambda w: {}, sender="manager"),
    "incentive_decline": Write(lambda w: {"reason": "Not this month"}, sender="manager"),
    "incentive_pay": Write(
        lambda w: {"paid_on": today(), "method": "cash", "reference": ""},
        sender="finance",
        url=_approved_entry_url,
    ),
    "incentive_reverse": Write(lambda w: {}, sender="manager", url=_paid_entry_url),
}

# Read pages whose views do not check the method: a POST is answered like a GET.
PAGES_ANSWERING_POST = {
    "home",
    "incident_list",
    "incident_detail",
    "response_tasks",
    "response_overdue",
    "response_reach",
    "notification_funnel",
    "streetgroup_list",
    "streetgroup_detail",
}

OWN_ACCOUNT = {
    "login": "signs in as whoever's password is typed; tests/security/test_sessions.py",
    "logout": "ends the sender's own session",
    "password_change": "changes the sender's own password (old password required)",
    "two_factor_setup": "adds an authenticator to the sender's own account",
    "two_factor_verify": "checks a code against the sender's own authenticator",
    "keep_alive": "marks the sender's own session active; no body, no record",
    "set_language": "the sender's own language (a cookie, and their own settings row when "
    "signed in; tests/test_translations.py)",
    "reminder_settings": "the sender's own reminder choices (one row per user, keyed by the "
    "session's user, never by an id in the body)",
    "staff_invitation_accept": "sets the password of the account the e-mailed token names; the "
    "token, not an id, is the key (tests/interventions/test_staff_invitations.py)",
}

# City-wide work by POST, for city admins and analysts only: no organisation's record is named
# in the body, so an organisation's users are refused and nothing changes.
CITY_WIDE = {
    "metrics:extract": "the evaluator extract, sent by POST to keep its key out of addresses; "
    "its content is tested in tests/metrics (pseudonymised, audited)",
}

# Admin pages about the sender's own session or password, not a record.
ADMIN_OWN_ACCOUNT = {"admin:logout", "admin:password_change", "admin:login"}

ROUTES_BY_NAME = {route.name: route for route in ROUTES}


def _url(name: str, world: World) -> str:
    write = WRITES.get(name)
    if write is not None and write.url is not None:
        return write.url(world)
    return build_url(ROUTES_BY_NAME[name], world)


def _has_error(response: Any) -> bool:
    """The form came back with an error, or the redirect carries an error message."""
    if response.status_code == 302:
        messages = get_messages(response.wsgi_request)
        return any(message.level == message_levels.ERROR for message in messages)
    # 400 and 422: a form page shown again with its errors (the offline queue's answer is 422).
    if response.status_code not in {200, 400, 422} or response.context is None:
        return False
    for key in response.context.keys():  # noqa: SIM118 - a ContextList is not a dict
        value = response.context[key]
        if isinstance(value, BaseForm) and value.is_bound and value.errors:
            return True
        if isinstance(value, BaseFormSet) and value.is_bound and not value.is_valid():
            return True
    return False


def _refused(response: Any) -> bool:
    return response.status_code in {403, 404} or _has_error(response)


def test_every_route_that_takes_post_is_classified(world: World) -> None:
    classified = WRITES.keys() | PAGES_ANSWERING_POST | OWN_ACCOUNT.keys() | CITY_WIDE.keys()
    names = {route.name for route in ROUTES}
    assert classified <= names, f"listed but gone: {sorted(classified - names)}"
    unclassified = []
    for route in ROUTES:
        if route.name in classified:
            continue
        if set(route.kwargs) - set(RECORD_BUILDERS):
            unclassified.append(f"{route.name}: kwargs the scoping test cannot build")
            continue
        url = build_url(route, world)
        answers = [
            logged_in(user).post(url).status_code for user in (world.a.worker, world.a.manager)
        ]
        if not (set(answers) <= {403, 405} and 405 in answers):
            unclassified.append(f"{route.name} answers POST with {answers}")
    assert not unclassified, (
        "routes that take POST with no entry in tests/test_post_scoping.py (add a body to "
        f"WRITES): {unclassified}"
    )


def _post_as_each_outsider(
    url: str, body: Callable[[], dict[str, Any]], world: World
) -> tuple[list[str], dict[str, Any]]:
    problems, responses = [], {}
    for who, client in outsiders(world).items():
        data = body()
        before = snapshot_rows()
        response = client.post(url, data)
        changed = changed_tables(before, snapshot_rows())
        if changed:
            problems.append(f"{who} POST {url} changed {changed}")
        if leaked(content(response), data):
            problems.append(f"{who} POST {url} shows A's data")
        responses[who] = response
    return problems, responses


@pytest.mark.parametrize("name", sorted(WRITES))
def test_an_outsider_posting_a_ids_is_refused_and_changes_nothing(name: str, world: World) -> None:
    url = _url(name, world)
    problems, responses = _post_as_each_outsider(url, lambda: WRITES[name].body(world), world)
    for who, response in responses.items():
        if not _refused(response):
            problems.append(f"{who} POST {url} answered {response.status_code} without an error")
    assert not problems, "\n".join(problems)


def _sender(write: Write, world: World) -> Client:
    if write.sender == "finance":
        return logged_in(_finance(world))
    if write.sender == "override holder":
        # The emergency override is a permission of its own, given to someone outside A.
        holder = world.b.manager
        holder.user_permissions.add(Permission.objects.get(codename="override_consent"))
        return logged_in(holder)
    return logged_in(world.a.worker if write.sender == "worker" else world.a.manager)


@pytest.mark.parametrize("name", sorted(WRITES))
def test_the_body_is_valid_for_a(name: str, world: World) -> None:
    """The control: sent by one of A's own people, the same body is accepted and writes, so
    the outsiders' refusal is about who sent it, not a broken body."""
    write = WRITES[name]
    client = _sender(write, world)
    data = write.body(world)
    before = snapshot_rows()
    response = client.post(_url(name, world), data)
    assert response.status_code in {200, 302}
    assert not _has_error(response), response.content.decode()[:2000]
    assert changed_tables(before, snapshot_rows()), f"{name}: A's own POST changed nothing"


@pytest.mark.parametrize("name", sorted(PAGES_ANSWERING_POST))
def test_a_read_page_posted_by_an_outsider_changes_nothing(name: str, world: World) -> None:
    body = {"participant": world.participant.pk, "organization": world.a.organization.pk}
    problems, responses = _post_as_each_outsider(_url(name, world), lambda: body, world)
    for who, response in responses.items():
        if response.status_code not in {200, 302, 403, 404}:
            problems.append(f"{who} POST {name} answered {response.status_code}")
    assert not problems, "\n".join(problems)


def _extract_body(world: World) -> dict[str, Any]:
    return {
        "organizations": [world.a.organization.slug],
        "start": "2024-01",
        "end": "2024-12",
        "key": "k" * 64,
    }


@pytest.mark.parametrize("name", sorted(CITY_WIDE))
def test_city_wide_posts_refuse_every_organisations_user_and_change_nothing(
    name: str, world: World
) -> None:
    problems, responses = _post_as_each_outsider(
        _url(name, world), lambda: _extract_body(world), world
    )
    for who in ("B's worker", "B's manager", "staff in no group"):
        if responses[who].status_code != 403:
            problems.append(f"{who} POST {name} answered {responses[who].status_code}")
    for user in (world.a.worker, world.a.manager):
        answer = logged_in(user).post(_url(name, world), _extract_body(world)).status_code
        if answer != 403:
            problems.append(f"A's {user} POST {name} answered {answer}")
    # The control: the city's analyst is let in.
    assert responses["an analyst"].status_code == 200, responses["an analyst"].content[:2000]
    assert not problems, "\n".join(problems)


def _admin_body(world: World) -> dict[str, Any]:
    """A's ids in the shapes admin forms take: a change, an add and the delete action."""
    return {
        "organization": world.a.organization.pk,
        "participant": world.participant.pk,
        "user": world.a.worker.pk,
        "first_name": "Renamed",
        "last_name": "Renamed",
        "participant_code": "ADMIN-POST",
        "identified_on": today(),
        "action": "delete_selected",
        "_selected_action": [world.participant.pk],
        "post": "yes",
        "_save": "Save",
    }


def _is_login_redirect(response: Any) -> bool:
    return response.status_code == 302 and response["Location"].startswith(
        (reverse("admin:login"), reverse("login"))
    )


def test_admin_posts_by_outsiders_are_refused_and_change_nothing(world: World) -> None:
    """Every admin URL, one world: non-staff outsiders are sent to a login; staff in no group
    gets 403/404 (or a page that lists nothing); nobody changes a row."""
    clients = outsiders(world)
    assert len(ADMIN_ROUTES) > 100
    problems = []
    for route in ADMIN_ROUTES:
        if route.name in ADMIN_OWN_ACCOUNT:
            continue
        url = admin_url(route, world)
        before = snapshot_rows()
        for who, client in clients.items():
            response = client.post(url, _admin_body(world))
            status = response.status_code
            if leaked(content(response)):
                problems.append(f"{who} POST {url} shows A's data")
            allowed = _is_login_redirect(response) or status in {403, 404, 405}
            if who == "staff in no group":
                allowed = allowed or status in {200, 302}
            if not allowed:
                problems.append(f"{who} POST {url} answered {status}")
        changed = changed_tables(before, snapshot_rows())
        if changed:
            problems.append(f"POST {url} by an outsider changed {changed}")
    assert not problems, "\n".join(problems)


def test_the_admin_body_writes_for_a_city_admin(world: World) -> None:
    """The control for the admin walk: a POST that the admin accepts is seen by the snapshot,
    so the walk's "changed nothing" is not a blind comparison."""
    admin = UserFactory(username="post-matrix-admin", is_staff=True, is_superuser=True)
    client = logged_in(admin)
    url = reverse("admin:interventions_area_add")
    before = snapshot_rows()
    response = client.post(url, {"name": "Posted area", "slug": "posted-area", "kind": "city"})
    assert response.status_code == 302
    assert changed_tables(before, snapshot_rows())
