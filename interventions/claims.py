"""The one "claim once" store: a key set only if absent, with an expiry, so that of several
web processes exactly one goes ahead (a form's token).

Redis when the broker is Redis (shared by every web process), else the Django cache (shared
only within one process: development and tests). Imports nothing of the app."""

from __future__ import annotations

import functools
from typing import Any

from django.conf import settings
from django.core.cache import cache


@functools.lru_cache(maxsize=4)
def _redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)


class ClaimStore:
    """Redis when the broker is Redis (shared by every web process), else the Django cache.
    Every method may raise when Redis cannot be reached; callers decide what that means."""

    def __init__(self) -> None:
        url = settings.CELERY_BROKER_URL
        self.redis = _redis_client(url) if url.startswith(("redis://", "rediss://")) else None

    def add(self, key: str, value: str, seconds: int) -> bool:
        """Set the key unless it exists; True for the one caller that set it."""
        if self.redis is not None:
            return bool(self.redis.set(key, value, nx=True, ex=seconds))
        return cache.add(key, value, timeout=seconds)

    def get(self, key: str) -> str | None:
        if self.redis is not None:
            value = self.redis.get(key)
            return value.decode() if isinstance(value, bytes) else value
        return cache.get(key)

    def set(self, key: str, value: str, seconds: int) -> None:
        if self.redis is not None:
            self.redis.set(key, value, ex=seconds)
        else:
            cache.set(key, value, timeout=seconds)

    def delete(self, key: str) -> None:
        if self.redis is not None:
            self.redis.delete(key)
        else:
            cache.delete(key)
