"""URLs of a participant's outcomes, demographics and assessments, and of the funder report."""

from django.urls import path

from interventions.views import outcomes

urlpatterns = [
    path(
        "participants/<int:participant_id>/outcomes/",
        outcomes.participant_outcomes,
        name="participant_outcomes",
    ),
    path(
        "participants/<int:participant_id>/outcomes/new/",
        outcomes.outcome_event_create,
        name="outcome_event_create",
    ),
    path(
        "participants/<int:participant_id>/outcomes/from-incident/<int:incident_id>/",
        outcomes.victimization_from_incident,
        name="victimization_from_incident",
    ),
    path(
        "participants/<int:participant_id>/demographics/",
        outcomes.demographics_edit,
        name="demographics_edit",
    ),
    path(
        "participants/<int:participant_id>/risk-tier/",
        outcomes.risk_tier_set,
        name="risk_tier_set",
    ),
    path(
        "participants/<int:participant_id>/assessments/new/",
        outcomes.assessment_create,
        name="assessment_create",
    ),
    path("assessments/due/", outcomes.assessments_due, name="assessments_due"),
    path("manage/report/", outcomes.funder_report, name="funder_report"),
    path("manage/report/report.csv", outcomes.funder_report_csv, name="funder_report_csv"),
    path("manage/report/report.xlsx", outcomes.funder_report_xlsx, name="funder_report_xlsx"),
]
