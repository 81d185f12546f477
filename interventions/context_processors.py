from django.http import HttpRequest

from interventions.access import user_roles


def navigation(request: HttpRequest) -> dict[str, object]:
    """What the navigation bar may show: only what the user can use."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"roles": frozenset()}
    return {"roles": user_roles(user)}
