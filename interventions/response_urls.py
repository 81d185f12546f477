"""URLs of the shooting-response pages, included under /response/ by interventions/urls.py."""

from django.urls import path

from interventions.views import response

urlpatterns = [
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
