"""Demo data: Kern County areas, partner organisations, staff, and a year of fictional case work.

Every person in here is invented. Garden Pathways is a real Delano nonprofit and appears by name
only; every other organisation says "(fictional)" in its name, and so does every outside provider.

`seed_demo` is idempotent: reference rows are looked up by slug or username, and the case data
(participants, enrolments, sessions, referrals) is written once, in one transaction, only when
the demo organisations have no participants yet. It is deterministic (`random.Random(2024)`),
with dates counted back from today so the year of sessions always ends now.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from interventions.audit.context import Actor, acting_as
from interventions.demo.outcomes import seed_outcomes
from interventions.demo.plans import seed_plans
from interventions.demo.response import grant_street_intelligence, seed_response
from interventions.models import (
    Area,
    CallIn,
    CustomNotification,
    Enrollment,
    EnrollmentStatusChange,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    ReminderPreference,
    Session,
    SessionParticipant,
)
from interventions.services.case import FORWARD_ORDER
from metrics.demo import load_demo_outcomes
from metrics.services import refresh_rollups

# Demo only: printed on screen by `manage.py seed_demo`. Never use these accounts outside a demo.
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105
CITY_ADMIN_USERNAME = "cityadmin"
# An outreach worker whose app speaks Spanish (Lupe Sandoval, Garden Pathways).
SPANISH_SPEAKING_WORKER = "gp-worker3"
SEEDER = Actor(username="seed_demo", path="manage.py seed_demo")
# The oldest demo record (an identification two years ago) and a margin: the rollup months.
DEMO_HISTORY_DAYS = 760

Status = Enrollment.Status
ExitReason = Enrollment.ExitReason
Kind = Session.Kind
Location = Session.Location

# The Bakersfield 2023 funnel (see DOMAIN.md): 116 identified as highest risk -> 64 engaged by
# outreach -> 24 of the 33 highest-risk enrolled in intensive case management. The demo's
# last twelve months have exactly that shape; 34 more people were identified the year before.
FUNNEL_IDENTIFIED = 116
FUNNEL_ENGAGED = 64
FUNNEL_CASE_MANAGED = 24
FUNNEL_HIGHEST_RISK = 33
EARLIER_PARTICIPANTS = 34
# Of the identified people who never engaged, the share who still heard the message.
NOT_ENGAGED_NOTIFIED_SHARE = 0.1
# Each organisation holds a call-in every six weeks, the latest ten days ago.
CALL_IN_EVERY_DAYS = 42
CALL_IN_LAST_DAYS_AGO = 10

CASELOAD_MIN, CASELOAD_MAX = 15, 18  # inside the 15-20 guideline, leaving room to add people
COLD_PARTICIPANTS = 12


# Reference data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AreaSpec:
    slug: str
    name: str
    kind: str
    parent: str | None = None


AREAS = (
    AreaSpec("kern-county", "Kern County", Area.Kind.COUNTY),
    AreaSpec("bakersfield", "Bakersfield", Area.Kind.CITY, "kern-county"),
    AreaSpec("delano", "Delano", Area.Kind.CITY, "kern-county"),
    AreaSpec("arvin", "Arvin", Area.Kind.CITY, "kern-county"),
    AreaSpec("lamont", "Lamont", Area.Kind.CITY, "kern-county"),
    AreaSpec("shafter", "Shafter", Area.Kind.CITY, "kern-county"),
    AreaSpec("wasco", "Wasco", Area.Kind.CITY, "kern-county"),
    AreaSpec("mcfarland", "McFarland", Area.Kind.CITY, "kern-county"),
    AreaSpec("east-bakersfield", "East Bakersfield", Area.Kind.NEIGHBORHOOD, "bakersfield"),
    AreaSpec(
        "southeast-bakersfield", "Southeast Bakersfield", Area.Kind.NEIGHBORHOOD, "bakersfield"
    ),
    AreaSpec("oildale", "Oildale", Area.Kind.NEIGHBORHOOD, "bakersfield"),
)


@dataclass(frozen=True)
class ProgramSpec:
    suffix: str
    name: str
    kind: str
    area: str


@dataclass(frozen=True)
class OrgSpec:
    slug: str
    name: str
    kind: str
    # Matches services.next_participant_code, so people registered later continue the numbering.
    code_prefix: str
    user_prefix: str
    areas: tuple[str, ...]
    participants: int
    programs: tuple[ProgramSpec, ...]
    # Where this organisation's participants live, most likely first.
    home_areas: tuple[str, ...]
    referral_sources: tuple[str, ...]
    workers: int = 3


RS = Participant.ReferralSource
PK = Program.Kind

ORGANIZATIONS = (
    OrgSpec(
        slug="garden-pathways",
        name="Garden Pathways",
        kind=PartnerOrganization.Kind.NONPROFIT,
        code_prefix="GP",
        user_prefix="gp",
        areas=("delano", "bakersfield", "mcfarland", "wasco"),
        participants=42,
        programs=(
            ProgramSpec("mentoring", "Mentoring (Delano)", PK.MENTORING, "delano"),
            ProgramSpec(
                "gang-intervention",
                "Gang Intervention (Bakersfield)",
                PK.GANG_INTERVENTION,
                "bakersfield",
            ),
            ProgramSpec("street-outreach", "Street Outreach", PK.STREET_OUTREACH, "bakersfield"),
            ProgramSpec(
                "case-management", "Intensive Case Management", PK.CASE_MANAGEMENT, "bakersfield"
            ),
        ),
        home_areas=("delano", "bakersfield", "east-bakersfield", "mcfarland", "wasco", "shafter"),
        referral_sources=(RS.CALL_IN, RS.CUSTOM_NOTIFICATION, RS.PROBATION, RS.COMMUNITY),
    ),
    OrgSpec(
        slug="eastside-mentoring-collective",
        name="Eastside Mentoring Collective (fictional)",
        kind=PartnerOrganization.Kind.NONPROFIT,
        code_prefix="EMC",
        user_prefix="emc",
        areas=("east-bakersfield", "bakersfield", "oildale"),
        participants=36,
        programs=(
            ProgramSpec("mentoring", "Youth Mentoring", PK.MENTORING, "east-bakersfield"),
            ProgramSpec(
                "life-coaching", "Life Coaching Fellowship", PK.LIFE_COACHING, "bakersfield"
            ),
            ProgramSpec(
                "case-management",
                "Intensive Case Management",
                PK.CASE_MANAGEMENT,
                "east-bakersfield",
            ),
        ),
        home_areas=("east-bakersfield", "oildale", "bakersfield"),
        referral_sources=(RS.SCHOOL, RS.FAMILY_SELF, RS.CALL_IN, RS.COMMUNITY, RS.PROBATION),
    ),
    OrgSpec(
        slug="kern-hospital-violence-intervention",
        name="Kern Hospital Violence Intervention (fictional)",
        kind=PartnerOrganization.Kind.HOSPITAL,
        code_prefix="KHVI",
        user_prefix="khvi",
        areas=("kern-county", "bakersfield"),
        participants=36,
        programs=(
            ProgramSpec("hospital-based", "Bedside Intervention", PK.HOSPITAL_BASED, "bakersfield"),
            ProgramSpec("life-coaching", "Recovery Life Coaching", PK.LIFE_COACHING, "bakersfield"),
            ProgramSpec(
                "case-management", "Intensive Case Management", PK.CASE_MANAGEMENT, "kern-county"
            ),
        ),
        home_areas=("bakersfield", "southeast-bakersfield", "arvin", "lamont", "oildale"),
        referral_sources=(RS.HOSPITAL, RS.HOSPITAL, RS.POLICE, RS.FAMILY_SELF),
    ),
    OrgSpec(
        slug="southeast-youth-alliance",
        name="Southeast Youth Alliance (fictional)",
        kind=PartnerOrganization.Kind.NONPROFIT,
        code_prefix="SYA",
        user_prefix="sya",
        areas=("southeast-bakersfield", "arvin", "lamont"),
        participants=36,
        programs=(
            ProgramSpec(
                "street-outreach", "Street Outreach", PK.STREET_OUTREACH, "southeast-bakersfield"
            ),
            ProgramSpec(
                "gang-intervention",
                "Gang Intervention",
                PK.GANG_INTERVENTION,
                "southeast-bakersfield",
            ),
            ProgramSpec(
                "case-management",
                "Intensive Case Management",
                PK.CASE_MANAGEMENT,
                "southeast-bakersfield",
            ),
        ),
        home_areas=("southeast-bakersfield", "arvin", "lamont", "bakersfield"),
        referral_sources=(RS.CALL_IN, RS.CUSTOM_NOTIFICATION, RS.POLICE, RS.COMMUNITY),
    ),
)

# Invented names. Any resemblance to a real person is a coincidence of common names.
STAFF_NAMES = (
    ("Rosa", "Delgadillo"), ("Marcus", "Whitfield"), ("Teresa", "Ocampo"), ("Andre", "Pritchard"),
    ("Lupe", "Sandoval"), ("Devon", "Hartwell"), ("Irma", "Castellanos"), ("Calvin", "Brooks"),
    ("Yesenia", "Maldonado"), ("Darnell", "Oakes"), ("Norma", "Villaseñor"),
    ("Reggie", "Tolliver"), ("Graciela", "Ybarra"), ("Tyrone", "Ashby"), ("Elena", "Quintero"),
    ("Curtis", "Fairbanks"), ("Marisol", "Arredondo"),
)  # fmt: skip
FIRST_NAMES = (
    "Adrian", "Alejandro", "Andres", "Angel", "Anthony", "Brandon", "Carlos", "Christian",
    "Cristian", "Daniel", "Darius", "David", "Diego", "Edgar", "Eduardo", "Elijah", "Emilio",
    "Erick", "Fernando", "Francisco", "Gabriel", "Hector", "Isaiah", "Ivan", "Jalen", "Javier",
    "Jesus", "Jonathan", "Jordan", "Jose", "Joshua", "Juan", "Julian", "Kevin", "Luis", "Marco",
    "Mario", "Miguel", "Nathan", "Omar", "Oscar", "Pedro", "Rafael", "Ricardo", "Roberto",
    "Ruben", "Samuel", "Sergio", "Terrell", "Victor", "Xavier", "Alyssa", "Brianna", "Daniela",
    "Destiny", "Jasmine", "Leticia", "Maritza", "Vanessa", "Yolanda",
)  # fmt: skip
LAST_NAMES = (
    "Acosta", "Aguilar", "Alvarado", "Barajas", "Becerra", "Bustamante", "Cardenas", "Carrillo",
    "Cervantes", "Coleman", "Contreras", "Duarte", "Escobedo", "Espinoza", "Figueroa", "Fuentes",
    "Galindo", "Gallegos", "Guerrero", "Gutierrez", "Hayes", "Ibarra", "Jennings", "Lara",
    "Ledesma", "Macias", "Marquez", "Medrano", "Mejia", "Montoya", "Navarro", "Ochoa", "Pacheco",
    "Padilla", "Quezada", "Renteria", "Robles", "Rosales", "Salcedo", "Solis", "Tapia",
    "Trujillo", "Valdez", "Vasquez", "Whitaker", "Zamora", "Zuniga",
)  # fmt: skip
STREET_NAMES = (
    "Junior", "Smiley", "Tiny", "Ace", "Sky", "Flaco", "Lucky", "Blue", "Dre", "Moe", "Ghost",
    "Buddy", "Chuy", "Pelon", "Spider", "Sleepy", "Boogie", "Nene", "Primo", "Shorty",
)  # fmt: skip

OUTSIDE_PROVIDERS = {
    Referral.ServiceCategory.EMPLOYMENT: "Valley Jobs Training Center (fictional)",
    Referral.ServiceCategory.EDUCATION: "Second Chance Adult School (fictional)",
    Referral.ServiceCategory.HOUSING: "Kern Bridge Housing (fictional)",
    Referral.ServiceCategory.MENTAL_HEALTH: "Eastside Counseling Clinic (fictional)",
    Referral.ServiceCategory.SUBSTANCE_USE: "New Leaf Recovery Services (fictional)",
    Referral.ServiceCategory.LEGAL_AID: "Central Valley Legal Help (fictional)",
    Referral.ServiceCategory.TATTOO_REMOVAL: "Clean Slate Tattoo Removal (fictional)",
    Referral.ServiceCategory.RELOCATION: "Safe Move Relocation Fund (fictional)",
    Referral.ServiceCategory.HEALTH: "Community Health Clinic (fictional)",
    Referral.ServiceCategory.FAMILY_SUPPORT: "Family Resource Hub (fictional)",
    Referral.ServiceCategory.OTHER: "Neighborhood Help Desk (fictional)",
}

# Session kinds each program uses, most common first (weights follow the order).
KINDS_BY_PROGRAM = {
    PK.MENTORING: (Kind.MENTORING,) * 4 + (Kind.FAMILY_CONTACT, Kind.LIFE_COACHING),
    PK.GANG_INTERVENTION: (Kind.GANG_INTERVENTION,) * 4
    + (Kind.STREET_OUTREACH, Kind.FAMILY_CONTACT, Kind.CRISIS_RESPONSE),
    PK.STREET_OUTREACH: (Kind.STREET_OUTREACH,) * 4
    + (Kind.CUSTOM_NOTIFICATION, Kind.CRISIS_RESPONSE),
    PK.LIFE_COACHING: (Kind.LIFE_COACHING,) * 4 + (Kind.MENTORING, Kind.FAMILY_CONTACT),
    PK.HOSPITAL_BASED: (Kind.HOSPITAL_VISIT,) * 2
    + (Kind.LIFE_COACHING, Kind.LIFE_COACHING, Kind.FAMILY_CONTACT, Kind.CRISIS_RESPONSE),
    PK.CASE_MANAGEMENT: (Kind.LIFE_COACHING,) * 3
    + (Kind.MENTORING, Kind.MENTORING, Kind.FAMILY_CONTACT, Kind.GANG_INTERVENTION),
}
# Before someone engages, contact is mostly attempts to find them and deliver the message.
OUTREACH_KINDS = (
    Kind.STREET_OUTREACH,
    Kind.STREET_OUTREACH,
    Kind.STREET_OUTREACH,
    Kind.CUSTOM_NOTIFICATION,
    Kind.FAMILY_CONTACT,
)
LOCATIONS_BY_KIND = {
    Kind.MENTORING: (Location.OFFICE, Location.SCHOOL, Location.STREET, Location.PHONE),
    Kind.GANG_INTERVENTION: (Location.STREET, Location.HOME, Location.PHONE, Location.DETENTION),
    Kind.STREET_OUTREACH: (Location.STREET, Location.STREET, Location.HOME),
    Kind.LIFE_COACHING: (Location.OFFICE, Location.PHONE, Location.VIDEO, Location.HOME),
    Kind.GROUP_SESSION: (Location.OFFICE, Location.SCHOOL),
    Kind.CALL_IN: (Location.OFFICE,),
    Kind.CUSTOM_NOTIFICATION: (Location.HOME, Location.HOME, Location.STREET),
    Kind.CRISIS_RESPONSE: (Location.STREET, Location.HOSPITAL, Location.PHONE, Location.HOME),
    Kind.HOSPITAL_VISIT: (Location.HOSPITAL,),
    Kind.FAMILY_CONTACT: (Location.HOME, Location.PHONE),
}
DURATIONS = (15, 20, 30, 30, 45, 45, 60, 60, 60, 75, 90, 120)
NOTES_BY_KIND = {
    Kind.MENTORING: (
        "Talked about school attendance and getting back on track with credits.",
        "Went over goals for the month. Wants to finish the GED by summer.",
        "Good conversation about handling conflict without going back to the street.",
        "Checked in on the job search; practised interview questions together.",
    ),
    Kind.GANG_INTERVENTION: (
        "Discussed tension with another group after the weekend. Agreed to stay clear of the park.",
        "Mediated a dispute before it escalated. Both sides agreed to keep distance.",
        "Talked through the offer of help from the call-in. Open to services.",
        "Checked on safety at home; no new threats reported.",
    ),
    Kind.STREET_OUTREACH: (
        "Found them near the corner store; short talk, agreed to meet next week.",
        "Not at the usual spot. Left a message with a friend.",
        "Brief check-in on the block. Doing okay, asked about jobs.",
        "Delivered the program flyer and my number.",
    ),
    Kind.LIFE_COACHING: (
        "Worked on the weekly plan: probation appointment, ID card, bank account.",
        "Budget session. Saving for a deposit on an apartment.",
        "Reviewed progress on goals; most steps done this week.",
        "Talked about stress and sleep; agreed to try the counseling referral.",
    ),
    Kind.GROUP_SESSION: (
        "Group session on conflict resolution; good participation.",
        "Peer circle: each shared one win from the week.",
        "Job-readiness workshop with a guest speaker from a local employer.",
    ),
    Kind.CALL_IN: (
        "Call-in meeting: message of consequences and the offer of help delivered.",
        "Attended the call-in; stayed afterwards to ask about services.",
    ),
    Kind.CUSTOM_NOTIFICATION: (
        "Custom notification at home with family present. Message and offer of help given.",
        "Delivered the custom notification; they listened and took my card.",
    ),
    Kind.CRISIS_RESPONSE: (
        "Responded after a shooting nearby. Checked they were safe; talked about not retaliating.",
        "Late call from family worried about a threat. Met and calmed things down.",
    ),
    Kind.HOSPITAL_VISIT: (
        "Bedside visit after the injury. Met family; explained the program.",
        "Follow-up visit before discharge; planning a safe place to stay.",
    ),
    Kind.FAMILY_CONTACT: (
        "Spoke with a parent about how things are going at home.",
        "Family meeting; everyone agreed on the plan for the next month.",
        "Phone call with a relative to set up the next meeting.",
    ),
}


# What seed_demo hands back -------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    role: str
    username: str
    password: str
    organization: str


@dataclass(frozen=True)
class DemoFunnel:
    """The last twelve months: identified -> engaged -> enrolled in intensive case management."""

    identified: int
    highest_risk: int
    engaged: int
    case_managed: int


@dataclass
class DemoSummary:
    created: bool
    counts: dict[str, int]
    funnel: DemoFunnel
    logins: list[DemoLogin] = field(default_factory=list)


# Seeding ---------------------------------------------------------------------------------------


def seed_demo(stdout: TextIO | None = None) -> DemoSummary:
    """Create the demo data if it is not there yet, print the logins, and return a summary.

    Also loads the public Bakersfield outcome figures (through the importer, an upsert) and
    refreshes the activity rollup of the demo's months, so the metrics dashboard shows both."""
    # The audit trail names the seeder, not the database role.
    with acting_as(SEEDER), transaction.atomic():
        areas = _seed_areas()
        organizations, programs = _seed_organizations(areas)
        staff, logins = _seed_staff(organizations)
        demo_orgs = list(organizations.values())
        created = not Participant.objects.filter(organization__in=demo_orgs).exists()
        if created:
            _CaseData(random.Random(2024), areas, organizations, programs, staff).write()  # noqa: S311
        grant_street_intelligence(_demo_managers(demo_orgs))
        seed_response(areas, demo_orgs)
        seed_outcomes(demo_orgs)
        logins += [
            DemoLogin(role, username, DEMO_PASSWORD, organization)
            for role, username, organization in seed_plans(demo_orgs, password=DEMO_PASSWORD)
        ]
        load_demo_outcomes()
        today = timezone.localdate()
        refresh_rollups(start_month=today - timedelta(days=DEMO_HISTORY_DAYS), end_month=today)
    summary = DemoSummary(
        created=created, counts=demo_counts(demo_orgs), funnel=demo_funnel(), logins=logins
    )
    if stdout is not None:
        write_summary(summary, stdout)
    return summary


