"""The quarterly funder report at volume, for all organisations at once (the city's view, every
section, small counts suppressed).

    python bench/report.py [--participants 10000] [--sessions 500000] [--requests 20] [--reset]

Runs in its own database, `<name of DATABASE_URL's database>_bench_report` on the same server
(created and migrated on the first run), so the volume data never mixes with anything else.
Loads the volume data set (`manage.py seed_volume`) there if it is not there yet, and gives the
volume participants demographics and outcome events (by INSERT ... SELECT). Then requests the
report page in-process through Django's whole middleware stack and prints the median and 95th
percentile server time, the query count for a quarter and for a year (the same: it does not grow
with the rows), and the load average of the machine. Target (issue 11): median under 100 ms.
The dosage table reads the session counts per organisation, day and kind that triggers keep
(interventions/models/report_counts.py); they are filled here if the database has none.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvr_site.settings")

SUFFIX = "_bench_report"


def _own_database() -> None:
    """Point DATABASE_URL at this benchmark's database, creating it when missing."""
    import psycopg

    from gvr_site.database import database_url, parse_database_url

    base = database_url()
    parts = urlsplit(base)
    name = parts.path.lstrip("/") or "postgres"
    if not name.endswith(SUFFIX):
        name += SUFFIX
    bench_url = urlunsplit(parts._replace(path=f"/{name}"))
    settings = parse_database_url(base)
    with psycopg.connect(
        dbname="postgres",
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        autocommit=True,
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = bench_url


_own_database()

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench._sessions import client_for  # noqa: E402
from bench.pages import measure  # noqa: E402
from interventions.demo.volume import seed_volume, volume_organizations  # noqa: E402
from interventions.models import (  # noqa: E402
    Participant,
    Session,
    SessionDayCount,
    SessionDayCountFillState,
)
from interventions.models.outcomes import Demographics, OutcomeEvent  # noqa: E402
from interventions.selectors.funder_report import previous_quarter  # noqa: E402
from interventions.services.report_counts import fill_session_day_counts  # noqa: E402

CITY_ADMIN = "bench-report-cityadmin"


def table(model: type) -> str:
    return connection.ops.quote_name(model._meta.db_table)


@transaction.atomic
def add_outcomes() -> None:
    """Demographics for every volume participant and about one outcome event for every two,
    dated after their first enrolment, unless they are there."""
    people = Participant.objects.filter(organization__in=volume_organizations())
    if Demographics.objects.filter(participant__in=people).exists():
        return
    recorder = get_user_model().objects.filter(username=CITY_ADMIN).get()
    ids = ",".join(str(pk) for pk in volume_organizations().values_list("pk", flat=True))
    cursor = connection.cursor()
    cursor.execute(
        f"""
        INSERT INTO {table(Demographics)} (participant_id, gender, race_ethnicity,
            preferred_language, updated_at)
        SELECT p.id,
               (ARRAY['man','man','man','man','woman','nonbinary','declined','unknown',''])
                   [1 + p.id % 9],
               CASE WHEN p.id % 11 = 0 THEN ARRAY['black','hispanic']::varchar[]
                    ELSE ARRAY[(ARRAY['hispanic','black','white','asian','american_indian',
                                      'declined','unknown'])[1 + p.id % 7]]::varchar[] END,
               (ARRAY['english','english','spanish','punjabi',''])[1 + p.id % 5],
               now()
        FROM {table(Participant)} p WHERE p.organization_id IN ({ids})
        """
    )
    cursor.execute(
        f"""
        INSERT INTO {table(OutcomeEvent)} (participant_id, organization_id, kind, detail,
            occurred_on, source, notes, recorded_by_id, recorded_at)
        SELECT p.id, p.organization_id, k.kind, k.detail,
               LEAST(current_date, e.first + (p.id %% 300)::integer), k.source, '', %s, now()
        FROM {table(Participant)} p
        JOIN (SELECT participant_id, min(enrolled_on) AS first FROM interventions_enrollment
              WHERE enrolled_on IS NOT NULL GROUP BY participant_id) e ON e.participant_id = p.id
        JOIN (VALUES (0, 'arrest', '', 'probation'), (1, 'employment_started', '', 'employer'),
                     (2, 'credential_earned', 'ged', 'school'),
                     (3, 'violent_victimization', 'shot', 'hospital')) AS k(n, kind, detail, source)
             ON k.n = p.id %% 8
        WHERE p.organization_id IN ({ids})
        """,
        [recorder.pk],
    )
    cursor.execute(f"ANALYZE {table(Demographics)}; ANALYZE {table(OutcomeEvent)};")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=10_000)
    parser.add_argument("--sessions", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--reset", action="store_true", help="reload the volume data first")
    args = parser.parse_args()

    print(f"Database: {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0)
    User = get_user_model()
    admin, _ = User.objects.get_or_create(
        username=CITY_ADMIN, defaults={"is_staff": True, "is_superuser": True}
    )
    loaded = Participant.objects.filter(organization__in=volume_organizations()).count()
    if args.reset or loaded == 0:
        if args.reset:
            # The volume reset deletes its participants; these rows protect them.
            volume_people = Participant.objects.filter(organization__in=volume_organizations())
            OutcomeEvent.objects.filter(participant__in=volume_people).delete()
            Demographics.objects.filter(participant__in=volume_people).delete()
        print(f"Loading {args.participants} participants and {args.sessions} sessions…")
        summary = seed_volume(args.participants, args.sessions, reset=args.reset)
        print(f"  loaded in {summary.seconds:.1f} s")
    add_outcomes()
    # The migration fills the kept session counts and triggers keep them; a database made in
    # another time zone (TIME_ZONE) is filled again here, as an operator would.
    zone = timezone.get_current_timezone_name()
    if not SessionDayCountFillState.objects.filter(time_zone=zone).exists():
        print(f"Filling the report's session day counts in {zone}…")
        fill_session_day_counts()
    # What autovacuum does soon after a bulk load: visibility maps (index-only scans) and
    # planner statistics.
    with connection.cursor() as cursor:
        for model in (Session, SessionDayCount, Participant, Demographics, OutcomeEvent):
            cursor.execute(f"VACUUM ANALYZE {table(model)}")
    print(
        f"Data: {Participant.objects.count():,} participants, {Session.objects.count():,} "
        f"sessions, {OutcomeEvent.objects.count():,} outcome events, "
        f"{volume_organizations().count()} organisations."
    )
    client = client_for(admin)
    start, end = previous_quarter(timezone.localdate())
    quarter = f"{reverse('funder_report')}?start={start}&end={end}"
    year = f"{reverse('funder_report')}?start={start.replace(year=start.year - 1)}&end={end}"
    load = os.getloadavg()
    print(f"Load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)")
    results = {"quarter": measure(client, quarter, args.requests)}
    results["year"] = measure(client, year, max(3, args.requests // 4))
    for label, figures in results.items():
        print(
            f"Funder report, all organisations, a {label}: median {figures['median']:.0f} ms, "
            f"p95 {figures['p95']:.0f} ms, median CPU {figures['cpu']:.0f} ms, "
            f"{figures['queries']} queries ({figures['db']:.0f} ms in the database)"
        )
    load = os.getloadavg()
    print(f"Load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} (1, 5, 15 min)")
    same = results["quarter"]["queries"] == results["year"]["queries"]
    print(f"Query count the same for a quarter and a year: {'yes' if same else 'NO'}")
    target = results["quarter"]["median"] < 100
    print(f"Target, median under 100 ms for a quarter: {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()
