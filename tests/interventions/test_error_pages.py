"""Refusals in the site's layout (issue 14, finding 5): a 403 and a stale form's CSRF failure say
what happened in plain words and give the way back."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from interventions.models import Session

pytestmark = pytest.mark.django_db


def test_forbidden_page_has_the_layout_the_reason_and_the_way_back(worker_client):
    response = worker_client.get(
        reverse("manager_dashboard"), HTTP_REFERER="http://testserver/caseload/"
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert 'aria-label="Main navigation"' in page
    assert "You cannot open this page" in page
    assert "Only an organisation&#x27;s managers can open this page." in page
    assert 'href="http://testserver/caseload/">Go back' in page
    assert f'href="{reverse("home")}">Start page' in page


def test_forbidden_page_never_links_back_to_another_site(worker_client):
    response = worker_client.get(
        reverse("manager_dashboard"), HTTP_REFERER="https://evil.example/phish"
    )
    assert response.status_code == 403
    assert "evil.example" not in response.content.decode()
    assert f'href="{reverse("home")}">Go back' in response.content.decode()


def test_stale_form_gets_a_plain_csrf_page_in_the_layout_and_saves_nothing(worker):
    client = Client(enforce_csrf_checks=True)
    client.force_login(worker)
    form_url = reverse("session_log")
    response = client.post(
        form_url, {"notes": "typed before lunch"}, HTTP_REFERER=f"http://testserver{form_url}"
    )
    assert response.status_code == 403
    page = response.content.decode()
    assert 'aria-label="Main navigation"' in page
    assert "This form had expired, so nothing was saved" in page
    assert "CSRF" in page
    assert "kept on this device" in page
    assert f'href="http://testserver{form_url}">Go back to the form' in page
    assert "Forbidden (403)" not in page  # not Django's bare page
    assert not Session.objects.exists()


def test_csrf_page_of_a_signed_out_visitor_says_they_will_log_in_first(client):
    csrf_client = Client(enforce_csrf_checks=True)
    response = csrf_client.post(reverse("login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "You will be asked to log in first." in page
    assert f'href="{reverse("home")}">Go back to the form' in page
