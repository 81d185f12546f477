"""The decorators that decide who may open a page, and the only ones: every view module takes
them from here. Each logs the user in first (`login_required`), keeps the page out of every
browser and proxy cache (`never_cache`: pages hold case data), and asks `access` the question.
What a page then shows is scoped again by the `*_visible_to` functions it reads through.

- `member_required`: an active member of an organisation (outreach worker or manager); with
  `city_admin=True` (the shooting-response pages) city admins too. Analysts, who see aggregates
  only, never. Anyone else: 403.
- `manager_required`: a manager. An organisation's own pages (the default) receive the
  organisation being looked at as their second argument: `?org=<slug>` picks one of the
  user's, the first by name otherwise, and another organisation's slug is a 404. City-wide
  pages (`city_wide=True`, the shooting response) admit city admins too and receive nothing.
- `street_intelligence_required`: the `view_street_intelligence` permission, else 404 (the page
  does not admit it exists)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache

from interventions import access
from interventions.models import PartnerOrganization

View = Callable[..., HttpResponse]


def _guarded(view: View, check: Callable[[HttpRequest], None]) -> View:
    @login_required
    @never_cache
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        check(request)
        return view(request, *args, **kwargs)

    return wrapped


def member_required(view: View | None = None, *, city_admin: bool = False) -> Any:
    """Logged in as an active member of a partner organisation (worker or manager), or with
    `city_admin=True` also as a city admin; 403 for anyone else."""
    admitted = {access.OUTREACH_WORKER, access.MANAGER} | (
        {access.CITY_ADMIN} if city_admin else set()
    )

    def check(request: HttpRequest) -> None:
        if not access.user_roles(request.user) & admitted:
            raise PermissionDenied(
                gettext("Only members of a partner organisation can use this page.")
            )

    def decorate(view: View) -> View:
        return _guarded(view, check)

    return decorate(view) if view is not None else decorate


def _organization_for(request: HttpRequest) -> tuple[PartnerOrganization, list]:
    organizations = list(access.managed_organizations(request.user))
    if not organizations:
        raise PermissionDenied(gettext("Only an organisation's managers can open this page."))
    slug = request.GET.get("org") or request.POST.get("org")
    if not slug:
        return organizations[0], organizations
    for organization in organizations:
        if organization.slug == slug:
            return organization, organizations
    raise Http404("No organisation of yours has that name.")


def manager_required(view: View | None = None, *, city_wide: bool = False) -> Any:
    """A manager; 403 for anyone who manages no organisation. See the module docstring for what
    `city_wide` changes."""

    def decorate(view: View) -> View:
        if city_wide:

            def check(request: HttpRequest) -> None:
                if not access.can_manage_response(request.user):
                    raise PermissionDenied(
                        gettext("Only managers and city administrators can use this page.")
                    )

            return _guarded(view, check)

        @wraps(view)
        def with_organization(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            organization, organizations = _organization_for(request)
            request.managed_organizations = organizations  # type: ignore[attr-defined]
            return view(request, organization, *args, **kwargs)

        return login_required(never_cache(with_organization))

    return decorate(view) if view is not None else decorate


def street_intelligence_required(view: View) -> View:
    """The `view_street_intelligence` permission; 404 for anyone else."""

    def check(request: HttpRequest) -> None:
        if not access.can_see_street_intelligence(request.user):
            raise Http404

    return _guarded(view, check)
