"""The evaluation's speed: a difference-in-differences fit over 10 areas x 180 months (the
statistics alone, Poisson and negative binomial), and the Evaluate page with a cached result.

    python bench/evaluate.py [--requests 30] [--runs 5]

Targets (issue 12): the 10 x 180 fit under 1 s; the page with a cached result under 150 ms
median. The page part runs against DATABASE_URL (or the embedded database) and creates, once,
fictional areas with monthly figures (slugs starting "bench-evaluate-") and a city admin; a
later run reuses them. Prints the load average, since the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvr_site.settings")

import django

django.setup()

import numpy as np  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench._sessions import client_for  # noqa: E402
from interventions.models import Area  # noqa: E402
from metrics.evaluation import AreaSeries, Options, evaluate_series, months_between  # noqa: E402
from metrics.models import CrimeOutcome  # noqa: E402

PREFIX = "bench-evaluate"
AREAS = 10
FIRST, LAST, START = date(2010, 1, 1), date(2024, 12, 1), date(2018, 1, 1)  # 180 months
SEASON = [0.8, 0.75, 0.9, 1.0, 1.1, 1.25, 1.35, 1.3, 1.1, 1.0, 0.9, 0.85]


def simulated_counts(seed: int, level: float, effect: float) -> dict[date, int]:
    rng = np.random.default_rng(seed)
    return {
        month: int(rng.poisson(level * SEASON[month.month - 1] * (effect if month >= START else 1)))
        for month in months_between(FIRST, LAST)
    }


def bench_fit(runs: int) -> None:
    treated = AreaSeries("area-0", "Area 0", simulated_counts(0, 20, 0.7))
    comparisons = [
        AreaSeries(f"area-{i}", f"Area {i}", simulated_counts(i, 10 + 2 * i, 0.9))
        for i in range(1, AREAS)
    ]
    for label, options in (("Poisson", Options()), ("negative binomial", Options(negbin=True))):
        timings = []
        for _ in range(runs):
            started = time.perf_counter()
            evaluate_series(
                treated=treated,
                comparisons=comparisons,
                start=START,
                first=FIRST,
                last=LAST,
                options=options,
            )
            timings.append(time.perf_counter() - started)
        print(
            f"DiD fit, {AREAS} areas x {len(months_between(FIRST, LAST))} months, {label}: "
            f"median {statistics.median(timings):.3f} s, max {max(timings):.3f} s over {runs} runs "
            "(target < 1 s)"
        )


@transaction.atomic
def scratch_areas() -> list[Area]:
    areas = []
    for i in range(AREAS):
        area, created = Area.objects.get_or_create(
            slug=f"{PREFIX}-{i}", defaults={"name": f"Benchmark city {i} (fictional)"}
        )
        if created:
            CrimeOutcome.objects.bulk_create(
                CrimeOutcome(
                    area=area,
                    period_start=month,
                    granularity="month",
                    measure="homicide",
                    count=count,
                    source="Benchmark (fictional)",
                )
                for month, count in simulated_counts(i, 10 + 2 * i, 0.7 if i == 0 else 0.9).items()
            )
        areas.append(area)
    return areas


def bench_page(requests: int) -> None:
    areas = scratch_areas()
    admin, _ = get_user_model().objects.get_or_create(
        username=f"{PREFIX}-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = client_for(admin)
    query = {
        "area": areas[0].slug,
        "measure": "homicide",
        "start": f"{START:%Y-%m}",
        "comparisons": [area.slug for area in areas[1:]],
    }
    url = reverse("metrics:evaluate")
    started = time.perf_counter()
    first = client.get(url, query)
    first_time = time.perf_counter() - started
    assert first.status_code in (200, 202), first.status_code
    timings = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, query)
        timings.append(time.perf_counter() - started)
        assert response.status_code == 200, response.status_code
    print(
        f"Evaluate page, {AREAS} areas x 180 months: first view {first_time * 1000:.0f} ms "
        f"({'fitted in the request' if first.status_code == 200 else 'queued to a worker'}); "
        f"cached result median {statistics.median(timings) * 1000:.1f} ms, "
        f"max {max(timings) * 1000:.1f} ms over {requests} requests (target < 150 ms median)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    print("load average before: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    bench_fit(arguments.runs)
    bench_page(arguments.requests)
    print("load average after: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
