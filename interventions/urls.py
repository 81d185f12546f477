from django.contrib.auth import views as auth_views
from django.urls import include, path

from interventions import views
from interventions.views import manager, response, sharing, worker

urlpatterns = [
    path("", views.home, name="home"),
    path("caseload/", worker.caseload, name="caseload"),
    path("sessions/new/", worker.session_log, name="session_log"),
    path("sessions/participants/", worker.participant_search, name="participant_search"),
    path("participants/new/", worker.participant_register, name="participant_register"),
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
