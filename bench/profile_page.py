"""Where a page's Python time goes: cProfile over repeated requests of one page.

    python bench/profile_page.py [--page participant|dashboard|participants|filtered|workers]
                                 [--tab activity|details|plan|related]
                                 [--requests 20] [--top 25] [--no-profile]

Uses the volume data of DATABASE_URL (bench/pages.py loads it) and the same worker and
participant as bench/pages.py: the busiest worker of the first volume organisation and their
most contacted participant. Prints the median CPU milliseconds per request and the functions
with the most cumulative time (the standard library's cProfile; nothing to install).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gvr_site.settings")

import django

django.setup()

from django.urls import reverse  # noqa: E402

from bench._sessions import client_for  # noqa: E402
from bench._subjects import measured_subjects  # noqa: E402

MANAGER_PAGES = {
    "dashboard": "manager_dashboard",
    "participants": "org_participants",
    "filtered": "org_participants",
    "workers": "org_workers",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--page", choices=["participant", "dashboard", "participants", "filtered", "workers"]
    )
    parser.add_argument(
        "--tab", choices=["activity", "details", "plan", "related"], help="participant page tab"
    )
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--no-profile", action="store_true", help="CPU time only, no profiler")
    args = parser.parse_args()
    _organization, worker, manager, participant = measured_subjects()
    page = args.page or "participant"
    if page == "participant":
        client = client_for(worker)
        url = reverse("participant_detail", kwargs={"participant_id": participant.pk})
        if args.tab:
            url += f"?tab={args.tab}"
    else:
        client = client_for(manager)
        url = reverse(MANAGER_PAGES[page])
        if page == "filtered":
            # bench/pages.py's filtered list.
            url += "?status=active&cold=yes&sort=-days_since"
    client.get(url)  # warm-up
    cpu = []
    profile = cProfile.Profile()
    for _ in range(args.requests):
        started = time.process_time()
        if not args.no_profile:
            profile.enable()
        response = client.get(url)
        if not args.no_profile:
            profile.disable()
        cpu.append((time.process_time() - started) * 1000)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    load = os.getloadavg()
    print(
        f"{url}: median CPU {statistics.median(cpu):.1f} ms per request"
        f"{'' if args.no_profile else ' under the profiler'} ({args.requests} requests); "
        f"load average {load[0]:.1f} on {os.cpu_count()} CPUs"
    )
    if args.no_profile:
        return
    pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
