"""Views, one module per audience: worker.py (outreach workers), manager.py (nonprofit managers).
This module holds the views everyone shares."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.shortcuts import render
from django.template import loader


@login_required
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "interventions/home.html")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return HttpResponseNotFound(loader.render_to_string("404.html", request=request))
