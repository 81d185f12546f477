from django.urls import path

from metrics import views

app_name = "metrics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard.csv", views.dashboard_csv, name="dashboard_csv"),
    path("evaluate/", views.evaluate, name="evaluate"),
    path("evaluate.csv", views.evaluate_csv, name="evaluate_csv"),
    path("evaluate.json", views.evaluate_json, name="evaluate_json"),
    path("extract/", views.evaluator_extract, name="extract"),
    path("claims/", views.claims, name="claims"),
]
