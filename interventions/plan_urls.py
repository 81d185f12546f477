"""Life plans and the incentive ledger (issue 11)."""

from django.urls import path

from interventions.views import plans

urlpatterns = [
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
