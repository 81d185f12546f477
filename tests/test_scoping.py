"""One door: organisation B never sees organisation A's case records.

The matrix is built from the URL patterns themselves, so a new view joins it automatically:
- every pattern that names a record (`<int:participant_id>` and the like) is requested for a
  record of organisation A by B's worker and B's manager, with GET and POST: the answer must be
  404 (405 when the view does not take that method), never 200, 302 or 500. A pattern with a
  kwarg this file cannot build fails until its model is added to RECORD_BUILDERS;
- every pattern without kwargs (lists, searches, autocompletes, exports, dashboards) is
  requested by the same users, also with A's names, codes and ids in the query string, and
  none of A's names, codes or notes may appear in what comes back.

The outsiders are B's worker, B's manager, an analyst (aggregates only) and a staff user in no
group; a consent A recorded for a third organisation must not open anything to any of them.
The admin has its own matrix (test_every_admin_page_refuses_outsiders): every admin URL, for
every outsider, is a redirect to the admin login or a 403, never a page of data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from interventions.access import ANALYST_GROUP
from interventions.models import (
    CallIn,
    CustomNotification,
    Enrollment,
    EnrollmentStatusChange,
    GroupTie,
    IncidentParticipant,
    Participant,
    Referral,
    ReviewDecision,
    Session,
    ShootingReview,
)
from interventions.views.worker import PARTICIPANT_TABS
from tests.conftest import OrgSetup, logged_in
from tests.factories import (
    ConsentFactory,
    EnrollmentFactory,
    GroupTieFactory,
    IncidentFactory,
    ParticipantFactory,
    PartnerOrganizationFactory,
    ReferralFactory,
    ResponseTaskFactory,
    SessionFactory,
    StreetGroupFactory,
    UserFactory,
)

# Left out of the matrix, on purpose and with the reason. Nothing else is.
EXCLUDED_PREFIXES = {
    "admin/": (
        "the Django admin is the city administrators' area (staff only, permissions from "
        "groups); its scoping is tested with the admin (tests/interventions/test_admin.py)"
    ),
}

# What organisation A holds that must never reach organisation B.
SECRETS = {
    "first_name": "Quintavious",
    "last_name": "Blackthornleak",
    "aliases": "Nightjarleak",
    "participant_code": "ALEAK-00001",
}
SECRET_NOTE = "whispered-secret-note"
# Every other free text A writes about its people, each distinctive enough that finding it in a
# page can only mean the record leaked.
OWNED_TEXT = {
    "incident location": "Alleyleak behind Quarrystone Market",
    "referral provider": "Providerleak Housing Trust",
    "referral note": "referral-secret-note",
    "referral outcome": "referral-secret-outcome",
    "consent note": "consent-secret-witness",
    "status change note": "status-change-secret-note",
    "review decisions": "review-secret-decisions",
    "follow-up task": "followup-secret-task-text",
    "call-in place": "Callinleak Community Hall",
    "call-in note": "callin-secret-note",
    "notification note": "notification-secret-response",
    "tie source": "tiesourceleak informant",
}


@dataclass(frozen=True)
class Route:
    route: str
    name: str
    kwargs: tuple[str, ...]

    def __str__(self) -> str:
        return self.name or self.route


def _kwargs_of(pattern: URLPattern | URLResolver) -> tuple[str, ...]:
    return tuple(pattern.pattern.regex.groupindex)


def _walk(
    patterns: list, prefix: str = "", namespace: str = "", kwargs: tuple[str, ...] = ()
) -> Iterator[Route]:
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _walk(pattern.url_patterns, route, inner, kwargs + _kwargs_of(pattern))
        else:
            name = f"{namespace}{pattern.name}" if pattern.name else ""
            yield Route(route, name, kwargs + _kwargs_of(pattern))


def _excluded(route: Route) -> bool:
    return route.route.startswith(tuple(EXCLUDED_PREFIXES))


ALL_ROUTES = list(_walk(get_resolver().url_patterns))
ROUTES = [route for route in ALL_ROUTES if not _excluded(route)]
# Record routes left out of the record matrix, each named with the reason. Nothing else is.
TOKEN_ROUTES = {
    "staff_invitation_accept": (
        "opened by the token in its address, not by a session: whoever holds the e-mailed link "
        "sets that new account's password once, so there is no organisation's record to refuse "
        "to an outsider; used, expired and borrowed (password-reset) tokens are refused in "
        "tests/interventions/test_staff_invitations.py, and its POST is classified in "
        "tests/test_post_scoping.py"
    ),
}
RECORD_ROUTES = [route for route in ROUTES if route.kwargs and route.name not in TOKEN_ROUTES]
LIST_ROUTES = [route for route in ROUTES if not route.kwargs]


@dataclass
class World:
    """Organisation A's records, one of each kind a URL can name."""

    a: OrgSetup
    b: OrgSetup
    participant: Participant
    enrollment: Enrollment
    session: Session
    records: dict[str, int]
    analyst: object = None
    plain_staff: object = None


