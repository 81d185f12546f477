"""Template tags of the shooting response. `{% my_open_response_tasks %}` renders the user's
open response tasks (two queries, whatever page includes it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import template
from django.utils import timezone

from interventions.selectors.response import open_tasks_for

register = template.Library()

SHOWN_ON_HOME = 10


@register.inclusion_tag("response/_my_open_tasks_list.html", takes_context=True)
def my_open_response_tasks(context: template.Context, limit: int = SHOWN_ON_HOME) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"tasks": [], "more": 0}
    tasks = list(open_tasks_for(user)[: limit + 1])
    return {
        "tasks": tasks[:limit],
        "more": len(tasks) > limit,
        "now": timezone.now(),
    }


@register.filter
def duration_hours(value: timedelta | None) -> str:
    """A duration as hours and minutes, e.g. '5 h 20 min'; '—' for none."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h"
    return f"{hours} h {minutes} min"
