"""The lines the package layout draws, kept by reading the source (`ast`), not by convention.

- `interventions` and `metrics` never import `gvr_site` (the project wires the apps, not the
  other way round);
- the small shared modules (errors, dates, claims) import nothing else of the app, so they can
  never be part of a cycle;
- models import no services, selectors, forms or views;
- selectors never import services (reads do not write);
- services never import views or forms;
- views never read a case table's manager (`Participant.objects` …) directly: who may reach a
  record is answered by `interventions.access`, and the pages read through it. The few
  exceptions are listed below with the reason each one is safe.

Lazy imports inside functions count: they are imports all the same."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("interventions", "metrics")
LAYERS = ("services", "selectors", "forms", "views")

# Every model that holds case or response data: a view reaching one of these through its
# manager bypasses the door.
CASE_MODELS = {
    "CallIn",
    "Consent",
    "ConsentOverride",
    "CustomNotification",
    "Enrollment",
    "EnrollmentStatusChange",
    "GroupConflict",
    "GroupTie",
    "Incident",
    "IncidentGroup",
    "IncidentParticipant",
    "Participant",
    "Referral",
    "ResponseTask",
    "ReviewDecision",
    "Session",
    "SessionParticipant",
    "ShootingReview",
    "StreetGroup",
}

# (view module, model): why reading the manager there is safe.
VIEW_MANAGER_ALLOWED = {
    ("interventions/views/manager.py", "Enrollment"): (
        "the caseload export narrows the enrolments prefetched onto participants that already "
        "came through access (the filter's queryset); it selects no participant of its own"
    ),
    ("interventions/views/sharing.py", "Consent"): (
        "the consents of a participant the user's organisation owns (fetched through access), "
        "and the revoke page filters by access.participants_visible_to and organizations_of"
    ),
}


def _modules(*roots: str) -> Iterator[Path]:
    for root in roots:
        path = ROOT / root
        if path.is_file():
            yield path
            continue
        for file in sorted(path.rglob("*.py")):
            if "migrations" not in file.parts:
                yield file


def _imports(path: Path) -> set[str]:
    """Every module the file imports, at the top or inside a function: for
    `from package import name` both `package` and `package.name`."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    return found


def _offences(paths: Iterator[Path], forbidden: tuple[str, ...]) -> list[str]:
    offences = []
    for path in paths:
        for module in sorted(_imports(path)):
            if any(module == f or module.startswith(f + ".") for f in forbidden):
                offences.append(f"{path.relative_to(ROOT)} imports {module}")
    return offences


def test_the_apps_never_import_the_project_package() -> None:
    assert _offences(_modules(*APPS), ("gvr_site",)) == []


@pytest.mark.parametrize(
    "module",
    [
        "interventions/errors.py",
        "interventions/dates.py",
        "interventions/claims.py",
        "interventions/date_bounds.py",
        "interventions/audit/tables.py",
    ],
)
def test_the_shared_modules_import_nothing_of_the_app(module: str) -> None:
    assert _offences(_modules(module), ("interventions", "metrics", "gvr_site")) == []


def test_models_import_no_services_selectors_forms_or_views() -> None:
    forbidden = (
        *(
            f"{app}.{layer}"
            for app in APPS
            for layer in ("services", "selectors", "forms", "views")
        ),
        "interventions.access",
        "interventions.audit.services",
        "interventions.audit.views",
    )
    models = _modules("interventions/models", "metrics/models.py", "interventions/audit/models.py")
    assert _offences(models, forbidden) == []


def test_selectors_never_import_services() -> None:
    forbidden = ("interventions.services", "metrics.services", "interventions.audit.services")
    selectors = _modules("interventions/selectors", "metrics/selectors.py", "metrics/dashboard.py")
    assert _offences(selectors, forbidden) == []


def test_services_never_import_views_or_forms() -> None:
    forbidden = (
        *(f"{app}.{layer}" for app in APPS for layer in ("views", "forms")),
        "interventions.audit.views",
        "interventions.audit.forms",
    )
    services = _modules(
        "interventions/services", "metrics/services.py", "interventions/audit/services.py"
    )
    assert _offences(services, forbidden) == []


def _view_modules() -> Iterator[Path]:
    yield from _modules(
        "interventions/views",
        "interventions/accounts/views.py",
        "interventions/audit/views.py",
        "metrics/views.py",
    )


def test_views_never_read_a_case_table_directly() -> None:
    offences = []
    used_exceptions = set()
    for path in _view_modules():
        name = str(path.relative_to(ROOT))
        for node in ast.walk(ast.parse(path.read_text(), filename=name)):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("objects", "_default_manager", "_base_manager")
                and isinstance(node.value, ast.Name)
                and node.value.id in CASE_MODELS
            ):
                key = (name, node.value.id)
                if key in VIEW_MANAGER_ALLOWED:
                    used_exceptions.add(key)
                else:
                    offences.append(f"{name}:{node.lineno} reads {node.value.id}.{node.attr}")
    assert offences == [], "fetch through interventions.access instead"
    # An exception nobody needs any more is removed, so the list stays the true one.
    assert used_exceptions == set(VIEW_MANAGER_ALLOWED)