# How to build, in organisation A, the record each URL kwarg names. Add a line here for every
# new `<model>_id` kwarg; the matrix fails for any it cannot build.
RECORD_BUILDERS: dict[str, Callable[[World], int]] = {
    "participant_id": lambda world: world.participant.pk,
    "enrollment_id": lambda world: world.enrollment.pk,
    "session_id": lambda world: world.session.pk,
    "referral_id": lambda world: (
        ReferralFactory(participant=world.participant, made_by=world.a.worker).pk
    ),
    "incident_id": lambda world: world.records["incident"],
    "responsetask_id": lambda world: world.records["responsetask"],
    "streetgroup_id": lambda world: world.records["streetgroup"],
    "consent_id": lambda world: world.records["consent"],
    "plan_id": lambda world: world.records["plan"],
    "goal_id": lambda world: world.records["goal"],
    "milestone_id": lambda world: world.records["milestone"],
    "entry_id": lambda world: world.records["entry"],
}

# City-wide reference data rather than an organisation's record: a user of B allowed to see it
# may open the page, but it must not show A's people.
SHARED_RECORDS = {"streetgroup_id"}


@pytest.fixture
def world(org_a: OrgSetup, org_b: OrgSetup) -> World:
    return make_world(org_a, org_b)


def make_world(org_a: OrgSetup, org_b: OrgSetup) -> World:
    participant = ParticipantFactory(organization=org_a.organization, **SECRETS)
    enrollment = EnrollmentFactory(
        participant=participant, program=org_a.program, assigned_worker=org_a.worker
    )
    session = SessionFactory(
        organization=org_a.organization,
        program=org_a.program,
        worker=org_a.worker,
        notes=SECRET_NOTE,
        participants=[participant],
    )
    incident = IncidentFactory(
        organization=org_a.organization,
        entered_by=org_a.manager,
        location_description=OWNED_TEXT["incident location"],
    )
    IncidentParticipant.objects.create(
        incident=incident, participant=participant, role=IncidentParticipant.Role.VICTIM
    )
    task = ResponseTaskFactory(
        incident=incident, participant=participant, assigned_worker=org_a.worker
    )
    group = StreetGroupFactory()
    GroupTieFactory(
        participant=participant,
        group=group,
        kind=GroupTie.Kind.MEMBER,
        source=OWNED_TEXT["tie source"],
    )
    _owned_free_text(org_a, participant, enrollment)
    # B's own records, so B's pages have something in them.
    theirs = EnrollmentFactory(
        participant__organization=org_b.organization,
        program=org_b.program,
        assigned_worker=org_b.worker,
    )
    SessionFactory(
        organization=org_b.organization, worker=org_b.worker, participants=[theirs.participant]
    )
    # A's manager and B's manager may see street intelligence, so the shared group page is
    # really rendered for B (and checked for A's people) rather than refused.
    street_intelligence = Permission.objects.get(codename="view_street_intelligence")
    for user in (org_a.manager, org_b.manager):
        user.user_permissions.add(street_intelligence)
    # A shares the person with a third organisation: that opens nothing to B or anyone else.
    consent = ConsentFactory(
        participant=participant,
        organization=PartnerOrganizationFactory(slug="org-c"),
        recorded_by=org_a.manager,
        note=OWNED_TEXT["consent note"],
    )
    analyst = UserFactory(username="analyst")
    # get_or_create: a transactional test (the backup test) may run after another one flushed
    # the groups the migrations made; the rows it seeds need the group, not its permissions.
    analyst.groups.add(Group.objects.get_or_create(name=ANALYST_GROUP)[0])
    plan, goal, milestone, entry = _plan_and_incentive(org_a, enrollment)
    return World(
        a=org_a,
        b=org_b,
        participant=participant,
        enrollment=enrollment,
        session=session,
        records={
            "incident": incident.pk,
            "responsetask": task.pk,
            "streetgroup": group.pk,
            "consent": consent.pk,
            "plan": plan.pk,
            "goal": goal.pk,
            "milestone": milestone.pk,
            "entry": entry.pk,
        },
        analyst=analyst,
        plain_staff=UserFactory(username="plain-staff", is_staff=True),
    )


