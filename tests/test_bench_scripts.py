"""Every script in bench/ still imports what it names from the project.

The benchmarks run by hand, not in the suite, so a module moved or a function renamed breaks
one silently until the next person runs it. This reads each script (ast, without running it:
a benchmark connects to its own database when imported) and checks that every module of the
project it imports exists and has each name it takes from it. A name taken from another bench
module is looked up in that module's source, as importing it would start a benchmark."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PROJECT_PACKAGES = {"interventions", "metrics", "gvr_site", "bench", "tests"}
SCRIPTS = sorted(BENCH.glob("*.py"))


def _is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT_PACKAGES


def _defined_names(path: Path) -> set[str]:
    """The names a module binds at its top level: functions, classes, assignments, imports."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(), filename=str(path)).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names.update(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _missing(module: str, names: list[str]) -> list[str]:
    """What of `from module import names` does not resolve, as readable lines."""
    if module.split(".")[0] == "bench":
        path = ROOT.joinpath(*module.split(".")).with_suffix(".py")
        if not path.exists():
            return [f"no module {module}"]
        defined = _defined_names(path)
        return [f"{module} has no {name}" for name in names if name not in defined]
    try:
        imported = importlib.import_module(module)
    except ImportError as error:
        return [f"no module {module} ({error})"]
    problems = []
    for name in names:
        if hasattr(imported, name):
            continue
        try:  # `from package import submodule`
            importlib.import_module(f"{module}.{name}")
        except ImportError:
            problems.append(f"{module} has no {name}")
    return problems


def unresolved_imports(path: Path) -> list[str]:
    problems: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if _is_project(node.module):
                names = [alias.name for alias in node.names if alias.name != "*"]
                problems += _missing(node.module, names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if _is_project(alias.name) and alias.name.split(".")[0] != "bench":
                    try:
                        importlib.import_module(alias.name)
                    except ImportError as error:
                        problems.append(f"no module {alias.name} ({error})")
    return problems


def test_there_are_bench_scripts_to_check() -> None:
    assert {"report.py", "plans.py", "pages.py"} <= {path.name for path in SCRIPTS}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda path: path.name)
def test_every_project_import_of_a_bench_script_resolves(script: Path) -> None:
    assert unresolved_imports(script) == []


def test_a_moved_name_is_found(tmp_path: Path) -> None:
    broken = tmp_path / "broken.py"
    broken.write_text(
        "from interventions.services.case import log_session, no_such_service\n"
        "from interventions.no_such_module import anything\n"
        "from bench.pages import measure, no_such_helper\n"
        "def later():\n"
        "    from metrics.services import refresh_rollups, gone\n"
    )
    assert unresolved_imports(broken) == [
        "interventions.services.case has no no_such_service",
        "no module interventions.no_such_module (No module named 'interventions.no_such_module')",
        "bench.pages has no no_such_helper",
        "metrics.services has no gone",
    ]
