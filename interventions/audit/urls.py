from django.urls import path

from interventions.audit import views

urlpatterns = [
    path(
        "participants/<int:participant_id>/",
        views.audit_participant,
        name="audit_participant",
    ),
]