def _plan_and_incentive(org_a: OrgSetup, enrollment: Enrollment) -> tuple:
    """A's plan, whose goal text is a note, with a met milestone and a requested incentive."""
    from interventions.models.plans import FundingSource
    from interventions.services import plans as plan_services
    from tests.plans.factories import IncentiveRulesFactory

    IncentiveRulesFactory(program=org_a.program, months_before_eligible=0)
    plan = plan_services.draft_plan(enrollment=enrollment, by=org_a.worker)
    goal = plan_services.add_goal(
        plan=plan,
        by=org_a.worker,
        domain="employment",
        description=SECRET_NOTE,
        target_on=enrollment.referred_on,
    )
    milestone = plan_services.add_milestone(
        goal=goal, by=org_a.worker, description=SECRET_NOTE, due_on=enrollment.referred_on
    )
    plan_services.approve_plan(plan=plan, by=org_a.manager)
    plan_services.mark_milestone_met(milestone=milestone, by=org_a.worker)
    entry = plan_services.request_incentive(
        milestones=[milestone],
        by=org_a.worker,
        month=plan_services.month_of(enrollment.referred_on.today()),
        amount_cents=10_000,
        funding_source=FundingSource.PUBLIC_GRANT,
    )
    return plan, goal, milestone, entry


def _owned_free_text(a: OrgSetup, participant: Participant, enrollment: Enrollment) -> None:
    """A's referral, status change, review with a follow-up, call-in and custom notification,
    each carrying one of OWNED_TEXT."""
    ReferralFactory(
        participant=participant,
        made_by=a.worker,
        outside_provider=OWNED_TEXT["referral provider"],
        notes=OWNED_TEXT["referral note"],
        status=Referral.Status.COMPLETED,
        closed_on=timezone.localdate(),
        outcome=OWNED_TEXT["referral outcome"],
    )
    EnrollmentStatusChange.objects.create(
        enrollment=enrollment,
        from_status=Enrollment.Status.ENROLLED,
        to_status=Enrollment.Status.ACTIVE,
        changed_on=timezone.localdate(),
        changed_by=a.worker,
        note=OWNED_TEXT["status change note"],
    )
    review = ShootingReview.objects.create(
        period_start=timezone.localdate() - timedelta(days=6),
        period_end=timezone.localdate(),
        organization=a.organization,
        decisions=OWNED_TEXT["review decisions"],
        recorded_by=a.manager,
    )
    ReviewDecision.objects.create(
        review=review, assigned_to=a.worker, description=OWNED_TEXT["follow-up task"]
    )
    call_in = CallIn.objects.create(
        held_on=timezone.localdate(),
        place=OWNED_TEXT["call-in place"],
        organization=a.organization,
        notes=OWNED_TEXT["call-in note"],
    )
    call_in.attendees.add(participant)
    CustomNotification.objects.create(
        participant=participant,
        organization=a.organization,
        delivered_on=timezone.localdate(),
        response=CustomNotification.Response.UNDECIDED,
        response_notes=OWNED_TEXT["notification note"],
    ).deliverers.add(a.worker)


def content(response) -> str:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode(errors="replace")
    return response.content.decode(errors="replace")


def leaked(text: str, typed: dict[str, object] | None = None) -> list[str]:
    """A's secrets found in a response, leaving out what the user typed themselves (a search
    box shows its own query back); a real leak of the person shows their other details too."""
    echoed = {str(value).lower() for value in (typed or {}).values()}
    lowered = text.lower()
    return [
        secret
        for secret in [*SECRETS.values(), SECRET_NOTE, *OWNED_TEXT.values()]
        if secret.lower() not in echoed and secret.lower() in lowered
    ]


def build_url(route: Route, world: World) -> str:
    unknown = [name for name in route.kwargs if name not in RECORD_BUILDERS]
    if unknown:
        pytest.fail(
            f"{route.route} ({route.name}) takes {', '.join(unknown)}, which the scoping test "
            "cannot build. Map its model in RECORD_BUILDERS in tests/test_scoping.py."
        )
    if not route.name:
        pytest.fail(f"{route.route} has no URL name; every URL needs a unique one.")
    return reverse(route.name, kwargs={name: RECORD_BUILDERS[name](world) for name in route.kwargs})


def nonexistent_url(route: Route) -> str:
    return reverse(route.name, kwargs=dict.fromkeys(route.kwargs, 2_000_000_000))


