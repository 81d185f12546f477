"""Fixtures for the metrics tests."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    # The refresh de-duplication keys live in the cache; each test starts with none.
    cache.clear()
