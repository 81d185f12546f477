"""Views, one module per audience: worker.py (outreach workers), manager.py (nonprofit managers).
This module holds the views everyone shares."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import redirect, render
from django.template import loader
from django.urls import NoReverseMatch, reverse
from django.views.decorators.cache import never_cache

from interventions import selectors
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
    roles = selectors.user_roles(request.user)
    if selectors.MANAGER in roles and (dashboard := _first_url("manager_dashboard")):
        return redirect(dashboard)
    if roles & {selectors.OUTREACH_WORKER, selectors.MANAGER}:
        return worker_home(request)
    metrics_url = _first_url("metrics:dashboard", "metrics:index", "metrics_dashboard")
    return render(request, "interventions/home.html", {"metrics_url": metrics_url})


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))
