"""Load test: 50 people using the common pages at once, against gunicorn as in production;
with --capacity, the highest request rate the common pages sustain.

    python bench/load.py [--users 50] [--seconds 60] [--workers 3] [--think 1.0 3.0]
    python bench/load.py --capacity [--start-rate 10] [--rate-step 10] [--step-seconds 15]
                         [--max-steps 12] [--workers 3]

Target (SECURITY.md): 50 concurrent users on the common pages, p95 under 500 ms, no errors.
Capacity (issue 16): at least 60 requests/s on the common pages with p95 under 300 ms. The
capacity run offers requests at a fixed rate (open loop: a slow answer does not slow the
offer, as with real people), steps the rate up until a step fails (p95 at or over 300 ms, over
1 % errors, or under 90 % of the offered rate answered), and reports the last rate that held.
It is bounded: at most --max-steps steps of --step-seconds each, and 600 s in all.

Uses the volume data set of DATABASE_URL (bench/pages.py or `manage.py seed_volume` loads it;
this script loads it too when it is missing). It collects the static files into a temporary
directory, starts gunicorn with DEBUG off on 127.0.0.1 only (a throwaway SECRET_KEY, no HTTPS
redirect: nothing leaves the machine), and logs in volume workers and managers by writing their
sessions straight into the session store (bench/_sessions.py), the second factor included for
managers, so neither the login form's password hashing nor django-axes is involved. Each
simulated person then runs their own keep-alive connection: request a page of their role,
wait a think time (a person reads before the next tap), repeat, until the time is up. Each
request has a timeout; every loop ends at the deadline; gunicorn is stopped at the end.

Prints the number of requests, the errors (any status but 200, or no answer), the median and
95th-percentile response times overall and per page, and the load average beside them.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvr_site.settings")
# A throwaway key, the same here and in gunicorn: sessions are signed with it, and a session's
# login is checked against a hash made with it.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench._sessions import session_key_for  # noqa: E402
from interventions.demo.volume import seed_volume, volume_organizations  # noqa: E402
from interventions.models import Enrollment, Membership, Participant  # noqa: E402

HOST = "127.0.0.1"
REQUEST_TIMEOUT_SECONDS = 15
START_TIMEOUT_SECONDS = 60


@dataclass
class Person:
    label: str
    cookie: str
    urls: list[tuple[str, str]]  # (page name, path)


@dataclass
class Results:
    lock: threading.Lock = field(default_factory=threading.Lock)
    timings: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)

    def add(self, page: str, milliseconds: float, error: str | None) -> None:
        with self.lock:
            self.timings[page].append(milliseconds)
            if error is not None:
                self.errors.append(f"{page}: {error}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def people(count: int) -> list[Person]:
    """Workers with a caseload and the managers of the volume organisations: a manager for
    every four workers, busiest first."""
    user_model = get_user_model()
    organizations = list(volume_organizations())
    managers = list(
        user_model.objects.filter(
            memberships__organization__in=organizations,
            memberships__role=Membership.Role.MANAGER,
        ).order_by("username")
    )[: max(1, count // 5)]
    workers = list(
        user_model.objects.filter(
            assigned_enrollments__participant__organization__in=organizations,
            assigned_enrollments__status__in=Enrollment.CASELOAD_STATUSES,
        )
        .annotate(caseload=Count("assigned_enrollments"))
        .order_by("-caseload", "username")
    )[: count - len(managers)]
    cookie_name = settings.SESSION_COOKIE_NAME
    found = []
    for worker in workers:
        caseload = list(
            Participant.objects.filter(
                Q(enrollments__assigned_worker=worker),
                Q(enrollments__status__in=Enrollment.CASELOAD_STATUSES),
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:5]
        )
        urls = [
            ("worker home", reverse("home")),
            ("my caseload", reverse("caseload")),
            ("log a session (form)", reverse("session_log")),
            *(
                ("participant page", reverse("participant_detail", kwargs={"participant_id": pk}))
                for pk in caseload
            ),
        ]
        found.append(Person(worker.username, f"{cookie_name}={session_key_for(worker)}", urls))
    for manager in managers:
        urls = [
            ("manager dashboard", reverse("manager_dashboard")),
            ("participant list", reverse("org_participants")),
            (
                "participant list, filtered",
                reverse("org_participants") + "?status=active&cold=yes&sort=-days_since",
            ),
            ("sessions list", reverse("org_sessions")),
            ("worker list", reverse("org_workers")),
        ]
        found.append(Person(manager.username, f"{cookie_name}={session_key_for(manager)}", urls))
    return found


def browse(
    person: Person,
    port: int,
    deadline: float,
    think: tuple[float, float],
    results: Results,
    rng: random.Random,
) -> None:
    """One person: a page, a pause, another page, until the deadline."""
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
    # Arrivals spread over the first think time, not fifty requests in the same millisecond.
    time.sleep(rng.uniform(0, think[1]))
    try:
        while time.monotonic() < deadline:
            page, path = rng.choice(person.urls)
            started = time.perf_counter()
            error = None
            try:
                connection.request("GET", path, headers={"Cookie": person.cookie})
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    error = f"{response.status} for {person.label} at {path}"
            except (OSError, http.client.HTTPException) as problem:
                error = f"{type(problem).__name__} for {person.label} at {path}"
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT_SECONDS)
            results.add(page, (time.perf_counter() - started) * 1000, error)
            time.sleep(min(rng.uniform(*think), max(0.0, deadline - time.monotonic())))
    finally:
        connection.close()


CAPACITY_P95_MS = 300
CAPACITY_MAX_SECONDS = 600
# Requests in flight at once, at most: beyond it the offer queues here, which shows as latency.
CAPACITY_CONNECTIONS = 48


@dataclass
class Step:
    rate: float
    sent: int
    answered: int
    errors: int
    p95: float
    median: float
    seconds: float

    @property
    def held(self) -> bool:
        return (
            self.answered > 0
            and self.p95 < CAPACITY_P95_MS
            and self.errors <= self.sent * 0.01
            and self.answered >= self.sent * 0.9
        )


def offer(visitors: list[Person], port: int, rate: float, seconds: float, seed: int) -> Step:
    """Offer `rate` requests a second for `seconds`, each a random common page of a random
    person; the time of each counts from when it was due, so a queue shows as latency."""
    rng = random.Random(seed)
    local = threading.local()
    results = Results()

    def one(page: str, path: str, cookie: str, due: float) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = http.client.HTTPConnection(
                HOST, port, timeout=REQUEST_TIMEOUT_SECONDS
            )
        error = None
        try:
            connection.request("GET", path, headers={"Cookie": cookie})
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                error = f"{response.status} at {path}"
        except (OSError, http.client.HTTPException) as problem:
            error = f"{type(problem).__name__} at {path}"
            connection.close()
            local.connection = None
        results.add(page, (time.perf_counter() - due) * 1000, error)

    count = max(1, round(rate * seconds))
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CAPACITY_CONNECTIONS) as pool:
        for index in range(count):
            due = started + index / rate
            time.sleep(max(0.0, due - time.perf_counter()))
            person = rng.choice(visitors)
            page, path = rng.choice(person.urls)
            pool.submit(one, page, path, person.cookie, due)
    elapsed = time.perf_counter() - started
    every = [ms for timings in results.timings.values() for ms in timings]
    return Step(
        rate=rate,
        sent=count,
        answered=len(every) - len(results.errors),
        errors=len(results.errors),
        p95=percentile(every, 0.95) if every else float("inf"),
        median=statistics.median(every) if every else float("inf"),
        seconds=elapsed,
    )


def capacity(args: argparse.Namespace, visitors: list[Person], port: int) -> None:
    load_before = os.getloadavg()
    steps: list[Step] = []
    limit = time.monotonic() + CAPACITY_MAX_SECONDS
    # A short unmeasured warm-up: gunicorn's workers import and connect on their first requests.
    offer(visitors, port, args.start_rate, 3, seed=-1)
    rate = args.start_rate
    for number in range(args.max_steps):
        if time.monotonic() + args.step_seconds > limit:
            break
        step = offer(visitors, port, rate, args.step_seconds, seed=number)
        steps.append(step)
        print(
            f"  {step.rate:6.1f} req/s offered: {step.answered:5d} answered in "
            f"{step.seconds:5.1f} s, {step.errors} errors, median {step.median:7.1f} ms, "
            f"p95 {step.p95:7.1f} ms  {'held' if step.held else 'BROKE'}",
            flush=True,
        )
        if not step.held:
            break
        rate += args.rate_step
    load_after = os.getloadavg()
    held = [step.rate for step in steps if step.held]
    print(
        f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} (1 min) on "
        f"{os.cpu_count()} CPUs; gunicorn with {args.workers} workers; the load generator "
        "shares the machine"
    )
    if not held:
        print(f"capacity: below {args.start_rate:g} requests/s at p95 under {CAPACITY_P95_MS} ms")
    elif steps[-1].held:
        print(
            f"capacity: at least {max(held):g} requests/s at p95 under {CAPACITY_P95_MS} ms "
            "(no step broke within the bounds)"
        )
    else:
        print(f"capacity: {max(held):g} requests/s at p95 under {CAPACITY_P95_MS} ms")


def wait_until_up(port: int, server: subprocess.Popen) -> None:
    limit = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < limit:
        if server.poll() is not None:
            raise SystemExit("gunicorn stopped while starting; see its output above.")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", reverse("health"))
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer within {START_TIMEOUT_SECONDS} s.")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (2-4)")
    parser.add_argument(
        "--think",
        type=float,
        nargs=2,
        default=(1.0, 3.0),
        metavar=("MIN", "MAX"),
        help="seconds a person pauses between pages",
    )
    parser.add_argument("--capacity", action="store_true", help="step the offered rate up")
    parser.add_argument("--start-rate", type=float, default=10, help="requests/s, first step")
    parser.add_argument("--rate-step", type=float, default=10, help="requests/s added per step")
    parser.add_argument("--step-seconds", type=float, default=15)
    parser.add_argument("--max-steps", type=int, default=12)
    args = parser.parse_args()
    if not 1 <= args.users <= 200 or not 1 <= args.seconds <= 600:
        raise SystemExit("Between 1 and 200 users, for 1 to 600 seconds.")
    if not (0 < args.start_rate <= 500 and 0 < args.rate_step <= 100 and 1 <= args.max_steps <= 30):
        raise SystemExit("A start rate up to 500/s, a step up to 100/s, 1 to 30 steps.")
    if not 2 <= args.step_seconds <= 120:
        raise SystemExit("Steps of 2 to 120 seconds.")

    if not Participant.objects.filter(organization__in=volume_organizations()).exists():
        print("No volume data: loading 10,000 participants and 500,000 sessions first…")
        seed_volume(10_000, 500_000)
    visitors = people(args.users)
    if len(visitors) < args.users:
        raise SystemExit(f"Only {len(visitors)} volume users with something to see.")

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="gvr-load-") as static_root:
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "bench._load_settings",
            "PYTHONPATH": str(ROOT),
            "GVR_LOAD_STATIC_ROOT": static_root,
            "DEBUG": "0",
            "SECRET_KEY": os.environ["SECRET_KEY"],
            "ALLOWED_HOSTS": HOST,
            "SECURE_SSL_REDIRECT": "0",
        }
        python = sys.executable
        subprocess.run(  # noqa: S603 - our own interpreter and arguments
            [python, "manage.py", "collectstatic", "--no-input", "-v", "0"],
            cwd=ROOT,
            env=environment,
            check=True,
        )
        gunicorn = str(Path(python).with_name("gunicorn"))
        server = subprocess.Popen(  # noqa: S603 - our own gunicorn and arguments
            [
                gunicorn,
                "gvr_site.wsgi",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(args.workers),
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=environment,
        )
        try:
            wait_until_up(port, server)
            if args.capacity:
                capacity(args, visitors, port)
                return
            results = Results()
            load_before = os.getloadavg()
            deadline = time.monotonic() + args.seconds
            threads = [
                threading.Thread(
                    target=browse,
                    args=(person, port, deadline, tuple(args.think), results, random.Random(n)),
                    daemon=True,
                )
                for n, person in enumerate(visitors)
            ]
            started = time.monotonic()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=args.seconds + REQUEST_TIMEOUT_SECONDS + 5)
            elapsed = time.monotonic() - started
            load_after = os.getloadavg()
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()

    report(args, results, elapsed, load_before, load_after)


def report(
    args: argparse.Namespace,
    results: Results,
    elapsed: float,
    load_before: tuple[float, float, float],
    load_after: tuple[float, float, float],
) -> None:
    every = [ms for timings in results.timings.values() for ms in timings]
    if not every:
        raise SystemExit("No request was made.")
    print(
        f"{args.users} users for {elapsed:.0f} s against gunicorn ({args.workers} workers, "
        f"DEBUG off), pausing {args.think[0]:g}-{args.think[1]:g} s between pages"
    )
    print(
        f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f} "
        f"(1 min) on {os.cpu_count()} CPUs; the load generator shares the machine"
    )
    print(f"\n{'page':28} {'requests':>8} {'median ms':>9} {'p95 ms':>7}")
    for page, timings in sorted(results.timings.items()):
        print(
            f"{page:28} {len(timings):8d} {statistics.median(timings):9.1f} "
            f"{percentile(timings, 0.95):7.1f}"
        )
    median, p95 = statistics.median(every), percentile(every, 0.95)
    print(
        f"\n{'all':28} {len(every):8d} {median:9.1f} {p95:7.1f}   "
        f"{len(every) / elapsed:.1f} requests/s, {len(results.errors)} errors"
    )
    for error in results.errors[:10]:
        print(f"  error: {error}")
    verdict = p95 < 500 and not results.errors
    print("target met: p95 under 500 ms, no errors" if verdict else "target NOT met")


if __name__ == "__main__":
    main()
