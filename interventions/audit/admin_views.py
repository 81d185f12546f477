"""View events for the Django admin's pages that show a participant's record."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse

from interventions.audit.recording import record


class RecordsRecordViews:
    """For a model admin whose change page shows a participant's record (SECURITY.md: any page
    that shows it, the admin's included): one view event per change page shown. A missing object
    redirects without showing anything and records nothing; a save is recorded by the triggers."""

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        response = super().change_view(  # type: ignore[misc]
            request, object_id, form_url, extra_context
        )
        shown = getattr(response, "context_data", None) or {}
        if response.status_code == 200 and shown.get("original") is not None:
            record(request, "view", shown["original"])
        return response
