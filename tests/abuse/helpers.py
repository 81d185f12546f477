"""Valid form posts for the main write views, so the abuse tests can spoil one field at a time."""

from __future__ import annotations

import uuid
from typing import Any

from django.utils import timezone

from interventions.models import Enrollment, Participant, Referral, Session

# Script, an attribute break-out, SQL and template syntax in one value (99 characters, so it
# fits a 100-character name field).
XSS = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
SQL = "'; DROP TABLE interventions_participant; --"
PAYLOAD = XSS + ATTRIBUTE + SQL
TEMPLATE_SYNTAX = "{{ 7|add:7 }}{% now 'Y' %}"
assert len(PAYLOAD) <= 100
# What must never appear unescaped in a page.
RAW_MARKERS = (XSS, "<img src=x onerror")
ESCAPED_XSS = "&lt;script&gt;alert(1)&lt;/script&gt;"


def today() -> str:
    return timezone.localdate().isoformat()


def now_local() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def register_data(program_id: int, **fields: Any) -> dict[str, Any]:
    data = {
        "first_name": "Marcus",
        "last_name": "Reyes",
        "aliases": "",
        "date_of_birth": "",
        "phone": "",
        "area": "",
        "referral_source": Participant.ReferralSource.COMMUNITY,
        "risk_tier": Participant.RiskTier.HIGH,
        "identified_on": today(),
        "program": program_id,
        "status": Enrollment.Status.REFERRED,
        "assign_to_me": "on",
        "form_token": str(uuid.uuid4()),
        "confirm_duplicate": "1",
    }
    data.update(fields)
    return data


def session_data(participant_id: int, **fields: Any) -> dict[str, Any]:
    data = {
        "participants": [participant_id],
        "kind": Session.Kind.STREET_OUTREACH,
        "occurred_at": now_local(),
        "duration_minutes": "30",
        "location": Session.Location.STREET,
        "notes": "",
        "follow_up_on": "",
        "client_key": str(uuid.uuid4()),
    }
    data.update(fields)
    return data


def referral_data(**fields: Any) -> dict[str, Any]:
    data = {
        "service_category": Referral.ServiceCategory.EMPLOYMENT,
        "to_organization": "",
        "outside_provider": "County job centre",
        "made_on": today(),
        "notes": "",
        "form_token": str(uuid.uuid4()),
    }
    data.update(fields)
    return data


def incident_data(organization_id: int, **fields: Any) -> dict[str, Any]:
    data = {
        "kind": "nonfatal_shooting",
        "occurred_at": now_local(),
        "organization": organization_id,
        "area": "",
        "location_description": "",
        "victim_count": "1",
        "form_token": str(uuid.uuid4()),
    }
    data.update(fields)
    return data
