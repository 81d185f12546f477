"""Flash messages live in the session, never in a cookie (issue 13, finding 11): "Session
logged … with <name>" was signed, not encrypted, in the `messages` cookie."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.interventions.test_worker_views import in_caseload, session_post

pytestmark = pytest.mark.django_db


def test_a_participants_name_in_a_flash_message_is_in_no_cookie(org_a, worker_client):
    participant = in_caseload(org_a, first_name="Elijah", last_name="Trujillo")

    response = worker_client.post(reverse("session_log"), session_post([participant]))

    assert response.status_code == 302
    for cookie in response.cookies.values():
        assert cookie.key != "messages"
        # Signed cookie values are base64 of the text; look at the raw header as sent too.
        assert "Trujillo" not in cookie.OutputString()
    # The message is still shown, from the session, on the next page.
    page = worker_client.get(response["Location"]).content.decode()
    assert "Session logged" in page and "Elijah Trujillo" in page
