"""Which counts of people the dashboard hides, so that none of 1-10 people can be read or derived.

The dashboard shows each month's counts for one area (the area and the areas within it) or for
everyone. An analyst can open every area in turn, so the counts of all areas are effectively
published together, linked by sums: a county's count is the sum of its cities' counts and of the
people recorded in the county itself, and "everyone" is the sum of the top areas and of the
people with no area recorded. Hiding the 1-10 cells alone (primary suppression) is not enough:
the county minus the other cities gives the hidden city back (issue 13).

So, for each month and each count of people, this module takes the whole area tree and
1. hides every cell of 1-10 people (shown as "1 to 10");
2. then, in every sum with exactly one hidden member, hides a second one (secondary suppression,
   shown as "withheld"): first the people recorded on a parent area itself, which no page shows,
   so hiding it costs nothing; otherwise the smallest shown count. A cell of 0 is never chosen,
   since a hidden 0 is easily guessed; repeated until every sum has none or at least two
   hidden members, since hiding a cell may leave another sum with one.
The people recorded on a parent area itself are never shown, but are treated as if they were
(an analyst may know or guess them, most often 0).

The response-reach table is the same kind of table (each month's people connected to incidents
in an area and the areas within it, or anywhere) and gets the same treatment, by the area of
the incident (`hidden_reach_counts`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db.models import Sum

from interventions.models import Area
from metrics import selectors
from metrics.models import ActivityRollup
from metrics.selectors import DashboardScope

PEOPLE_COUNTS = (
    "participants_served",
    "new_enrollments",
    "exits",
    "referrals_made",
    "referrals_completed",
)
# The response-reach table's counts of people (by the area of the incident).
REACH_COUNTS = ("connected", "reached", "within_24h", "within_72h")
PRIMARY = "primary"
SECONDARY = "secondary"

# A cell: ("area", id) the area and the areas within it, as its page shows; ("own", id) the
# people recorded on the area itself (None: with no area); ("everyone",) the whole scope.
Cell = tuple[object, ...]
EVERYONE: Cell = ("everyone",)


@dataclass(frozen=True)
class _Sum:
    total: Cell
    parts: tuple[Cell, ...]


def _is_small(count: int) -> bool:
    return 1 <= count <= 10


def _sums(areas: Iterable[tuple[int, int | None]]) -> list[_Sum]:
    children: dict[int | None, list[int]] = defaultdict(list)
    for area_id, parent_id in areas:
        children[parent_id].append(area_id)
    sums = [_Sum(EVERYONE, (("own", None), *(("area", root) for root in children[None])))]
    for parent_id, kids in children.items():
        if parent_id is not None:
            sums.append(
                _Sum(("area", parent_id), (("own", parent_id), *(("area", c) for c in kids)))
            )
    return sums


def hide_cells(values: dict[Cell, int], sums: list[_Sum]) -> dict[Cell, str]:
    """Which cells to hide and why (PRIMARY or SECONDARY), for one month and one count."""
    hidden = {cell: PRIMARY for cell, count in values.items() if _is_small(count)}
    changed = True
    while changed:
        changed = False
        for group in sums:
            members = (group.total, *group.parts)
            if sum(cell in hidden for cell in members) != 1:
                continue
            candidates = [cell for cell in members if cell not in hidden and values[cell] > 0]
            if not candidates:
                continue  # every other member is 0: the hidden one equals 0 + ... and is no 1-10
            # Not shown anywhere first, then the smallest shown count.
            candidates.sort(key=lambda cell: (cell[0] != "own", values[cell]))
            hidden[candidates[0]] = SECONDARY
            changed = True
    return hidden


def hidden_people_counts(
    scope: DashboardScope, *, start: date, end: date
) -> dict[tuple[date, str], dict[Cell, str]]:
    """For each (month, count of people) from start to end, the cells hidden across the area
    tree. Empty when the scope shows counts as they are. Two queries whatever the range."""
    if not scope.suppress_small_counts:
        return {}
    rollups = ActivityRollup.objects.filter(month__gte=start, month__lte=end)
    if scope.organizations is not None:
        rollups = rollups.filter(organization__in=scope.organizations)
    own: dict[tuple[date, int | None], dict[str, int]] = {
        (row["month"], row["area_id"]): row
        for row in rollups.values("month", "area_id").annotate(
            **{name: Sum(name) for name in PEOPLE_COUNTS}
        )
    }
    return _hide_across_the_tree(own, PEOPLE_COUNTS)


def hidden_reach_counts(
    scope: DashboardScope, *, start: date, end: date
) -> dict[tuple[date, str], dict[Cell, str]]:
    """The same for the response-reach table's counts of people, by the area of the incident:
    the people connected, reached, and reached within 24 and 72 hours (each of the last two is
    given away by its share beside the count connected, so it is a count like the others).
    Two queries whatever the range."""
    if not scope.suppress_small_counts:
        return {}
    own = {
        (row["month"], row["area_id"]): row
        for row in selectors.monthly_reach_by_incident_area(scope, start=start, end=end)
    }
    return _hide_across_the_tree(own, REACH_COUNTS)


def _hide_across_the_tree(
    own: dict[tuple[date, int | None], dict[str, int]], names: tuple[str, ...]
) -> dict[tuple[date, str], dict[Cell, str]]:
    """`own`: each (month, area or None) -> its own people's counts. For each (month, name),
    the cells hidden across the whole area tree."""
    areas = list(Area.objects.values_list("id", "parent_id"))
    sums = _sums(areas)
    # Children before parents, so each area's total is its own people plus its children's.
    order = _bottom_up(areas)
    months = sorted({month for month, _area in own})
    result: dict[tuple[date, str], dict[Cell, str]] = {}
    for month in months:
        for name in names:
            values: dict[Cell, int] = {("own", None): _count(own, month, None, name)}
            for area_id, parent_id in order:
                values[("own", area_id)] = _count(own, month, area_id, name)
                values[("area", area_id)] = (
                    values.get(("area", area_id), 0) + values[("own", area_id)]
                )
                parent_key = ("area", parent_id) if parent_id is not None else EVERYONE
                values[parent_key] = values.get(parent_key, 0) + values[("area", area_id)]
            values[EVERYONE] = values.get(EVERYONE, 0) + values[("own", None)]
            hidden = hide_cells(values, sums)
            if hidden:
                result[(month, name)] = hidden
    return result


def _count(
    own: dict[tuple[date, int | None], dict[str, int]], month: date, area_id: int | None, name: str
) -> int:
    return int((own.get((month, area_id)) or {}).get(name) or 0)


def _bottom_up(areas: list[tuple[int, int | None]]) -> list[tuple[int, int | None]]:
    parent_of = dict(areas)

    def depth(area_id: int) -> int:
        level, seen = 0, set()
        while parent_of.get(area_id) is not None and area_id not in seen:
            seen.add(area_id)
            area_id = parent_of[area_id]  # type: ignore[assignment]
            level += 1
        return level

    return sorted(areas, key=lambda pair: -depth(pair[0]))
