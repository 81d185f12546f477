"""The data model of the app, one module per subject; every model is re-exported here, so
`from interventions.models import Participant` works wherever the model lives. Moving a model
between these modules changes no table, label or migration."""

from interventions.models.case import (
    CLOCK_SKEW_ALLOWANCE,
    Area,
    Enrollment,
    EnrollmentStatusChange,
    Membership,
    Participant,
    PartnerOrganization,
    Program,
    Referral,
    Session,
    SessionParticipant,
    TimeStamped,
)
from interventions.models.caseload import CaseloadCount, CaseloadFillState
from interventions.models.response import (
    RESPONSE_WINDOW,
    CallIn,
    CustomNotification,
    GroupConflict,
    GroupTie,
    Incident,
    IncidentGroup,
    IncidentParticipant,
    ResponseTask,
    ReviewDecision,
    ShootingReview,
    StreetGroup,
)
from interventions.models.sharing import CONSENT_OVERRIDE_DURATION, Consent, ConsentOverride

__all__ = [
    "CLOCK_SKEW_ALLOWANCE",
    "CONSENT_OVERRIDE_DURATION",
    "RESPONSE_WINDOW",
    "Area",
    "CallIn",
    "CaseloadCount",
    "CaseloadFillState",
    "Consent",
    "ConsentOverride",
    "CustomNotification",
    "Enrollment",
    "EnrollmentStatusChange",
    "GroupConflict",
    "GroupTie",
    "Incident",
    "IncidentGroup",
    "IncidentParticipant",
    "Membership",
    "Participant",
    "PartnerOrganization",
    "Program",
    "Referral",
    "ResponseTask",
    "ReviewDecision",
    "Session",
    "SessionParticipant",
    "ShootingReview",
    "StreetGroup",
    "TimeStamped",
]