def _demo_managers(organizations: list[PartnerOrganization]) -> list[AbstractBaseUser]:
    return list(
        get_user_model().objects.filter(
            memberships__organization__in=organizations,
            memberships__role=Membership.Role.MANAGER,
        )
    )


def _seed_areas() -> dict[str, Area]:
    areas: dict[str, Area] = {}
    for spec in AREAS:
        area, _ = Area.objects.get_or_create(
            slug=spec.slug,
            defaults={
                "name": spec.name,
                "kind": spec.kind,
                "parent": areas[spec.parent] if spec.parent else None,
            },
        )
        if spec.parent and area.parent_id is None:
            # Made earlier without its parent (metrics' demo outcomes create Bakersfield alone).
            area.parent = areas[spec.parent]
            area.save(update_fields=["parent", "updated_at"])
        areas[spec.slug] = area
    return areas


def _seed_organizations(
    areas: dict[str, Area],
) -> tuple[dict[str, PartnerOrganization], dict[str, list[Program]]]:
    organizations: dict[str, PartnerOrganization] = {}
    programs: dict[str, list[Program]] = {}
    for spec in ORGANIZATIONS:
        organization, _ = PartnerOrganization.objects.get_or_create(
            slug=spec.slug, defaults={"name": spec.name, "kind": spec.kind}
        )
        organization.areas_served.add(*(areas[slug] for slug in spec.areas))
        organizations[spec.slug] = organization
        programs[spec.slug] = [
            Program.objects.get_or_create(
                slug=f"{spec.slug}-{program.suffix}",
                defaults={
                    "organization": organization,
                    "name": program.name,
                    "kind": program.kind,
                    "area": areas[program.area],
                },
            )[0]
            for program in spec.programs
        ]
    return organizations, programs


