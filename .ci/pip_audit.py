#!/usr/bin/env python3
"""pip-audit on the pinned requirements (exact versions, no resolution: --no-deps).

Fails on any known vulnerability. When the advisory service cannot be reached (no network, or
a package index that is not PyPI), it says so and passes: an audit that could not run is
reported, not mistaken for a clean one.
"""

from __future__ import annotations

import contextlib
import json
import subprocess  # nosec B404 - runs pip-audit from this virtualenv with fixed arguments
import sys
import tempfile
from pathlib import Path
from typing import Any

REQUIREMENTS = ("requirements.txt", "requirements-dev.txt")


def verdict(report: dict[str, Any] | None) -> tuple[int, str]:
    """The exit status and the line to print for a pip-audit JSON report (None: no report)."""
    if report is None:
        return 0, "pip-audit: the advisory service could not be reached; dependencies NOT audited."
    dependencies = report.get("dependencies", [])
    vulnerable = [dep for dep in dependencies if dep.get("vulns")]
    if vulnerable:
        lines = [
            f"  {dep['name']} {dep['version']}: "
            + ", ".join(
                f"{vuln['id']} (fixed in {', '.join(vuln.get('fix_versions') or ['no release'])})"
                for vuln in dep["vulns"]
            )
            for dep in vulnerable
        ]
        return 1, "pip-audit: known vulnerabilities in pinned packages:\n" + "\n".join(lines)
    audited = [dep for dep in dependencies if not dep.get("skip_reason")]
    if not audited:
        return 0, (
            "pip-audit: the advisory service knows none of the packages (no network, or not "
            "PyPI); dependencies NOT audited."
        )
    skipped = len(dependencies) - len(audited)
    note = f" ({skipped} could not be looked up)" if skipped else ""
    return 0, f"pip-audit: {len(audited)} pinned packages, no known vulnerabilities{note}."


def main() -> int:
    root = Path(__file__).resolve().parent.parent
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "audit.json"
        command = [str(Path(sys.executable).with_name("pip-audit")), "--no-deps", "--disable-pip"]
        for name in REQUIREMENTS:
            command += ["-r", str(root / name)]
        command += ["--progress-spinner", "off", "--format", "json", "--output", str(output)]
        with contextlib.suppress(subprocess.TimeoutExpired):
            subprocess.run(command, timeout=300, check=False, capture_output=True)  # noqa: S603  # nosec B603
        report = json.loads(output.read_text()) if output.exists() else None
    status, message = verdict(report)
    print(message)
    return status


if __name__ == "__main__":
    sys.exit(main())
