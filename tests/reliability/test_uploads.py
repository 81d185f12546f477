"""Uploaded files are checked for type and size before they are read: a 50 MB file or a binary
"CSV" sent to the outcomes import in the admin gets the page again with a clear message and
changes nothing, never a bare 400 or 500 (Django streams a large upload to a temporary file, and
DATA_UPLOAD_MAX_MEMORY_SIZE does not count files). Sending the same file twice imports once."""

from __future__ import annotations

import os

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from interventions.models import Area
from metrics.importer import MAX_BYTES
from metrics.models import CrimeOutcome
from tests.factories import AreaFactory

URL_NAME = "admin:metrics_crimeoutcome_import"
GOOD = (
    "area,period,measure,count,source,note\n"
    "bakersfield,2021,homicide,60,City of Bakersfield,\n"
    "bakersfield,2024,homicide,26,City of Bakersfield,\n"
)


@pytest.fixture
def bakersfield(db: None) -> Area:
    return AreaFactory(name="Bakersfield", slug="bakersfield")


def _post(client: Client, name: str, content: bytes, content_type: str = "text/csv"):  # type: ignore[no-untyped-def]
    return client.post(reverse(URL_NAME), {"file": SimpleUploadedFile(name, content, content_type)})


def test_a_50_mb_csv_is_refused_with_a_message(
    admin_client_city: Client, bakersfield: Area
) -> None:
    size = 50 * 1024 * 1024
    assert size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert size > settings.FILE_UPLOAD_MAX_MEMORY_SIZE
    line = b"bakersfield,2021,homicide,60,City of Bakersfield,\n"
    content = (GOOD.encode() + line * (size // len(line)))[:size]
    response = _post(admin_client_city, "outcomes.csv", content)
    assert response.status_code == 200
    page = response.content.decode()
    assert "The file is 50.0 MB; the limit is 5 MB" in page
    assert CrimeOutcome.objects.count() == 0


def test_just_over_the_limit_is_refused_and_at_the_limit_is_read(
    admin_client_city: Client, bakersfield: Area
) -> None:
    over = GOOD.encode() + b"#" * (MAX_BYTES + 1 - len(GOOD))
    assert "the limit is 5 MB" in _post(admin_client_city, "o.csv", over).content.decode()
    assert CrimeOutcome.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("outcomes.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + os.urandom(4096), "binary data"),
        ("outcomes.csv", b"PK\x03\x04\x14\x00\x06\x00" + os.urandom(4096), "binary data"),
        ("outcomes.xlsx", b"PK\x03\x04", "not a CSV file"),
        ("outcomes.csv", "area,period\nBäkersfield".encode("latin-1"), "not UTF-8"),
        ("outcomes.csv", b"", "The submitted file is empty"),
    ],
)
def test_binary_and_other_non_csv_files_are_refused_with_a_message(
    admin_client_city: Client, bakersfield: Area, name: str, content: bytes, message: str
) -> None:
    response = _post(admin_client_city, name, content, "application/octet-stream")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert CrimeOutcome.objects.count() == 0


def test_the_same_file_sent_twice_imports_once(
    admin_client_city: Client, bakersfield: Area
) -> None:
    first = _post(admin_client_city, "o.csv", GOOD.encode())
    second = _post(admin_client_city, "o.csv", GOOD.encode())
    assert first.status_code == second.status_code == 302
    assert CrimeOutcome.objects.count() == 2
    messages = [str(m) for m in second.wsgi_request._messages]
    assert any("2 already up to date" in m for m in messages)
