import pytest


def test_login_page_shows_confidentiality_notice(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert b"confidential records" in response.content


def test_home_requires_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_unknown_page_is_a_friendly_404(worker_client):
    response = worker_client.get("/no-such-page/")
    assert response.status_code == 404
    assert b"Not found" in response.content
