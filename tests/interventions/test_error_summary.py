"""Form errors where they are seen (issue 14, finding 3): every form page sent empty comes back with
an error summary first on the page, "Error:" in the title and a link to each field in error (the
GOV.UK pattern, templates/includes/error_summary.html)."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from interventions.views.worker import PARTICIPANT_TABS
from tests.conftest import logged_in
from tests.security.routes import all_routes, case_objects, fill_kwargs

pytestmark = pytest.mark.django_db

# Buttons rather than forms to fill in: logout ends the walk's session, and cancelling a task
# or revoking a consent would take away the forms the walk goes on to check.
BUTTON_ENDINGS = ("/accounts/logout/", "/cancel/", "/revoke/")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.names: set[str] = set()
        # Each post form's action and what a browser sends for it left empty: its hidden
        # fields as drawn (keys, tokens, versions) and every other field blank.
        self.post_forms: list[tuple[str, dict[str, str]]] = []
        self._form: dict[str, str] | None = None
        self.summary_links: list[tuple[str, str]] = []
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.ids.add(attributes["id"])
        if "name" in attributes and tag in {"input", "select", "textarea"}:
            self.names.add(attributes["name"])
        if tag == "form" and attributes.get("method", "").lower() == "post":
            self._form = {}
            self.post_forms.append((attributes.get("action", ""), self._form))
        elif tag == "form":
            self._form = None
        if (
            self._form is not None
            and attributes.get("name")
            and tag in {"input", "select", "textarea"}
        ):
            hidden = attributes.get("type") == "hidden"
            self._form.setdefault(attributes["name"], attributes.get("value", "") if hidden else "")
        if tag == "a" and "error-summary-link" in attributes.get("class", ""):
            self.summary_links.append((attributes["href"], attributes.get("data-field-name", "")))
        if tag == "title":
            self._in_title = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        if tag == "title":
            self._in_title = False

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _parse(response) -> _Page:  # type: ignore[no-untyped-def]
    page = _Page()
    page.feed(response.content.decode())
    return page


def _shows_errors(content: str) -> bool:
    return bool(re.search(r"invalid-feedback|is-invalid|errorlist|alert-danger", content))


def summary_problems(response) -> list[str]:  # type: ignore[no-untyped-def]
    page = _parse(response)
    problems = []
    if not page.title.strip().startswith("Error: "):
        problems.append(f"title {page.title.strip()!r}")
    main = response.content.decode().partition("<main")[2]
    summary_at = main.find('id="error-summary"')
    first_heading_or_form = min(at for at in (main.find("<h1"), main.find("<form")) if at >= 0)
    if not 0 <= summary_at < first_heading_or_form:
        problems.append("the summary is not before the page's heading and form")
    if not page.summary_links and "is-invalid" in main:
        # A field in error must be linked; an error about the whole form (a rule the service
        # refused) has no field to link to.
        problems.append("no links to fields")
    for href, name in page.summary_links:
        if href.removeprefix("#") not in page.ids and name not in page.names:
            problems.append(f"link {href} ({name}) leads nowhere")
    return problems


def _form_pages(org_a) -> dict[str, tuple[Client, dict[str, str]]]:  # type: ignore[no-untyped-def]
    """Every post form on a page a worker or a manager can open, by its action, with the
    client that opened it and the form sent empty."""
    objects = case_objects(org_a)
    clients = {"worker": logged_in(org_a.worker), "manager": logged_in(org_a.manager)}
    pages: dict[str, tuple[Client, dict[str, str]]] = {}
    for route in all_routes():
        if route.name.startswith("admin:"):
            continue
        kwargs = fill_kwargs(route, objects)
        if kwargs is None:
            continue
        url = reverse(route.name, kwargs=kwargs)
        # The participant page draws one tab at a time; each tab's forms count.
        tabs = PARTICIPANT_TABS if route.name == "participant_detail" else ("",)
        for client, tab in ((client, tab) for client in clients.values() for tab in tabs):
            client.raise_request_exception = False
            response = client.get(url, {"tab": tab} if tab else {})
            if response.status_code == 200 and "text/html" in response["Content-Type"]:
                for action, empty in _parse(response).post_forms:
                    target = urlsplit(action or url).path
                    if not target.endswith(BUTTON_ENDINGS):
                        pages.setdefault(target, (client, empty))
    return pages


def test_every_form_sent_empty_comes_back_with_the_error_summary(org_a):
    pages = _form_pages(org_a)
    checked, failures = [], {}
    for action, (client, empty) in sorted(pages.items()):
        response = client.post(action, empty)
        content = response.content.decode()
        if response.status_code != 200 or not _shows_errors(content):
            continue  # a form with nothing to fill in (a button) did its work
        checked.append(action)
        if problems := summary_problems(response):
            failures[action] = problems
    assert failures == {}
    # The walk reached the forms people fill in, not only buttons.
    expected = {
        reverse(name)
        for name in (
            "session_log",
            "participant_register",
            "password_change",
            "incident_new",
            "callin_new",
            "custom_notification_new",
            "shooting_review",
        )
    }
    assert expected <= set(checked), set(checked)
    for pattern in (
        "/participants/*/edit/",
        "/participants/*/referrals/new/",
        "/participants/*/consents/new/",
        "/enrollments/*/status/",
        "/enrollments/*/exit/",
        "/referrals/*/advance/",
        "/response/tasks/*/complete/",
    ):
        assert any(fnmatch(action, pattern) for action in checked), (pattern, checked)


def test_login_sent_empty_has_the_summary(client):
    response = client.post(reverse("login"), {})
    assert summary_problems(response) == []


def test_page_without_errors_has_no_summary_and_a_plain_title(worker_client):
    response = worker_client.get(reverse("session_log"))
    page = _parse(response)
    assert not page.title.startswith("Error")
    assert "error-summary" not in page.ids


def test_summary_lists_each_error_with_its_label(worker_client):
    response = worker_client.post(reverse("session_log"), {"duration_minutes": "0"})
    links = dict(_parse(response).summary_links)
    assert links["#id_duration_minutes"] == "duration_minutes"
    content = response.content.decode()
    assert "Duration (minutes): Ensure this value is greater than or equal to 1." in content
    assert "Participants: Choose at least one participant." in content
