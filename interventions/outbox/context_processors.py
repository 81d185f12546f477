from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest

from interventions.access import CITY_ADMIN, MANAGER, user_roles
from interventions.outbox.services import Backlog, backlog, is_delayed


def background_work(request: HttpRequest) -> dict[str, Callable[[], Backlog | None]]:
    """For managers and city admins: the outbox backlog when it is late enough to say so.
    A callable, so only a page that shows the banner (the base layout, not htmx partials) pays
    for the query, and only for those roles."""
    user = getattr(request, "user", None)

    def delayed_work() -> Backlog | None:
        if user is None or not user.is_authenticated:
            return None
        if not user_roles(user) & {MANAGER, CITY_ADMIN}:
            return None
        try:
            figures = backlog()
        except DatabaseError:
            # The banner is news about background work; it must not break the page.
            return None
        return figures if is_delayed(figures) else None

    return {"background_delay": delayed_work}
