"""Percent change and suppression as properties (hypothesis), over random counts rather than
hand-picked ones: zero baselines, increases, ties, rounding at .5, small and large counts.

- Percent change is (comparison - baseline) / baseline x 100 rounded to one decimal, halves
  away from zero (Decimal's ROUND_HALF_UP: +0.05 -> +0.1, -0.05 -> -0.1); a baseline of 0 has
  none ("n/a (baseline is 0)"). The oracle here computes it with exact fractions.
- The dashboard page and its CSV show the same figures, and each percent change shown is
  recomputed from the two counts shown beside it.
- No hidden count of people can be derived exactly from what is shown: every equation an
  analyst has (an area's count is its cities' plus its own, "everyone" is the top areas' plus
  those with no area) is solved by linear algebra over exact fractions, not only one unknown at
  a time, and no hidden cell may come out determined.

Not derandomised: each run tries new examples, and a failing one is printed and kept in
hypothesis's example database (.hypothesis/, not committed) so the next run tries it first."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from interventions.models import Area
from metrics import suppression
from metrics.dashboard import format_percent, percent_change
from metrics.models import ActivityRollup, CrimeOutcome
from tests.conftest import logged_in
from tests.factories import AreaFactory, PartnerOrganizationFactory, UserFactory
from tests.metrics.test_dashboard import CSV_URL, DASHBOARD, NONE, csv_blocks, table_rows

PURE = settings(max_examples=300, deadline=None)
PAGES = settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


# Percent change ------------------------------------------------------------------------------


def expected_percent(baseline: int, comparison: int) -> Decimal | None:
    """One decimal, halves away from zero, from exact fractions."""
    if baseline == 0:
        return None
    exact = Fraction(comparison - baseline, baseline) * 100
    sign = -1 if exact < 0 else 1
    tenths = int(abs(exact) * 10 + Fraction(1, 2))  # floor(x + 1/2): a half goes up
    return Decimal(sign * tenths) / 10


counts = st.one_of(st.integers(0, 12), st.integers(0, 100_000))
# Baselines whose percent changes often end in exactly .x5: 100 x d / b has a half-tenth part.
tie_baselines = st.sampled_from([2000, 400, 80, 16, 200, 40])


@PURE
@given(baseline=st.one_of(counts, tie_baselines), comparison=counts)
@example(baseline=0, comparison=0)
@example(baseline=0, comparison=7)
@example(baseline=37, comparison=37)
@example(baseline=2000, comparison=2001)  # +0.05% -> +0.1%
@example(baseline=2000, comparison=1999)  # -0.05% -> -0.1%
@example(baseline=400, comparison=401)  # +0.25% -> +0.3%
def test_percent_change_is_the_exact_change_rounded_half_away_from_zero(
    baseline: int, comparison: int
) -> None:
    got = percent_change(baseline, comparison)
    assert got == expected_percent(baseline, comparison)
    text = format_percent(got)
    if baseline == 0:
        assert text == "n/a (baseline is 0)"
    else:
        assert text == f"{'+' if got >= 0 else '-'}{abs(got):.1f}%"
        if comparison == baseline:
            assert text == "+0.0%"


# Suppression over the area tree, in pure Python ----------------------------------------------


def determined(hidden: list[object], equations: Iterable[dict[object, int]]) -> set[object]:
    """The hidden cells whose value follows from the equations (each: cell -> coefficient, the
    known cells already moved to the other side). A cell is determined when its unit vector is
    in the row space of the equations over the hidden cells."""
    index = {cell: i for i, cell in enumerate(hidden)}
    rows = [
        [Fraction(equation.get(cell, 0)) for cell in hidden]
        for equation in equations
        if any(cell in index for cell in equation)
    ]

    def rank(matrix: list[list[Fraction]]) -> int:
        matrix = [row[:] for row in matrix]
        found, width = 0, len(hidden)
        for column in range(width):
            pivot = next((r for r in range(found, len(matrix)) if matrix[r][column] != 0), None)
            if pivot is None:
                continue
            matrix[found], matrix[pivot] = matrix[pivot], matrix[found]
            for r in range(len(matrix)):
                if r != found and matrix[r][column] != 0:
                    factor = matrix[r][column] / matrix[found][column]
                    matrix[r] = [
                        a - factor * b for a, b in zip(matrix[r], matrix[found], strict=True)
                    ]
            found += 1
        return found

    base = rank(rows)
    return {
        cell
        for cell in hidden
        if rank([*rows, [Fraction(int(other == cell)) for other in hidden]]) == base
    }


def tree_values(
    parents: list[int | None], own: list[int], no_area: int
) -> tuple[dict[object, int], list[suppression._Sum]]:
    """The cells of suppression.py for a random tree: areas 0..n-1, each with its parent."""
    pairs = [(area, parent) for area, parent in enumerate(parents)]
    values: dict[object, int] = {("own", None): no_area}
    for area, value in enumerate(own):
        values[("own", area)] = value
    for area, _parent in pairs:
        total, stack = 0, [area]
        while stack:
            current = stack.pop()
            total += own[current]
            stack += [child for child, parent in pairs if parent == current]
        values[("area", area)] = total
    values[suppression.EVERYONE] = no_area + sum(own)
    return values, suppression._sums(pairs)


@st.composite
def area_trees(draw: st.DrawFn) -> tuple[list[int | None], list[int], int]:
    n = draw(st.integers(1, 7))
    parents = [draw(st.one_of(st.none(), st.integers(0, i - 1))) if i else None for i in range(n)]
    people = st.one_of(st.just(0), st.integers(1, 10), st.integers(0, 60))
    return parents, [draw(people) for _ in range(n)], draw(people)


@PURE
@given(area_trees())
def test_no_hidden_cell_of_any_area_tree_can_be_derived(
    tree: tuple[list[int | None], list[int], int],
) -> None:
    parents, own, no_area = tree
    values, sums = tree_values(parents, own, no_area)
    hidden = suppression.hide_cells(values, sums)
    # Every count of 1-10 is hidden as such; a hidden second cell is never a 0.
    assert {cell for cell, v in values.items() if 1 <= v <= 10} == {
        cell for cell, why in hidden.items() if why == suppression.PRIMARY
    }
    assert all(values[cell] > 0 for cell, why in hidden.items() if why == suppression.SECONDARY)
    # The analyst knows every cell not hidden (an area's own people included, most often 0).
    equations = []
    for group in sums:
        equation = {group.total: 1, **dict.fromkeys(group.parts, -1)}
        equations.append({cell: c for cell, c in equation.items() if cell in hidden})
    assert determined(sorted(hidden, key=repr), equations) == set()


# The page and its CSV, over random counts -----------------------------------------------------

CITIES = ("delano", "arvin", "shafter")
MONTH = date(2024, 5, 1)


def comparison_rows(html: str) -> list[list[str]]:
    """The rows of the first "Change against a baseline" table of the page."""
    card = html.split("metrics-comparison", 1)[1].split("</table>", 1)[0]
    body = card.split("<tbody>", 1)[1]
    return [
        [
            re.sub(r"<[^>]+>", "", cell).strip()
            for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def undefused(cell: str) -> str:
    """The CSV writer puts a quote before a cell starting with = + - @ (formula injection)."""
    return cell[1:] if re.match(r"'[=+\-@]", cell) else cell


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


@pytest.fixture
def city_viewer(db: None) -> Client:
    return logged_in(UserFactory(username="city-admin", is_staff=True, is_superuser=True))


@pytest.mark.django_db
def test_the_page_and_the_csv_show_the_same_recomputable_figures(city_viewer: Client) -> None:
    county = AreaFactory(name="Kern", slug="kern", kind=Area.Kind.COUNTY)
    cities = {slug: AreaFactory(name=slug.title(), slug=slug, parent=county) for slug in CITIES}
    organizations = [PartnerOrganizationFactory() for _ in CITIES]
    people = st.one_of(st.just(0), st.integers(1, 10), st.integers(0, 80))

    @PAGES
    @given(
        annual=st.lists(st.one_of(counts, tie_baselines), min_size=4, max_size=4),
        served=st.fixed_dictionaries(dict.fromkeys(CITIES, people)),
    )
    def run(annual: list[int], served: dict[str, int]) -> None:
        with transaction.atomic():
            check(annual, served)
            transaction.set_rollback(True)

    def check(annual: list[int], served: dict[str, int]) -> None:
        measures = ["homicide", "nonfatal_shooting"]
        for (measure, year), count in zip(
            [(m, y) for m in measures for y in (2021, 2024)], annual, strict=True
        ):
            CrimeOutcome.objects.create(
                area=county,
                period_start=date(year, 1, 1),
                granularity="year",
                measure=measure,
                count=count,
                source="Test figures",
            )
        for organization, slug in zip(organizations, CITIES, strict=True):
            ActivityRollup.objects.create(
                month=MONTH,
                organization=organization,
                program_kind="mentoring",
                area=cities[slug],
                sessions=1,
                contact_minutes=60,
                participants_served=served[slug],
            )
        served_shown: dict[str, str] = {}
        for page, area, activity in [
            *[(slug, slug, "area") for slug in CITIES],
            ("kern", "kern", "area"),
            ("everyone", "kern", "all"),
        ]:
            query = {
                "area": area,
                "start": "2024-05",
                "end": "2024-05",
                "baseline_year": "2021",
                "comparison_year": "2024",
                "activity": activity,
                "measures": measures,
            }
            html = city_viewer.get(DASHBOARD, query).content.decode()
            blocks = csv_blocks(city_viewer.get(CSV_URL, query).content)
            # The monthly table and its CSV block: the same cells.
            page_rows = [
                ["" if cell == NONE else cell.replace(",", "") for cell in row]
                for row in table_rows(html, "monthly-table")
            ]
            assert page_rows == [[cell.replace(",", "") for cell in row] for row in blocks[0][2:]]
            header = blocks[0][1]
            served_shown[page] = blocks[0][2][header.index("Participants served")]
            if page != "kern":
                continue
            # The comparison: page and CSV agree, and each percent is recomputed from the
            # counts shown beside it.
            shown = comparison_rows(html)
            csv_rows = [[undefused(cell) for cell in row] for row in blocks[3][2:4]]
            assert [[cell.replace(",", "") for cell in row] for row in shown] == [
                [cell.replace(",", "") for cell in row] for row in csv_rows
            ]
            for (_label, before, after, change, percent), truth in zip(
                shown, [annual[0:2], annual[2:4]], strict=True
            ):
                assert (number(before), number(after)) == tuple(truth)
                assert number(change) == number(after) - number(before)
                assert percent == format_percent(expected_percent(number(before), number(after)))
        # No hidden count of people derived: Kern = its cities (nobody on the county itself),
        # everyone = Kern (nobody without an area).
        hidden = sorted(page for page, text in served_shown.items() if not text.isdigit())
        known = {page: int(text) for page, text in served_shown.items() if text.isdigit()}
        equations = []
        for total, parts in (("kern", CITIES), ("everyone", ("kern",))):
            equation = {total: 1, **dict.fromkeys(parts, -1)}
            equations.append({cell: c for cell, c in equation.items() if cell not in known})
        assert determined(hidden, equations) == set(), served_shown
        for slug in CITIES:
            if 1 <= served[slug] <= 10:
                assert slug in hidden, served_shown

    run()
