"""Install the front-end packages into static_vendor/ (git-ignored), served by whitenoise.

    python -m gvr_site.assets

Each package is fetched from the npm registry at a pinned version, checked against its published
sha512 integrity hash, and only the files the pages use are unpacked. This runs at set-up
(`make install`), never while the app serves; it needs only Python, not Node.js.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import sys
import tarfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
VENDOR_DIR = BASE_DIR / "static_vendor"
REGISTRY = "https://registry.npmjs.org"


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity
    files: dict[str, str]  # path inside the package -> path under static_vendor/

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}/{self.name}/-/{self.name}-{self.version}.tgz"


PACKAGES = [
    Package(
        "bootstrap",
        "5.3.8",
        "sha512-HP1SZDqaLDPwsNiqRqi5NcP0SSXciX2s9E+RyqJIIqGo+vJeN5AJVM98CXmW/Wux0nQ5L7jeWUdplCEf0Ee+tg==",
        {
            "dist/css/bootstrap.min.css": "vendor/bootstrap/bootstrap.min.css",
            "dist/css/bootstrap.min.css.map": "vendor/bootstrap/bootstrap.min.css.map",
            "dist/js/bootstrap.bundle.min.js": "vendor/bootstrap/bootstrap.bundle.min.js",
            "dist/js/bootstrap.bundle.min.js.map": "vendor/bootstrap/bootstrap.bundle.min.js.map",
        },
    ),
    Package(
        "htmx.org",
        "2.0.8",
        "sha512-fm297iru0iWsNJlBrjvtN7V9zjaxd+69Oqjh4F/Vq9Wwi2kFisLcrLCiv5oBX0KLfOX/zG8AUo9ROMU5XUB44Q==",
        {"dist/htmx.min.js": "vendor/htmx/htmx.min.js"},
    ),
    Package(
        "chart.js",
        "4.5.1",
        "sha512-GIjfiT9dbmHRiYi6Nl2yFCq7kkwdkp1W/lp2J99rX0yo9tgJGn3lKQATztIjb5tVtevcBtIdICNWqlq5+E8/Pw==",
        {
            "dist/chart.umd.min.js": "vendor/chartjs/chart.umd.min.js",
            # collectstatic's manifest storage follows sourceMappingURL comments.
            "dist/chart.umd.min.js.map": "vendor/chartjs/chart.umd.min.js.map",
        },
    ),
]


class IntegrityError(Exception):
    pass


def verify_integrity(data: bytes, integrity: str) -> None:
    algorithm, _, expected = integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if actual != expected:
        raise IntegrityError(f"integrity mismatch: expected {integrity}, got {algorithm}-{actual}")


def unpack(package: Package, data: bytes, target: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        for source, destination in package.files.items():
            member = archive.getmember(f"package/{source}")
            extracted = archive.extractfile(member)
            if extracted is None:
                raise IntegrityError(f"{package.name}: {source} is not a file")
            path = target / destination
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(extracted.read())


def install(target: Path = VENDOR_DIR) -> list[str]:
    """Fetch what is missing; return the packages installed this time."""
    stamp_path = target / "installed.json"
    installed = json.loads(stamp_path.read_text()) if stamp_path.exists() else {}
    done = []
    for package in PACKAGES:
        present = all((target / dest).exists() for dest in package.files.values())
        if installed.get(package.name) == package.integrity and present:
            continue
        # A fixed https:// address of the npm registry (PACKAGES), never one from input.
        with urllib.request.urlopen(package.tarball_url, timeout=60) as response:  # noqa: S310  # nosec B310
            data = response.read()
        verify_integrity(data, package.integrity)
        unpack(package, data, target)
        installed[package.name] = package.integrity
        done.append(f"{package.name}@{package.version}")
    target.mkdir(parents=True, exist_ok=True)
    stamp_path.write_text(json.dumps(installed, indent=2, sort_keys=True))
    return done


if __name__ == "__main__":
    fetched = install()
    print("front-end assets:", ", ".join(fetched) if fetched else "up to date")
    sys.exit(0)
