"""Static analysis: bandit finds no medium or high issue in the project code (each deliberate
exception is marked inline with `# nosec BXXX` and a reason), and the pip-audit step of CI fails
on a known vulnerability and says so when the advisory service cannot be reached."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The application packages; bench/ holds benchmark scripts that never run in production.
PROJECT_CODE = ("gvr_site", "interventions", "metrics", "manage.py")


def run_bandit(*targets: str) -> dict:  # type: ignore[type-arg]
    bandit = Path(sys.executable).with_name("bandit")
    if not bandit.exists():
        pytest.skip("bandit is not installed (requirements-dev.txt)")
    result = subprocess.run(  # noqa: S603 - our own virtualenv's bandit, fixed arguments
        [str(bandit), "-q", "-r", *targets, "--severity-level", "medium", "-f", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return json.loads(result.stdout)


def test_bandit_finds_no_medium_or_high_issue_in_the_project_code():
    report = run_bandit(*PROJECT_CODE)
    findings = [
        f"{item['filename']}:{item['line_number']} {item['test_id']} {item['issue_text']}"
        for item in report["results"]
    ]
    assert findings == []
    assert report["metrics"]["_totals"]["loc"] > 5000  # it did read the code


def test_bandit_would_catch_a_new_issue(tmp_path):
    # The control: the same run flags an unmarked string-built query.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "def find(cursor, name):\n"
        "    cursor.execute(f\"SELECT * FROM interventions_participant WHERE code = '{name}'\")\n"
    )
    report = run_bandit(str(sample))
    assert [item["test_id"] for item in report["results"]] == ["B608"]


def _pip_audit_step():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("ci_pip_audit", ROOT / ".ci" / "pip_audit.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_pip_audit_step_fails_on_a_known_vulnerability():
    report = {
        "dependencies": [
            {"name": "django", "version": "5.2.19", "vulns": []},
            {
                "name": "oldlib",
                "version": "1.0",
                "vulns": [{"id": "PYSEC-0000-1", "fix_versions": ["1.1"]}],
            },
        ]
    }
    status, message = _pip_audit_step().verdict(report)
    assert status == 1
    assert "oldlib 1.0: PYSEC-0000-1 (fixed in 1.1)" in message


def test_pip_audit_step_says_when_nothing_could_be_audited():
    step = _pip_audit_step()
    status, message = step.verdict(None)
    assert status == 0
    assert "NOT audited" in message
    skipped = {"dependencies": [{"name": "django", "version": "5.2.19", "skip_reason": "x"}]}
    assert step.verdict(skipped)[0] == 0
    assert "NOT audited" in step.verdict(skipped)[1]
    clean = {"dependencies": [{"name": "django", "version": "5.2.19", "vulns": []}]}
    assert step.verdict(clean) == (0, "pip-audit: 1 pinned packages, no known vulnerabilities.")
