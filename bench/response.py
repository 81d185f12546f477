"""Time the generation of response tasks after an incident, at volume.

    python bench/response.py [--participants 10000] [--groups 500] [--runs 7] [--keep]

Loads scratch fictional data with bulk inserts (two organisations named "Response Bench ...
(fictional)", users starting with `rbench-`, groups starting with `rbench-`): participants with
open enrolments and a worker, street groups of uneven size (a few large ones, as in a real
city), member and associate ties, and conflicts between groups (active, dormant, truce). Each
run records a fresh incident touching the three largest groups and a few people, then times
`generate_response_tasks` alone. Prints the median and the slowest run; the target is under
one second. The scratch data is removed at the end unless --keep is given.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvr_site.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from interventions.models import (  # noqa: E402
    Enrollment,
    GroupConflict,
    GroupTie,
    Incident,
    IncidentGroup,
    IncidentParticipant,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
    ResponseTask,
    StreetGroup,
)
from interventions.services.response import generate_response_tasks  # noqa: E402

PREFIX = "rbench-"
User = get_user_model()


def clean() -> None:
    """Remove every row this benchmark created, children first (history is PROTECTed)."""
    organizations = PartnerOrganization.objects.filter(slug__startswith=PREFIX)
    incidents = Incident.objects.filter(organization__in=organizations)
    with transaction.atomic():
        ResponseTask.objects.filter(incident__in=incidents).delete()
        IncidentParticipant.objects.filter(incident__in=incidents).delete()
        IncidentGroup.objects.filter(incident__in=incidents).delete()
        incidents.delete()
        groups = StreetGroup.objects.filter(slug__startswith=PREFIX)
        GroupTie.objects.filter(group__in=groups).delete()
        GroupConflict.objects.filter(group_a__in=groups).delete()
        GroupConflict.objects.filter(group_b__in=groups).delete()
        groups.delete()
        Enrollment.objects.filter(program__organization__in=organizations).delete()
        Participant.objects.filter(organization__in=organizations).delete()
        Program.objects.filter(organization__in=organizations).delete()
        Membership.objects.filter(organization__in=organizations).delete()
        User.objects.filter(username__startswith=PREFIX).delete()
        organizations.delete()


def load(participant_count: int, group_count: int, rng: random.Random) -> list[int]:
    """Insert the scratch data; return the ids of the groups, largest first."""
    started = time.perf_counter()
    today = timezone.localdate()
    with transaction.atomic():
        organizations = PartnerOrganization.objects.bulk_create(
            PartnerOrganization(
                name=f"Response Bench {letter} (fictional)", slug=f"{PREFIX}{letter}"
            )
            for letter in "ab"
        )
        programs = Program.objects.bulk_create(
            Program(
                organization=org,
                name=f"{org.name} outreach",
                slug=f"{org.slug}-outreach",
                kind=Program.Kind.STREET_OUTREACH,
            )
            for org in organizations
        )
        workers_per_org = max(1, participant_count // 2 // 17)
        users = User.objects.bulk_create(
            User(username=f"{PREFIX}{org.slug}-worker-{n}", password="!")  # noqa: S106
            for org in organizations
            for n in range(workers_per_org)
        )
        Membership.objects.bulk_create(
            Membership(user=user, organization=organizations[i // workers_per_org])
            for i, user in enumerate(users)
        )
        people = Participant.objects.bulk_create(
            (
                Participant(
                    organization=organizations[n % 2],
                    participant_code=f"RB-{n:06d}",
                    first_name="Bench",
                    last_name=f"Person {n}",
                    identified_on=today - timedelta(days=400),
                )
                for n in range(participant_count)
            ),
            batch_size=5000,
        )
        Enrollment.objects.bulk_create(
            (
                Enrollment(
                    participant=person,
                    program=programs[n % 2],
                    status=Enrollment.Status.ACTIVE,
                    assigned_worker=users[
                        (n % 2) * workers_per_org + rng.randrange(workers_per_org)
                    ],
                    referred_on=today - timedelta(days=300),
                    enrolled_on=today - timedelta(days=300),
                    active_on=today - timedelta(days=300),
                )
                for n, person in enumerate(people)
            ),
            batch_size=5000,
        )
        groups = StreetGroup.objects.bulk_create(
            StreetGroup(name=f"Bench group {n}", slug=f"{PREFIX}group-{n}")
            for n in range(group_count)
        )
        # Uneven sizes: a group's weight falls off with its rank, so a few are large.
        weights = [1 / (rank + 1) ** 0.8 for rank in range(group_count)]
        ties = []
        for person in people:
            first, second = rng.choices(groups, weights=weights, k=2)
            ties.append(GroupTie(participant=person, group=first, kind=GroupTie.Kind.MEMBER))
            if second != first and rng.random() < 0.3:
                ties.append(
                    GroupTie(participant=person, group=second, kind=GroupTie.Kind.ASSOCIATE)
                )
            if rng.random() < 0.1:  # an old tie, ended: must be ignored
                ties.append(
                    GroupTie(
                        participant=person,
                        group=rng.choice(groups),
                        since=today - timedelta(days=900),
                        until=today - timedelta(days=200),
                    )
                )
        GroupTie.objects.bulk_create(ties, batch_size=5000)
        pairs: set[tuple[int, int]] = set()
        statuses = [GroupConflict.Status.ACTIVE] * 3 + [
            GroupConflict.Status.DORMANT,
            GroupConflict.Status.TRUCE,
        ]
        conflicts = []
        for group in groups:
            for rival in rng.sample(groups, 4):
                pair = tuple(sorted((group.pk, rival.pk)))
                if rival.pk != group.pk and pair not in pairs:
                    pairs.add(pair)
                    conflicts.append(
                        GroupConflict(group_a=group, group_b=rival, status=rng.choice(statuses))
                    )
        GroupConflict.objects.bulk_create(conflicts)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(
        f"Loaded {len(people):,} participants, {len(groups)} groups, {len(ties):,} ties, "
        f"{len(conflicts):,} conflicts in {time.perf_counter() - started:.1f} s"
    )
    return list(
        StreetGroup.objects.filter(slug__startswith=PREFIX)
        .annotate(size=Count("ties"))
        .order_by("-size")
        .values_list("pk", flat=True)
    )


def fresh_incident(
    group_ids: list[int], organization: PartnerOrganization, rng: random.Random
) -> Incident:
    incident = Incident.objects.create(
        kind=Incident.Kind.NONFATAL_SHOOTING,
        occurred_at=timezone.now() - timedelta(hours=1),
        victim_count=2,
        organization=organization,
        entered_by=User.objects.filter(username__startswith=PREFIX).first(),
    )
    IncidentGroup.objects.bulk_create(
        IncidentGroup(incident=incident, group_id=g) for g in group_ids
    )
    people = rng.sample(
        list(
            Participant.objects.filter(organization=organization).values_list("pk", flat=True)[
                :2000
            ]
        ),
        5,
    )
    roles = ["victim", "victim", "suspect", "witness", "associate"]
    IncidentParticipant.objects.bulk_create(
        IncidentParticipant(incident=incident, participant_id=pk, role=role)
        for pk, role in zip(people, roles, strict=True)
    )
    return incident


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=500)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the scratch data afterwards")
    args = parser.parse_args()
    load_average = os.getloadavg()[0]
    print(f"Load average {load_average:.1f} on {os.cpu_count()} CPUs (timings grow with it)")
    rng = random.Random(2024)

    clean()
    try:
        groups_by_size = load(args.participants, args.groups, rng)
        organization = PartnerOrganization.objects.filter(slug__startswith=PREFIX).first()
        timings, cpu, created = [], [], []
        for run in range(args.runs):
            # A different trio of large groups each run, so no run reuses another's plan.
            touched = groups_by_size[run : run + 3]
            incident = fresh_incident(touched, organization, rng)
            started, started_cpu = time.perf_counter(), time.process_time()
            created.append(generate_response_tasks(incident.pk))
            timings.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
            assert generate_response_tasks(incident.pk) == 0  # idempotent
        print(
            f"generate_response_tasks over {args.runs} fresh incidents: "
            f"median {statistics.median(timings) * 1000:.0f} ms, "
            f"slowest {max(timings) * 1000:.0f} ms, "
            f"of which Python CPU median {statistics.median(cpu) * 1000:.0f} ms, "
            f"tasks per incident {min(created)}-{max(created)} "
            f"(target: under 1000 ms)"
        )
    finally:
        if not args.keep:
            clean()


if __name__ == "__main__":
    main()