def _seed_staff(
    organizations: dict[str, PartnerOrganization],
) -> tuple[dict[str, list[AbstractBaseUser]], list[DemoLogin]]:
    """The city admin, a manager and outreach workers per organisation. Returns each
    organisation's workers (in order) and the logins to print."""
    user_model = get_user_model()
    names = iter(STAFF_NAMES)
    # Hashing is deliberately slow; one hash serves every new demo account.
    password_hash = None

    def account(username: str, **extra: object) -> AbstractBaseUser:
        nonlocal password_hash
        first_name, last_name = next(names)
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password_hash = password_hash or make_password(DEMO_PASSWORD)
            user = user_model.objects.create(
                username=username,
                first_name=first_name,
                last_name=last_name,
                email=f"{username}@demo.invalid",
                password=password_hash,
                **extra,
            )
        return user

    logins = [DemoLogin("City admin", CITY_ADMIN_USERNAME, DEMO_PASSWORD, "All partners (staff)")]
    account(CITY_ADMIN_USERNAME, is_staff=True, is_superuser=True)
    workers: dict[str, list[AbstractBaseUser]] = {}
    for spec in ORGANIZATIONS:
        organization = organizations[spec.slug]
        manager = account(f"{spec.user_prefix}-manager")
        Membership.objects.get_or_create(
            user=manager, organization=organization, defaults={"role": Membership.Role.MANAGER}
        )
        logins.append(DemoLogin("Manager", manager.get_username(), DEMO_PASSWORD, spec.name))
        workers[spec.slug] = []
        for number in range(1, spec.workers + 1):
            worker = account(f"{spec.user_prefix}-worker{number}")
            Membership.objects.get_or_create(
                user=worker,
                organization=organization,
                defaults={"role": Membership.Role.OUTREACH_WORKER},
            )
            workers[spec.slug].append(worker)
            role = "Outreach worker"
            if worker.get_username() == SPANISH_SPEAKING_WORKER:
                # Her pages, reminders and e-mails are in Spanish; get_or_create keeps a
                # language changed since on "Your settings".
                ReminderPreference.objects.get_or_create(user=worker, defaults={"language": "es"})
                role = "Outreach worker (Spanish)"
            logins.append(DemoLogin(role, worker.get_username(), DEMO_PASSWORD, spec.name))
    return workers, logins


