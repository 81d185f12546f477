import pytest
from pytest_django.fixtures import SettingsWrapper


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: SettingsWrapper) -> None:
    # The production hasher is slow on purpose; every factory user would pay for it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
