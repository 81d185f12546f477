from django.contrib.auth import views as auth_views
from django.urls import include, path

from interventions import views
from interventions.views import access, manager, worker

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
        access.consent_create,
        name="consent_create",
    ),
    path("consents/<int:consent_id>/revoke/", access.consent_revoke, name="consent_revoke"),
    path("participants/override/", access.consent_override, name="consent_override"),
    path("referrals/", worker.referral_list, name="referral_list"),
    path(
        "referrals/<int:referral_id>/advance/",
        worker.referral_advance,
        name="referral_advance",
    ),
    path("manage/", manager.dashboard, name="manager_dashboard"),
    path("manage/participants/", manager.participants, name="org_participants"),
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

# The shooting response: incidents, response tasks, the weekly review, the funnel.
urlpatterns += [path("response/", include("interventions.response_urls"))]

# Life plans and the incentive ledger.
urlpatterns += [path("", include("interventions.plan_urls"))]
