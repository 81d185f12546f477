from django.urls import path

from interventions.accounts import views

urlpatterns = [
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("language/", views.set_language, name="set_language"),
]
