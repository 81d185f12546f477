"""Security headers on every page, for every role; production settings pass `check --deploy`."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import logged_in
from tests.security.routes import SKIPPED_KWARGS, all_routes, case_objects, fill_kwargs, is_admin

pytestmark = pytest.mark.django_db

BASE_DIR = Path(__file__).resolve().parents[2]


def _csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0]] = words[1:]
    return directives


def header_problems(response) -> list[str]:  # type: ignore[no-untyped-def]
    problems = []
    csp = response.headers.get("Content-Security-Policy")
    if not csp:
        problems.append("no Content-Security-Policy")
    else:
        directives = _csp_directives(csp)
        if directives.get("default-src") != ["'self'"]:
            problems.append(f"default-src is {directives.get('default-src')}")
        if directives.get("script-src") != ["'self'"]:
            problems.append(f"script-src is {directives.get('script-src')}")
        if directives.get("style-src") != ["'self'"]:
            problems.append(f"style-src is {directives.get('style-src')}")
        if directives.get("frame-ancestors") != ["'none'"]:
            problems.append("frame-ancestors is not 'none'")
        for name, sources in directives.items():
            if name != "style-src-attr" and (
                "'unsafe-inline'" in sources or "'unsafe-eval'" in sources
            ):
                problems.append(f"{name} allows {sources}")
    if response.headers.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if not response.headers.get("Referrer-Policy"):
        problems.append("no Referrer-Policy")
    if response.headers.get("X-Frame-Options") != "DENY":
        problems.append("X-Frame-Options is not DENY")
    if "no-store" not in response.headers.get("Cache-Control", ""):
        problems.append(f"Cache-Control is {response.headers.get('Cache-Control')!r}")
    return problems


@pytest.fixture
def walk(org_a):  # type: ignore[no-untyped-def]
    objects = case_objects(org_a)
    admin = org_a.manager
    admin.is_staff = admin.is_superuser = True
    admin.save()
    clients = {"worker": logged_in(org_a.worker), "manager": logged_in(admin)}
    for client in clients.values():
        # A view that crashes is reported by test_no_page_answers_with_a_server_error; the walk
        # goes on.
        client.raise_request_exception = False

    def get_every_route():  # type: ignore[no-untyped-def]
        visited, skipped = [], []
        for route in all_routes():
            kwargs = fill_kwargs(route, objects)
            if kwargs is None:
                missing = [name for name in route.kwarg_names if name not in objects]
                reason = SKIPPED_KWARGS.get(missing[0], f"no test object for {missing}")
                skipped.append((route.name, reason))
                continue
            url = reverse(route.name, kwargs=kwargs)
            roles = ["manager"] if is_admin(route) else ["worker", "manager"]
            for role in roles:
                visited.append((route.name, role, url, clients[role].get(url)))
        return visited, skipped

    return get_every_route


def test_every_page_sends_the_security_headers_to_a_logged_in_user(walk):
    visited, skipped = walk()
    assert len(visited) > 20
    failures = {
        f"{name} as {role} ({response.status_code})": header_problems(response)
        for name, role, _url, response in visited
        if header_problems(response)
    }
    assert failures == {}
    # Parametrised routes are only skipped for a stated reason.
    unexplained = [name for name, reason in skipped if reason.startswith("no test object")]
    assert unexplained == [], unexplained


def test_no_page_answers_with_a_server_error(walk):
    visited, _ = walk()
    errors = [f"{name} as {role}: {url}" for name, role, url, r in visited if r.status_code >= 500]
    assert errors == []


def test_login_page_and_health_check_send_csp_and_nosniff(client):
    for url in (reverse("login"), reverse("health")):
        response = client.get(url)
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_base_template_turns_off_htmx_indicator_styles(client):
    # htmx injects a <style> element unless told not to; the CSP would refuse it.
    response = client.get(reverse("login"))
    assert b'name="htmx-config"' in response.content
    assert b'"includeIndicatorStyles": false' in response.content
    assert b"<style" not in response.content
    assert b"<script>" not in response.content


def _production_env(**extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SECURE_", "CSRF_", "SESSION_"))
    }
    env.update(
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="gvr.example.org",
        DJANGO_SETTINGS_MODULE="gvr_site.settings",
        DATABASE_URL=os.environ.get("DATABASE_URL") or "postgres://localhost/unused",
    )
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed arguments
        [sys.executable, *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_settings_pass_check_deploy():
    result = _run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], _production_env())
    assert result.returncode == 0, result.stdout + result.stderr


PRINT_SETTINGS = """
import django, json
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in (
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_SAMESITE", "SECURE_SSL_REDIRECT", "DEBUG")}))
"""


def test_production_cookies_are_secure_httponly_samesite_and_hsts_is_on():
    import json

    result = _run(["-c", PRINT_SETTINGS], _production_env())
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values["DEBUG"] is False
    assert values["SECURE_HSTS_SECONDS"] >= 31_536_000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] and values["CSRF_COOKIE_SECURE"]
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["CSRF_COOKIE_SAMESITE"] in ("Lax", "Strict")
    assert values["SECURE_SSL_REDIRECT"] is True


def test_production_refuses_to_start_without_its_secret_key():
    env = _production_env()
    del env["SECRET_KEY"]
    result = _run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_hsts_header_is_sent_over_https_in_production(settings, client):
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    response = client.get(reverse("login"), secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
