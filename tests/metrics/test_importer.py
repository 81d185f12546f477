"""The outcomes importer: good files upsert, bad files change nothing and say why."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from interventions.models import Area
from metrics.importer import MAX_BYTES, ImportRefused, import_outcomes
from metrics.models import CrimeOutcome
from tests.factories import AreaFactory

HEADER = "area,period,measure,count,source,note\n"


@pytest.fixture
def bakersfield(db: None) -> Area:
    return AreaFactory(name="Bakersfield", slug="bakersfield")


def run(text: str | bytes, name: str = "outcomes.csv"):  # type: ignore[no-untyped-def]
    raw = text.encode() if isinstance(text, str) else text
    return import_outcomes(io.BytesIO(raw), name=name)


def refused(text: str | bytes, name: str = "outcomes.csv") -> list[str]:
    with pytest.raises(ImportRefused) as caught:
        run(text, name)
    return caught.value.problems


GOOD = (
    HEADER
    + "bakersfield,2021,homicide,60,City of Bakersfield,Annual\n"
    + "Bakersfield,2024-03,nonfatal_shooting,4,Bakersfield Police,\n"
)


def test_good_file_imports_by_slug_or_name(bakersfield: Area) -> None:
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (2, 0, 0)
    annual = CrimeOutcome.objects.get(measure="homicide")
    assert (annual.area, annual.granularity, annual.count, annual.note) == (
        bakersfield,
        "year",
        60,
        "Annual",
    )
    assert str(annual.period_start) == "2021-01-01"
    monthly = CrimeOutcome.objects.get(measure="nonfatal_shooting")
    assert (monthly.granularity, str(monthly.period_start)) == ("month", "2024-03-01")


def test_reimport_changes_nothing(bakersfield: Area) -> None:
    run(GOOD)
    before = list(CrimeOutcome.objects.values_list("id", "count", "source", "note", "updated_at"))
    result = run(GOOD)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 2)
    after = list(CrimeOutcome.objects.values_list("id", "count", "source", "note", "updated_at"))
    assert after == before


def test_changed_count_updates_in_place(bakersfield: Area) -> None:
    run(GOOD)
    result = run(GOOD.replace(",60,", ",61,"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    assert CrimeOutcome.objects.get(measure="homicide").count == 61
    assert CrimeOutcome.objects.count() == 2


def test_every_bad_row_is_reported_with_its_line_and_nothing_is_written(
    bakersfield: Area,
) -> None:
    text = (
        HEADER
        + "bakersfield,2021,homicide,60,City,\n"  # line 2: good
        + "bakersfield,2021-13,homicide,5,City,\n"  # 3: no month 13
        + "bakersfield,21,homicide,5,City,\n"  # 4: not YYYY
        + "bakersfield,2022,murders,5,City,\n"  # 5: unknown measure
        + "bakersfield,2022,homicide,-1,City,\n"  # 6: negative
        + "bakersfield,2022,gun_homicide,3.5,City,\n"  # 7: not whole
        + "bakersfield,2022,gang_homicide,,City,\n"  # 8: empty count
        + "bakersfield,2022,gun_assault,4,,\n"  # 9: no source
        + "atlantis,2022,homicide,4,City,\n"  # 10: unknown area
        + "bakersfield,2021,homicide,61,City,\n"  # 11: duplicate of line 2
        + "bakersfield,2023,homicide,4,City,note,extra\n"  # 12: too many values
        + "\n"  # 13: blank, skipped
        + ",2023,homicide,4,City,\n"  # 14: empty area
    )
    problems = refused(text)
    joined = "\n".join(problems)
    expected = {
        3: "no month 13",
        4: "not YYYY-MM or YYYY",
        5: "unknown measure “murders”",
        6: "count “-1” is not a whole number",
        7: "count “3.5” is not a whole number",
        8: "count “” is not a whole number",
        9: "source is empty",
        10: "unknown area “atlantis”",
        11: "same area, period and measure as line 2",
        12: "more values than columns",
        14: "area is empty",
    }
    for line, reason in expected.items():
        assert any(p.startswith(f"Line {line}:") and reason in p for p in problems), (line, joined)
    assert len(problems) == len(expected)
    assert CrimeOutcome.objects.count() == 0


def test_unknown_area_is_reported_not_created(bakersfield: Area) -> None:
    areas = Area.objects.count()
    problems = refused(HEADER + "Oildale,2021,homicide,3,Sheriff,\n")
    assert problems == ["Line 2: unknown area “Oildale” (add it in the admin first)."]
    assert Area.objects.count() == areas
    assert not Area.objects.filter(name="Oildale").exists()


def test_ambiguous_area_name_asks_for_the_slug(db: None) -> None:
    AreaFactory(name="Lamont", slug="lamont-a")
    AreaFactory(name="Lamont", slug="lamont-b")
    problems = refused(HEADER + "Lamont,2021,homicide,3,Sheriff,\n")
    assert "use its slug" in problems[0]
    assert run(HEADER + "lamont-b,2021,homicide,3,Sheriff,\n").created == 1


def test_not_utf8_is_refused(bakersfield: Area) -> None:
    raw = (HEADER + "bakersfield,2021,homicide,60,Polic\xeda de Bakersfield,\n").encode("latin-1")
    problems = refused(raw)
    assert len(problems) == 1
    assert "not UTF-8" in problems[0] and "line 2" in problems[0]
    assert CrimeOutcome.objects.count() == 0


def test_utf8_with_byte_order_mark_is_accepted(bakersfield: Area) -> None:
    assert run("\ufeff" + GOOD).created == 2


def test_binary_file_is_refused(bakersfield: Area) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(200)
    assert refused(png, name="outcomes.csv") == [
        "This is not a CSV file (it contains binary data)."
    ]


def test_other_file_types_are_refused_by_name(bakersfield: Area) -> None:
    problems = refused(GOOD, name="outcomes.xlsx")
    assert "not a CSV file" in problems[0]


class _Unreadable(io.BytesIO):
    def read(self, *args: object) -> bytes:  # type: ignore[override]
        raise AssertionError("a file over the limit must be refused before it is read")


def test_over_5_mb_is_refused_before_reading(bakersfield: Area) -> None:
    with pytest.raises(ImportRefused) as caught:
        import_outcomes(_Unreadable(), name="big.csv", size=6 * 1024 * 1024)
    assert "limit is 5 MB" in caught.value.problems[0]


def test_over_5_mb_without_a_declared_size_is_refused(bakersfield: Area) -> None:
    raw = GOOD.encode() + b"bakersfield,2020,homicide,1,x,\n" * (MAX_BYTES // 30 + 10)
    problems = refused(raw)
    assert "5 MB" in problems[0]
    assert CrimeOutcome.objects.count() == 0


@pytest.mark.parametrize(
    ("header", "missing"),
    [
        ("area,period,measure,count\n", "source"),
        ("area,measure,count,source\n", "period"),
        ("place,period,measure,count,source\n", "area"),
    ],
)
def test_missing_columns_are_named(bakersfield: Area, header: str, missing: str) -> None:
    problems = refused(header + "bakersfield,2021,homicide,60\n")
    assert problems[0].startswith("Line 1 (header): missing column(s)")
    assert missing in problems[0]


def test_empty_and_header_only_files(bakersfield: Area) -> None:
    assert refused(b"") == ["The file is empty."]
    assert refused(HEADER) == ["The file has a header but no rows."]


def test_management_command(bakersfield: Area, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    out = io.StringIO()
    call_command("import_outcomes", str(good), stdout=out)
    assert "2 added" in out.getvalue()
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER + "nowhere,2021,homicide,1,x,\n", encoding="utf-8")
    err = io.StringIO()
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_outcomes", str(bad), stderr=err)
    assert "Line 2: unknown area “nowhere”" in err.getvalue()
    assert CrimeOutcome.objects.count() == 2


def test_admin_upload(admin_client_city, bakersfield: Area) -> None:  # type: ignore[no-untyped-def]
    url = reverse("admin:metrics_crimeoutcome_import")
    changelist = admin_client_city.get(reverse("admin:metrics_crimeoutcome_changelist"))
    assert url in changelist.content.decode()

    response = admin_client_city.post(
        url, {"file": SimpleUploadedFile("o.csv", GOOD.encode(), "text/csv")}
    )
    assert response.status_code == 302
    assert CrimeOutcome.objects.count() == 2

    bad = HEADER + "bakersfield,2019,homicide,34,x,\nbakersfield,2020,homicide,lots,x,\n"
    response = admin_client_city.post(
        url, {"file": SimpleUploadedFile("o.csv", bad.encode(), "text/csv")}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Nothing was imported" in page
    assert "Line 3: count “lots” is not a whole number" in page
    assert CrimeOutcome.objects.count() == 2

    response = admin_client_city.post(
        url, {"file": SimpleUploadedFile("o.png", b"\x89PNG\x00\x00", "image/png")}
    )
    assert "not a CSV file" in response.content.decode()


def test_admin_upload_needs_staff(client, bakersfield: Area, worker) -> None:  # type: ignore[no-untyped-def]
    client.force_login(worker)
    response = client.get(reverse("admin:metrics_crimeoutcome_import"))
    assert response.status_code == 302  # to the admin login
    assert CrimeOutcome.objects.count() == 0
