from django.contrib.auth import views as auth_views
from django.urls import include, path

from interventions import views
from interventions.views import (
    manager,
    outcomes,
    plans,
    reminders,
    response,
    sharing,
    staff,
    worker,
)

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", worker.caseload, name="caseload"),
    path("sessions/new/", worker.session_log, name="session_log"),
    path("sessions/participants/", worker.participant_search, name="participant_search"),
    path("participants/new/", worker.participant_register, name="participant_register"),
    path("participants/new/matches/", worker.participant_matches, name="participant_matches"),
    path("reminders/", reminders.reminder_settings, name="reminder_settings"),
    path("staff/invite/", staff.invite_staff, name="invite_staff"),
    path(
        "staff/invitation/<str:uidb64>/<str:token>/",
        staff.staff_invitation_accept,
        name="staff_invitation_accept",
    ),
    path(
        "participants/<int:participant_id>/",
        worker.participant_detail,
        name="participant_detail",
    ),
    path(
        "participants/<int:participant_id>/edit/",
        worker.participant_edit,
        name="participant_edit",
    ),
    path(
        "participants/<int:participant_id>/referrals/new/",
        worker.referral_create,
        name="referral_create",
    ),
    path(
        "enrollments/<int:enrollment_id>/status/",
        worker.enrollment_status,
        name="enrollment_status",
    ),
    path("enrollments/<int:enrollment_id>/exit/", worker.enrollment_exit, name="enrollment_exit"),
    path(
        "participants/<int:participant_id>/consents/new/",
        sharing.consent_create,
        name="consent_create",
    ),
    path("consents/<int:consent_id>/revoke/", sharing.consent_revoke, name="consent_revoke"),
    path("participants/override/", sharing.consent_override, name="consent_override"),
    path("referrals/", worker.referral_list, name="referral_list"),
    path(
        "referrals/<int:referral_id>/advance/",
        worker.referral_advance,
        name="referral_advance",
    ),
    path("manage/", manager.dashboard, name="manager_dashboard"),
    path("manage/participants/", manager.participants, name="org_participants"),
    path("manage/workers/", manager.workers, name="org_workers"),
    path("manage/participants/assign/", manager.assign_workers, name="assign_workers"),
    path("manage/participants/export.csv", manager.export_caseload, name="export_caseload"),
    path("manage/sessions/", manager.sessions, name="org_sessions"),
    path("manage/sessions/export.csv", manager.export_sessions, name="export_sessions"),
    path("manage/referrals/", manager.referrals, name="org_referrals"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(),
        name="password_change",
    ),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
]

# The shooting response under /response/: incidents, response tasks, the weekly review, the funnel.
response_patterns = [
    path("incidents/", response.incident_list, name="incident_list"),
    path("incidents/new/", response.incident_new, name="incident_new"),
    path("incidents/<int:incident_id>/", response.incident_detail, name="incident_detail"),
    path("tasks/", response.response_tasks, name="response_tasks"),
    path(
        "tasks/<int:responsetask_id>/complete/",
        response.response_task_complete,
        name="response_task_complete",
    ),
    path(
        "tasks/<int:responsetask_id>/cancel/",
        response.response_task_cancel,
        name="response_task_cancel",
    ),
    path("overdue/", response.response_overdue, name="response_overdue"),
    path("reach/", response.response_reach, name="response_reach"),
    path("review/", response.shooting_review, name="shooting_review"),
    path("funnel/", response.notification_funnel, name="notification_funnel"),
    path("call-ins/new/", response.callin_new, name="callin_new"),
    path(
        "notifications/new/",
        response.custom_notification_new,
        name="custom_notification_new",
    ),
    path("groups/", response.streetgroup_list, name="streetgroup_list"),
    path("groups/<int:streetgroup_id>/", response.streetgroup_detail, name="streetgroup_detail"),
]
urlpatterns += [path("response/", include(response_patterns))]

# A participant's outcomes, demographics and assessments; the quarterly funder report.
urlpatterns += [
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

# Life plans and the incentive ledger.
urlpatterns += [
    path("enrollments/<int:enrollment_id>/plan/new/", plans.plan_start, name="plan_start"),
    path("plans/<int:plan_id>/", plans.plan_detail, name="plan_detail"),
    path("plans/<int:plan_id>/approve/", plans.plan_approve, name="plan_approve"),
    path("plans/<int:plan_id>/review/", plans.plan_review, name="plan_review"),
    path("plans/<int:plan_id>/new-version/", plans.plan_new_version, name="plan_new_version"),
    path("plans/<int:plan_id>/goals/new/", plans.goal_add, name="goal_add"),
    path("goals/<int:goal_id>/edit/", plans.goal_edit, name="goal_edit"),
    path("goals/<int:goal_id>/milestones/new/", plans.milestone_add, name="milestone_add"),
    path("milestones/<int:milestone_id>/met/", plans.milestone_met, name="milestone_met"),
    path("sessions/milestones/", plans.session_milestones, name="session_milestones"),
    path("plans/<int:plan_id>/incentives/new/", plans.incentive_request, name="incentive_request"),
    path("ledger/", plans.ledger, name="ledger"),
    path("ledger/export.csv", plans.ledger_export, name="ledger_export"),
    path(
        "ledger/participants/<int:participant_id>/",
        plans.ledger_participant,
        name="ledger_participant",
    ),
    path("ledger/<int:entry_id>/approve/", plans.incentive_approve, name="incentive_approve"),
    path("ledger/<int:entry_id>/decline/", plans.incentive_decline, name="incentive_decline"),
    path("ledger/<int:entry_id>/pay/", plans.incentive_pay, name="incentive_pay"),
    path("ledger/<int:entry_id>/reverse/", plans.incentive_reverse, name="incentive_reverse"),
]