@dataclass
class _Plan:
    """One participant's place in the funnel before anything is written."""

    stage: str  # "case_managed", "engaged", "identified" (not engaged) or "earlier"
    highest_risk: bool = False


class _CaseData:
    """Participants, enrolments, sessions and referrals, built in memory and bulk-inserted."""

    def __init__(
        self,
        rng: random.Random,
        areas: dict[str, Area],
        organizations: dict[str, PartnerOrganization],
        programs: dict[str, list[Program]],
        workers: dict[str, list[AbstractBaseUser]],
    ) -> None:
        self.rng = rng
        self.areas = areas
        self.organizations = organizations
        self.programs = programs
        self.workers = workers
        self.today = timezone.localdate()
        self.yesterday = self.today - timedelta(days=1)
        self.year_ago = self.today - timedelta(days=364)
        # When each participant's contact stops: exit, inactivity, or going cold.
        self.contact_ends: dict[int, date] = {}
        # Second and third programs are seen less often than the first.
        self.extra_enrollments: set[int] = set()
        self.call_in_days = [
            self.today - timedelta(days=CALL_IN_LAST_DAYS_AGO + CALL_IN_EVERY_DAYS * k)
            for k in range(18)
        ]
        self.call_in_attendance: dict[tuple[str, date], list[Participant]] = defaultdict(list)

    # Helpers ---------------------------------------------------------------------------------

    def _day(self, start: date, low: int, high: int) -> date:
        """A day low..high days after start, never after today."""
        return min(start + timedelta(days=self.rng.randint(low, high)), self.today)

    def _at(self, day: date) -> datetime:
        minute = self.rng.choice((0, 15, 30, 45))
        return timezone.make_aware(datetime.combine(day, time(self.rng.randint(9, 19), minute)))

    # The plan --------------------------------------------------------------------------------

    def _plans(self) -> list[_Plan]:
        not_engaged = FUNNEL_IDENTIFIED - FUNNEL_ENGAGED
        engaged_only = FUNNEL_ENGAGED - FUNNEL_CASE_MANAGED
        plans = [_Plan("case_managed", highest_risk=True) for _ in range(FUNNEL_CASE_MANAGED)]
        extra_highest = FUNNEL_HIGHEST_RISK - FUNNEL_CASE_MANAGED
        plans += [_Plan("engaged", highest_risk=i < extra_highest) for i in range(engaged_only)]
        plans += [_Plan("identified") for _ in range(not_engaged)]
        plans += [_Plan("earlier") for _ in range(EARLIER_PARTICIPANTS)]
        self.rng.shuffle(plans)
        return plans

    def write(self) -> None:
        plans = iter(self._plans())
        enrollments: list[Enrollment] = []
        participants: list[tuple[Participant, _Plan]] = []
        used_names: set[tuple[str, str]] = set()
        for spec in ORGANIZATIONS:
            for number in range(1, spec.participants + 1):
                plan = next(plans)
                participants.append((self._participant(spec, number, plan, used_names), plan))
        Participant.objects.bulk_create([p for p, _ in participants], batch_size=500)

        start = 0
        for spec in ORGANIZATIONS:
            rows = []
            for participant, plan in participants[start : start + spec.participants]:
                primary = self._primary_enrollment(spec, participant, plan)
                rows.append((participant, plan, primary))
                enrollments.append(primary)
            enrollments += self._assign_caseloads(spec, rows)
            start += spec.participants
        Enrollment.objects.bulk_create(enrollments, batch_size=500)
        EnrollmentStatusChange.objects.bulk_create(
            self._status_history(enrollments), batch_size=1000
        )

        self._choose_cold(participants, enrollments)
        self._write_sessions(enrollments)
        Referral.objects.bulk_create(self._referrals(participants, enrollments), batch_size=500)
        self._write_notifications([p for p, _ in participants])

    # Call-ins and custom notifications ---------------------------------------------------------

    def _write_notifications(self, participants: list[Participant]) -> None:
        """The call-ins the called-in people attended, a custom notification for everyone else
        who was notified, and a few home visits that found nobody."""
        rng = self.rng
        call_ins = []
        attendees = []
        for (slug, held_on), people in sorted(self.call_in_attendance.items()):
            spec = next(spec for spec in ORGANIZATIONS if spec.slug == slug)
            call_in = CallIn(
                organization=self.organizations[slug],
                held_on=held_on,
                place=f"Community room, {spec.name}",
                area=self.areas[spec.areas[0]],
                notes="Message of consequences from partners; offer of help from outreach.",
            )
            call_ins.append(call_in)
            attendees.append(people)
        CallIn.objects.bulk_create(call_ins)
        CallIn.attendees.through.objects.bulk_create(
            CallIn.attendees.through(callin_id=call_in.pk, participant_id=person.pk)
            for call_in, people in zip(call_ins, attendees, strict=True)
            for person in people
        )
        called_in = {p.pk for people in attendees for p in people}
        notifications = []
        for participant in participants:
            if participant.pk in called_in:
                continue
            if participant.notified_on is not None:
                response = (
                    CustomNotification.Response.ACCEPTED_HELP
                    if participant.engaged_on
                    else rng.choice(
                        (
                            CustomNotification.Response.UNDECIDED,
                            CustomNotification.Response.DECLINED,
                        )
                    )
                )
                notifications.append(
                    CustomNotification(
                        participant=participant,
                        organization_id=participant.organization_id,
                        delivered_on=participant.notified_on,
                        message_delivered=True,
                        response=response,
                    )
                )
            elif rng.random() < 0.4:
                notifications.append(
                    CustomNotification(
                        participant=participant,
                        organization_id=participant.organization_id,
                        delivered_on=self._day(participant.identified_on, 1, 10),
                        message_delivered=False,
                        response=CustomNotification.Response.NOT_REACHED,
                        response_notes="Nobody home; left a card with the program's number.",
                    )
                )
        CustomNotification.objects.bulk_create(notifications, batch_size=500)
        workers_by_org = {
            self.organizations[spec.slug].pk: self.workers[spec.slug] for spec in ORGANIZATIONS
        }
        CustomNotification.deliverers.through.objects.bulk_create(
            CustomNotification.deliverers.through(
                customnotification_id=notification.pk,
                user_id=rng.choice(workers_by_org[notification.organization_id]).pk,
            )
            for notification in notifications
        )

    def _participant(
        self, spec: OrgSpec, number: int, plan: _Plan, used_names: set[tuple[str, str]]
    ) -> Participant:
        rng = self.rng
        while True:
            name = (rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES))
            if name not in used_names:
                used_names.add(name)
                break
        if plan.stage == "earlier":
            identified_on = self.today - timedelta(days=rng.randint(370, 720))
        elif plan.stage == "identified":
            identified_on = self.today - timedelta(days=rng.randint(3, 360))
        else:
            identified_on = self.today - timedelta(days=rng.randint(45, 360))
        notified_on = engaged_on = None
        # Everyone who engaged heard the message first; few of the others were reached, so
        # about 64 of the 116 are notified (the Bakersfield shape).
        if plan.stage != "identified" or rng.random() < NOT_ENGAGED_NOTIFIED_SHARE:
            notified_on = self._day(identified_on, 0, 14)
        referral_source = rng.choice(spec.referral_sources)
        call_in_day = None
        if notified_on is not None and referral_source == RS.CALL_IN:
            # Called in: notified at the organisation's next call-in.
            call_in_day = self._next_call_in(identified_on)
            notified_on = call_in_day or notified_on
        if plan.stage != "identified":
            engaged_on = self._day(notified_on or identified_on, 1, 30)
        if plan.highest_risk:
            risk_tier = Participant.RiskTier.HIGHEST
        elif plan.stage == "earlier":
            risk_tier = rng.choice(Participant.RiskTier.values)
        else:
            risk_tier = rng.choice(
                (Participant.RiskTier.HIGH,) * 3 + (Participant.RiskTier.ELEVATED,)
            )
        participant = Participant(
            organization=self.organizations[spec.slug],
            participant_code=f"{spec.code_prefix}-{number:05d}",
            first_name=name[0],
            last_name=name[1],
            aliases=rng.choice(STREET_NAMES) if rng.random() < 0.35 else "",
            date_of_birth=self.today - timedelta(days=rng.randint(16 * 365 + 5, 30 * 365 - 5)),
            area=self.areas[rng.choice(spec.home_areas)],
            referral_source=referral_source,
            risk_tier=risk_tier,
            identified_on=identified_on,
            notified_on=notified_on,
            engaged_on=engaged_on,
        )
        if call_in_day is not None:
            self.call_in_attendance[(spec.slug, call_in_day)].append(participant)
        return participant

    def _next_call_in(self, identified_on: date) -> date | None:
        """The first call-in day on or after identification (call-ins are held every six
        weeks), or None when the next one has not happened yet."""
        days = [day for day in self.call_in_days if day >= identified_on]
        return min(days) if days else None

    # Enrolments ------------------------------------------------------------------------------

    def _programs(self, spec: OrgSpec, *, case_management: bool) -> list[Program]:
        return [
            program
            for program in self.programs[spec.slug]
            if (program.kind == PK.CASE_MANAGEMENT) == case_management
        ]

    def _primary_enrollment(
        self, spec: OrgSpec, participant: Participant, plan: _Plan
    ) -> Enrollment:
        rng = self.rng
        if plan.stage == "case_managed":
            program = self._programs(spec, case_management=True)[0]
            status = Status.ENROLLED if rng.random() < 0.15 else Status.ACTIVE
            exit_reason = ""
        elif plan.stage == "identified":
            # Whoever makes first contact: the organisation's first program.
            program = self._programs(spec, case_management=False)[0]
            status = rng.choice((Status.REFERRED, Status.CONTACTED, Status.CONTACTED))
            exit_reason = (
                rng.choice((ExitReason.DECLINED, ExitReason.LOST_CONTACT, ExitReason.MOVED))
                if rng.random() < 0.1
                else ""
            )
        elif plan.stage == "engaged":
            # Engaged by outreach, not (yet) enrolled: enrolment is the intensive case
            # management of the highest-risk few.
            program = rng.choice(self._programs(spec, case_management=False))
            status = Status.ENGAGED
            exit_reason = (
                rng.choice(
                    (
                        ExitReason.MOVED,
                        ExitReason.INCARCERATED,
                        ExitReason.DECLINED,
                        ExitReason.LOST_CONTACT,
                    )
                )
                if rng.random() < 0.1
                else ""
            )
        else:  # earlier
            program = rng.choice(self._programs(spec, case_management=False))
            roll = rng.random()
            status = Status.INACTIVE if roll < 0.08 else Status.ACTIVE
            exit_reason = (
                rng.choice(
                    (
                        ExitReason.GRADUATED,
                        ExitReason.GRADUATED,
                        ExitReason.GRADUATED,
                        ExitReason.MOVED,
                        ExitReason.INCARCERATED,
                        ExitReason.LOST_CONTACT,
                    )
                )
                if roll > 0.72
                else ""
            )
        referred_on = self._day(participant.identified_on, 0, 7)
        if participant.engaged_on:
            referred_on = min(referred_on, participant.engaged_on)
        return self._enrollment(participant, program, referred_on, status, exit_reason)

    def _enrollment(
        self,
        participant: Participant,
        program: Program,
        referred_on: date,
        status: str,
        exit_reason: str = "",
    ) -> Enrollment:
        """An enrolment that walked its lifecycle up to `status`, then exited if a reason is
        given. Each step is dated after the one before and none after today."""
        enrollment = Enrollment(participant=participant, program=program, referred_on=referred_on)
        reached = referred_on
        # An inactive enrolment was active first.
        last_step = Status.ACTIVE if status == Status.INACTIVE else status
        for step in FORWARD_ORDER[1 : FORWARD_ORDER.index(last_step) + 1]:
            reached = self._step(participant, step, reached)
            setattr(enrollment, Enrollment.STATUS_DATE_FIELDS[step], reached)
        if status == Status.INACTIVE:
            enrollment.inactive_on = self._day(reached, 120, 300)
        enrollment.status = status
        if exit_reason:
            enrollment.status = Status.EXITED
            enrollment.exit_reason = exit_reason
            enrollment.exited_on = self._day(reached, 20, 280)
        return enrollment

    def _step(self, participant: Participant, step: str, previous: date) -> date:
        if step == Status.ENGAGED and participant.engaged_on:
            return max(participant.engaged_on, previous)
        low, high = {Status.CONTACTED: (0, 10), Status.ENGAGED: (3, 30)}.get(step, (0, 14))
        return self._day(previous, low, high)

    def _assign_caseloads(
        self, spec: OrgSpec, rows: list[tuple[Participant, _Plan, Enrollment]]
    ) -> list[Enrollment]:
        """Give each worker a caseload inside the guideline: primaries round-robin, then a second
        program for engaged participants, and a third where a worker is still short, until every
        worker reaches a target of 15-18. Returns the extra enrolments."""
        rng = self.rng
        workers = self.workers[spec.slug]
        targets = {w.pk: rng.randint(CASELOAD_MIN, CASELOAD_MAX) for w in workers}
        load: dict[int, int] = defaultdict(int)
        for index, (_, _, enrollment) in enumerate(rows):
            worker = workers[index % len(workers)]
            enrollment.assigned_worker = worker
            if enrollment.status in Enrollment.CASELOAD_STATUSES:
                load[worker.pk] += 1
        extras: list[Enrollment] = []
        candidates = [
            (participant, plan, primary)
            for participant, plan, primary in rows
            if primary.status in (Status.ENGAGED, Status.ENROLLED, Status.ACTIVE)
        ]
        for _round in (1, 2):
            rng.shuffle(candidates)
            for participant, plan, primary in candidates:
                short = [w for w in workers if load[w.pk] < targets[w.pk]]
                if not short:
                    return extras
                taken = {primary.program_id} | {
                    e.program_id for e in extras if e.participant is participant
                }
                options = [
                    p for p in self._programs(spec, case_management=False) if p.pk not in taken
                ]
                busy = {primary.assigned_worker.pk} | {
                    e.assigned_worker.pk for e in extras if e.participant is participant
                }
                free = [w for w in short if w.pk not in busy]
                if not options or not free:
                    continue
                worker = max(free, key=lambda w: targets[w.pk] - load[w.pk])
                start = self._day(primary.enrolled_on or primary.referred_on, 7, 90)
                status = rng.choice((Status.ACTIVE, Status.ACTIVE, Status.ENROLLED))
                extra = self._enrollment(
                    participant,
                    rng.choice(options),
                    start,
                    Status.ENGAGED if plan.stage == "engaged" else status,
                )
                extra.assigned_worker = worker
                self.extra_enrollments.add(id(extra))
                load[worker.pk] += 1
                extras.append(extra)
        self._rebalance(rows, extras, load)
        return extras

    @staticmethod
    def _rebalance(
        rows: list[tuple[Participant, _Plan, Enrollment]],
        extras: list[Enrollment],
        load: dict[int, int],
    ) -> None:
        """When the candidates ran out before a worker reached the guideline, hand them extra
        enrolments from colleagues who are above it (never a second enrolment of one person)."""
        workers = {e.assigned_worker.pk: e.assigned_worker for _, _, e in rows}
        for worker_pk, worker in workers.items():
            for extra in extras:
                if load[worker_pk] >= CASELOAD_MIN:
                    break
                donor = extra.assigned_worker.pk
                if donor == worker_pk or load[donor] <= CASELOAD_MIN:
                    continue
                busy = {
                    e.assigned_worker.pk for _, _, e in rows if e.participant is extra.participant
                }
                busy |= {e.assigned_worker.pk for e in extras if e.participant is extra.participant}
                if worker_pk in busy:
                    continue
                extra.assigned_worker = worker
                load[donor] -= 1
                load[worker_pk] += 1

    def _status_history(self, enrollments: Iterable[Enrollment]) -> list[EnrollmentStatusChange]:
        changes = []
        for enrollment in enrollments:
            previous = ""
            for status, field_name in Enrollment.STATUS_DATE_FIELDS.items():
                day = getattr(enrollment, field_name)
                if day is None:
                    continue
                note = enrollment.get_exit_reason_display() if status == Status.EXITED else ""
                changes.append(
                    EnrollmentStatusChange(
                        enrollment=enrollment,
                        from_status=previous,
                        to_status=status,
                        changed_on=day,
                        changed_by=enrollment.assigned_worker,
                        note=note or ("Enrolment opened" if not previous else ""),
                    )
                )
                previous = status
        return changes

    # Sessions --------------------------------------------------------------------------------

    def _choose_cold(
        self, participants: list[tuple[Participant, _Plan]], enrollments: list[Enrollment]
    ) -> None:
        """A few people with open enrolments have had no contact for 15-45 days, so the
        "gone cold" flags have something to show."""
        open_people = sorted(
            {e.participant.pk for e in enrollments if e.status in Enrollment.CASELOAD_STATUSES}
        )
        for pk in self.rng.sample(open_people, COLD_PARTICIPANTS):
            self.contact_ends[pk] = self.today - timedelta(days=self.rng.randint(15, 45))

    def _contact_window(self, enrollment: Enrollment) -> tuple[date, date] | None:
        start = max(enrollment.referred_on, self.year_ago)
        end = min(
            enrollment.exited_on or self.yesterday,
            enrollment.inactive_on or self.yesterday,
            self.contact_ends.get(enrollment.participant.pk, self.yesterday),
        )
        return (start, end) if start <= end else None

    def _write_sessions(self, enrollments: list[Enrollment]) -> None:
        rng = self.rng
        sessions: list[Session] = []
        attendance: list[list[Participant]] = []
        last_session: dict[int, Session] = {}
        for enrollment in enrollments:
            window = self._contact_window(enrollment)
            if window is None:
                continue
            start, end = window
            engaged = enrollment.engaged_on is not None
            if id(enrollment) in self.extra_enrollments:
                gap = (8, 16)
            elif engaged:
                gap = (5, 10)
            else:  # still trying to reach them
                gap = (10, 20) if enrollment.contacted_on else (14, 25)
            day = self._day(start, 0, 3)
            while day <= end:
                if engaged and enrollment.engaged_on and day >= enrollment.engaged_on:
                    kind = rng.choice(KINDS_BY_PROGRAM[enrollment.program.kind])
                else:
                    kind = rng.choice(OUTREACH_KINDS)
                session = self._session(enrollment, kind, day)
                sessions.append(session)
                attendance.append([enrollment.participant])
                previous = last_session.get(enrollment.participant.pk)
                if previous is None or previous.occurred_at < session.occurred_at:
                    last_session[enrollment.participant.pk] = session
                day += timedelta(days=rng.randint(*gap))
        self._group_sessions(enrollments, sessions, attendance)
        self._follow_ups(last_session)
        Session.objects.bulk_create(sessions, batch_size=1000)
        SessionParticipant.objects.bulk_create(
            (
                SessionParticipant(session=s, participant=p, occurred_at=s.occurred_at)
                for s, people in zip(sessions, attendance, strict=True)
                for p in people
            ),
            batch_size=2000,
        )

    def _session(self, enrollment: Enrollment, kind: str, day: date) -> Session:
        rng = self.rng
        follow_up = None
        if rng.random() < 0.2:
            follow_up = day + timedelta(days=rng.randint(3, 14))
        duration = rng.choice(DURATIONS)
        if kind in (Kind.STREET_OUTREACH, Kind.FAMILY_CONTACT, Kind.CUSTOM_NOTIFICATION):
            duration = min(duration, rng.choice((15, 20, 30, 45)))
        return Session(
            organization_id=enrollment.program.organization_id,
            program=enrollment.program,
            worker=enrollment.assigned_worker,
            kind=kind,
            occurred_at=self._at(day),
            duration_minutes=duration,
            location=rng.choice(LOCATIONS_BY_KIND[kind]),
            notes=rng.choice(NOTES_BY_KIND[kind]),
            follow_up_on=follow_up,
        )

    def _group_sessions(
        self,
        enrollments: list[Enrollment],
        sessions: list[Session],
        attendance: list[list[Participant]],
    ) -> None:
        """Every two weeks or so, each worker runs a group session with 2-5 of the people they
        are working with at the time."""
        rng = self.rng
        by_worker: dict[int, list[Enrollment]] = defaultdict(list)
        for enrollment in enrollments:
            if enrollment.engaged_on is not None:
                by_worker[enrollment.assigned_worker.pk].append(enrollment)
        for caseload in by_worker.values():
            day = self._day(self.year_ago, 0, 10)
            while day <= self.yesterday:
                present = []
                for enrollment in caseload:
                    window = self._contact_window(enrollment)
                    if window and window[0] <= day <= window[1] and enrollment.engaged_on <= day:
                        present.append(enrollment)
                people = {e.participant.pk: e for e in present}
                if len(people) >= 2:
                    chosen = rng.sample(sorted(people), min(len(people), rng.randint(2, 5)))
                    host = people[chosen[0]]
                    kind = Kind.CALL_IN if rng.random() < 0.1 else Kind.GROUP_SESSION
                    session = self._session(host, kind, day)
                    session.duration_minutes = rng.choice((60, 90, 90, 120))
                    programs = {people[pk].program_id for pk in chosen}
                    if len(programs) > 1:
                        session.program = None
                    sessions.append(session)
                    attendance.append([people[pk].participant for pk in chosen])
                day += timedelta(days=rng.randint(10, 18))

    def _follow_ups(self, last_session: dict[int, Session]) -> None:
        """Some people's latest session set a follow-up in the coming week."""
        for session in last_session.values():
            session_day = timezone.localtime(session.occurred_at).date()
            if session_day >= self.today - timedelta(days=10) and self.rng.random() < 0.35:
                session.follow_up_on = self.today + timedelta(days=self.rng.randint(1, 7))

    # Referrals -------------------------------------------------------------------------------

    def _referrals(
        self, participants: list[tuple[Participant, _Plan]], enrollments: list[Enrollment]
    ) -> list[Referral]:
        rng = self.rng
        primaries = {}
        for enrollment in enrollments:
            primaries.setdefault(enrollment.participant.pk, enrollment)
        categories = Referral.ServiceCategory.values
        organizations = list(self.organizations.values())
        referrals = []
        for participant, plan in participants:
            if plan.stage == "identified" or participant.engaged_on is None:
                continue
            primary = primaries[participant.pk]
            last_day = primary.exited_on or self.today
            for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3))):
                made_on = self._day(participant.engaged_on, 0, 300)
                if made_on > last_day:
                    continue
                category = rng.choice(categories)
                to_organization = None
                provider = OUTSIDE_PROVIDERS[category]
                if rng.random() < 0.2:
                    to_organization = rng.choice(
                        [o for o in organizations if o.pk != participant.organization_id]
                    )
                    provider = ""
                referral = Referral(
                    participant=participant,
                    organization_id=participant.organization_id,
                    made_by=primary.assigned_worker,
                    service_category=category,
                    to_organization=to_organization,
                    outside_provider=provider,
                    made_on=made_on,
                    notes="Referred after talking through goals; participant agreed.",
                )
                self._advance(referral)
                referrals.append(referral)
        return referrals

    def _advance(self, referral: Referral) -> None:
        rng = self.rng
        age = (self.today - referral.made_on).days
        if age <= 21:
            status = rng.choice(
                (Referral.Status.MADE, Referral.Status.MADE, Referral.Status.ACCEPTED)
            )
        else:
            status = rng.choice(
                (Referral.Status.COMPLETED,) * 9
                + (Referral.Status.DECLINED,) * 2
                + (Referral.Status.NO_SHOW,) * 3
                + (Referral.Status.ACCEPTED,) * 2
                + (Referral.Status.MADE,)
            )
        referral.status = status
        if status != Referral.Status.MADE:
            referral.accepted_on = self._day(referral.made_on, 1, 10)
        if status in Referral.CLOSED_STATUSES:
            if status != Referral.Status.COMPLETED:
                referral.accepted_on = None
            referral.closed_on = self._day(referral.accepted_on or referral.made_on, 5, 50)
            referral.outcome = {
                Referral.Status.COMPLETED: "Service received.",
                Referral.Status.DECLINED: "Participant decided not to go ahead.",
                Referral.Status.NO_SHOW: "Missed the appointment twice.",
            }[status]


