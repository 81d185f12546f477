"""Who is acting: the client's address and the audit actor of each request."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from interventions.audit.context import Actor, acting_as


def client_ip(request: HttpRequest | None, *args: Any, **kwargs: Any) -> str | None:
    """The client's address. Behind `GVR_PROXY_COUNT` trusted proxies, the address the outermost
    of them saw (X-Forwarded-For entries further left are written by the client and can lie)."""
    if request is None:
        return None
    address = request.META.get("REMOTE_ADDR", "")
    proxies = getattr(settings, "GVR_PROXY_COUNT", 0)
    if proxies > 0:
        forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [hop for hop in forwarded if hop]
        if len(forwarded) >= proxies:
            address = forwarded[-proxies]
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


class AuditContextMiddleware:
    """Attributes the case-data writes of this request to its user (interventions/audit)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with acting_as(lambda: actor_of(request)):
            return self.get_response(request)


def actor_of(request: HttpRequest) -> Actor:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        user = None
    return Actor(
        user_id=user.pk if user is not None else None,
        username=user.get_username() if user is not None else "",
        ip_address=client_ip(request),
        path=request.path,
    )
