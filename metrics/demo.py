"""Demo outcome figures: Bakersfield's public homicide and shooting counts, loaded through the
importer from metrics/fixtures/bakersfield_outcomes.csv so the demo exercises it."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from interventions.models import Area
from metrics.importer import ImportResult, import_outcomes
from metrics.models import AreaPopulation

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "bakersfield_outcomes.csv"
BAKERSFIELD_SLUG = "bakersfield"
# The 2020 decennial census count, so the yearly table can show a rate for 2020.
BAKERSFIELD_POPULATION_2020 = 403_455
POPULATION_SOURCE = "U.S. Census Bureau, 2020 Census"


@transaction.atomic
def load_demo_outcomes() -> ImportResult:
    """Load (or re-load, changing nothing) the Bakersfield figures. Creates the Bakersfield
    area if the demo has not made it yet. Safe to call any number of times."""
    area, _ = Area.objects.get_or_create(
        slug=BAKERSFIELD_SLUG, defaults={"name": "Bakersfield", "kind": Area.Kind.CITY}
    )
    AreaPopulation.objects.get_or_create(
        area=area,
        year=2020,
        defaults={"population": BAKERSFIELD_POPULATION_2020, "source": POPULATION_SOURCE},
    )
    with FIXTURE.open("rb") as handle:
        return import_outcomes(handle, name=FIXTURE.name, size=FIXTURE.stat().st_size)