# Reading back ----------------------------------------------------------------------------------


def demo_counts(organizations: list[PartnerOrganization]) -> dict[str, int]:
    return {
        "participants": Participant.objects.filter(organization__in=organizations).count(),
        "enrolments": Enrollment.objects.filter(
            participant__organization__in=organizations
        ).count(),
        "sessions": Session.objects.filter(organization__in=organizations).count(),
        "referrals": Referral.objects.filter(organization__in=organizations).count(),
    }


def demo_funnel(today: date | None = None) -> DemoFunnel:
    """The demo organisations' last twelve months, counted from the database."""
    today = today or timezone.localdate()
    identified = Participant.objects.filter(
        organization__slug__in=[spec.slug for spec in ORGANIZATIONS],
        identified_on__gt=today - timedelta(days=365),
    )
    return DemoFunnel(
        identified=identified.count(),
        highest_risk=identified.filter(risk_tier=Participant.RiskTier.HIGHEST).count(),
        engaged=identified.filter(engaged_on__isnull=False).count(),
        case_managed=identified.filter(
            enrollments__program__kind=PK.CASE_MANAGEMENT,
            enrollments__enrolled_on__isnull=False,
        )
        .distinct()
        .count(),
    )


def write_summary(summary: DemoSummary, stdout: TextIO) -> None:
    if summary.created:
        stdout.write("Demo data created.\n")
    else:
        stdout.write("Demo data already present; nothing added.\n")
    counts = ", ".join(f"{count} {name}" for name, count in summary.counts.items())
    stdout.write(f"  {counts}\n")
    funnel = summary.funnel
    stdout.write(
        f"  Last 12 months: {funnel.identified} identified "
        f"({funnel.highest_risk} highest risk) -> {funnel.engaged} engaged -> "
        f"{funnel.case_managed} in intensive case management\n\n"
    )
    rows = [("Role", "Username", "Password", "Organisation")]
    rows += [(x.role, x.username, x.password, x.organization) for x in summary.logins]
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for index, row in enumerate(rows):
        stdout.write("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + "\n")
        if index == 0:
            stdout.write("  " + "  ".join("-" * w for w in widths) + "\n")
    stdout.write(
        f"\n  The password {DEMO_PASSWORD!r} is for the demo only (unless changed since).\n"
        "  Managers and the city admin also use two-step login: at their first sign-in the\n"
        "  app shows a QR code to scan with any authenticator app, then backup codes.\n"
        "  Outreach workers sign in with the password alone.\n"
    )
