"""Views, one module per audience: worker.py (outreach workers), manager.py (nonprofit managers).
This module holds the views everyone shares."""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache

from interventions import access
from interventions.views.worker import worker_home


def _first_url(*names: str) -> str | None:
    for name in names:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return None


@login_required
@never_cache
def home(request: HttpRequest) -> HttpResponse:
    """Each role starts where its work is: managers on their dashboard, workers on their
    caseload, city admins on a page pointing to the administration and the metrics."""
    roles = access.user_roles(request.user)
    if access.MANAGER in roles and (dashboard := _first_url("manager_dashboard")):
        return redirect(dashboard)
    if roles & {access.OUTREACH_WORKER, access.MANAGER}:
        return worker_home(request)
    if access.FINANCE in roles:
        return redirect("ledger")
    metrics_url = _first_url("metrics:dashboard", "metrics:index", "metrics_dashboard")
    return render(request, "interventions/home.html", {"metrics_url": metrics_url})


class LoginView(SuccessMessageMixin, auth_views.LoginView):
    success_message = _("You are logged in.")


class LogoutView(auth_views.LogoutView):
    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        # What the phone kept for offline use goes too, even where static/js/offline.js did not run.
        response["Clear-Site-Data"] = '"storage"'
        # The session is gone; the message travels in the messages cookie.
        messages.info(request, gettext("You have logged out."))
        return response


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))