def outsiders(world: World) -> dict[str, Client]:
    return {
        "B's worker": logged_in(world.b.worker),
        "B's manager": logged_in(world.b.manager),
        "an analyst": logged_in(world.analyst),
        "staff in no group": logged_in(world.plain_staff),
    }


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=str)
def test_another_organisations_record_is_not_found(route: Route, world: World) -> None:
    url = build_url(route, world)
    shared = SHARED_RECORDS.intersection(route.kwargs) == set(route.kwargs)
    for who, client in outsiders(world).items():
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            allowed = {404, 405} | ({200} if shared else set())
            if response.status_code == 403:
                # A refusal for the user's role says nothing about A's record only when a
                # record that does not exist is refused the same way.
                missing = getattr(client, method)(nonexistent_url(route))
                if missing.status_code == 403:
                    allowed.add(403)
            assert response.status_code in allowed, (
                f"{who} {method.upper()} {url} answered {response.status_code}; "
                "an outsider must get 404"
            )
            assert not leaked(content(response)), f"{who} {method.upper()} {url} shows A's data"


def _reached(response) -> bool:  # type: ignore[no-untyped-def]
    """A 2xx, or a redirect that is not to a login page: the user got through."""
    if 200 <= response.status_code < 300:
        return True
    return 300 <= response.status_code < 400 and not response["Location"].startswith(
        (reverse("login"), reverse("two_factor_verify"), reverse("two_factor_setup"))
    )


@pytest.mark.parametrize("route", RECORD_ROUTES, ids=str)
def test_the_record_urls_are_built_right(route: Route, world: World) -> None:
    """The control: organisation A's own people reach the records the matrix builds (a 2xx or
    a redirect that is not to a login page), so the outsiders' 404 above means scoping and not
    a wrong id. A POST-only route is reached by POST."""
    url = build_url(route, world)
    answers = {}
    for who, user in (("worker", world.a.worker), ("manager", world.a.manager)):
        client = logged_in(user)
        response = client.get(url)
        if response.status_code == 405:
            response = client.post(url)
        answers[who] = response
    assert any(_reached(response) for response in answers.values()), (
        f"{url}: A's own users get {[r.status_code for r in answers.values()]}"
    )


def test_a_sees_its_own_free_text_so_the_leak_check_can_fail(world: World) -> None:
    """The control for `leaked`: each string of OWNED_TEXT is shown to A's own people on some
    page of the matrix, so its absence from the outsiders' pages means something."""
    clients = [logged_in(world.a.worker), logged_in(world.a.manager)]
    seen: set[str] = set()
    for route in ROUTES:
        if route.kwargs and set(route.kwargs) - set(RECORD_BUILDERS):
            continue
        url = build_url(route, world) if route.kwargs else reverse(route.name)
        # The participant page draws one tab at a time (the consent note is on Related).
        tabs = PARTICIPANT_TABS if route.name == "participant_detail" else ("",)
        for client in clients:
            for tab in tabs:
                seen.update(leaked(content(client.get(url, {"tab": tab} if tab else {}))))
    # Call-in and notification notes and referral notes are written but shown on no page
    # today; they stay in the leak check for the day a page or export starts showing them.
    written_only = {OWNED_TEXT[key] for key in ("call-in note", "notification note")}
    written_only.add(OWNED_TEXT["referral note"])
    assert set(OWNED_TEXT.values()) - seen == written_only


def _list_queries(world: World) -> list[dict[str, object]]:
    participant = world.participant
    by_name = dict.fromkeys(("q", "term", "search", "name"), SECRETS["last_name"])
    by_code = dict.fromkeys(("q", "term", "search", "code"), SECRETS["participant_code"])
    by_id = {
        "participant": participant.pk,
        "participants": participant.pk,
        "participant_id": participant.pk,
        "enrollment": world.enrollment.pk,
        "session": world.session.pk,
        "incident": world.records["incident"],
        "worker": world.a.worker.pk,
        "org": world.a.organization.slug,
        "organization": world.a.organization.pk,
    }
    return [{}, by_name, by_code, {"q": SECRETS["aliases"]}, by_id]


@pytest.mark.parametrize("route", LIST_ROUTES, ids=str)
def test_lists_searches_and_exports_show_nothing_of_another_organisation(
    route: Route, world: World
) -> None:
    url = reverse(route.name)
    for who, client in outsiders(world).items():
        for query in _list_queries(world):
            response = client.get(url, query)
            assert response.status_code < 500
            assert not leaked(content(response), query), f"{who} GET {url} {query} shows A's data"


def test_the_lists_do_show_the_secrets_to_their_own_organisation(world: World) -> None:
    """The control for the list test: the same strings are found where they belong."""
    client = logged_in(world.a.manager)
    page = content(client.get(reverse("org_participants"), {"q": SECRETS["last_name"]}))
    assert leaked(page)
    export = content(client.get(reverse("export_caseload")))
    assert SECRETS["participant_code"] in export


