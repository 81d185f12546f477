"""Refuse, at the edge, input no page can mean: a NUL byte in any GET or POST parameter.

PostgreSQL text cannot hold NUL, so such a value reaching a query or a write is a 500 (issue
13); no person types one. One check here instead of one in every form and filter."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict


def _has_nul(parameters: QueryDict) -> bool:
    return any(
        "\x00" in key or any("\x00" in value for value in values)
        for key, values in parameters.lists()
    )


class RejectNulBytesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # request.POST holds the form fields only (uploaded files are in request.FILES, where
        # binary content is the importer's to refuse with a message).
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return HttpResponseBadRequest(
                "A parameter holds a NUL byte.", content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