def test_only_the_admin_is_left_out_of_this_matrix_and_has_its_own() -> None:
    skipped = [route for route in ALL_ROUTES if _excluded(route)]
    assert skipped, "the admin is mounted, so something is left out"
    assert all(route.route.startswith("admin/") for route in skipped)
    assert set(EXCLUDED_PREFIXES) == {"admin/"}
    names = {route.name for route in ROUTES}
    assert {"participant_detail", "org_participants", "export_caseload"} <= names
    assert not any(route.route.startswith("admin/") for route in ROUTES)
    left_out = {route.name for route in ROUTES if route.kwargs} - {r.name for r in RECORD_ROUTES}
    assert left_out == set(TOKEN_ROUTES)


# The admin ----------------------------------------------------------------------------------

ADMIN_ROUTES = [route for route in ALL_ROUTES if _excluded(route)]

# How to fill each keyword of an admin URL; the matrix fails for any other.
ADMIN_BUILDERS: dict[str, Callable[[World], object]] = {
    "object_id": lambda world: world.participant.pk,
    "app_label": lambda world: "interventions",
    "id": lambda world: world.a.worker.pk,
    "content_type_id": lambda world: ContentType.objects.get_for_model(Participant).pk,
    "url": lambda world: "interventions/nothing-here/",
    # Two-factor devices: A's manager's authenticator (its QR code is a secret too).
    "pk": lambda world: _authenticator_of(world.a.manager),
}

# Pages about the session itself, which answer anyone logged in and show no record.
ADMIN_SESSION_PAGES = {"admin:login", "admin:logout"}


def _authenticator_of(user: object) -> int:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name="Phone", defaults={"confirmed": True}
    )
    return device.pk


def admin_url(route: Route, world: World) -> str:
    unknown = [name for name in route.kwargs if name not in ADMIN_BUILDERS]
    if unknown:
        pytest.fail(
            f"{route.route} takes {', '.join(unknown)}, which the admin matrix cannot build. "
            "Add it to ADMIN_BUILDERS in tests/test_scoping.py."
        )
    kwargs = {name: ADMIN_BUILDERS[name](world) for name in route.kwargs}
    if route.name:
        return reverse(route.name, kwargs=kwargs)
    # Unnamed: the admin's catch-all and its redirects from /<id>/ to the change page.
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route.route)


def _is_login_redirect(response) -> bool:  # type: ignore[no-untyped-def]
    return response.status_code == 302 and response["Location"].startswith(
        (reverse("admin:login"), reverse("login"))
    )


def _admin_problems(route: Route, world: World, clients: dict[str, Client]) -> list[str]:
    url = admin_url(route, world)
    problems = []
    for who, client in clients.items():
        response = client.get(url)
        text = content(response)
        status = response.status_code
        if leaked(text):
            problems.append(f"{who} GET {url} shows A's data")
        if who == "staff in no group":
            if status not in {200, 302, 403, 404, 405}:
                problems.append(f"{who} GET {url} answered {status}")
            if status == 200 and ("/admin/interventions/" in text or "/admin/auth/user/" in text):
                problems.append(f"{who} GET {url} lists a model")
        elif route.name in ADMIN_SESSION_PAGES:
            if status not in {200, 302, 405}:
                problems.append(f"{who} GET {url} answered {status}")
        elif not (_is_login_redirect(response) or status in {403, 404}):
            problems.append(f"{who} GET {url} answered {status}")
    return problems


def test_every_admin_page_refuses_outsiders(world: World) -> None:
    """Every admin URL (one test, one world: there are two hundred of them). Non-staff users
    (B's people, the analyst) are sent to the login; a staff user in no group gets 403 on every
    model page, and a page they may open (the index, their own password) lists no model and
    none of A's data."""
    clients = outsiders(world)
    assert len(ADMIN_ROUTES) > 100
    problems = [
        problem for route in ADMIN_ROUTES for problem in _admin_problems(route, world, clients)
    ]
    assert not problems, "\n".join(problems)


def test_the_admin_matrix_reaches_data_for_a_city_admin(world: World) -> None:
    """The control: the same URLs show A's record to a staff user in the City admin group."""
    from interventions.access import CITY_ADMIN_GROUP

    city_admin = UserFactory(username="group-city-admin", is_staff=True)
    city_admin.groups.add(Group.objects.get(name=CITY_ADMIN_GROUP))
    url = reverse("admin:interventions_participant_change", args=[world.participant.pk])
    assert leaked(content(logged_in(city_admin).get(url)))
