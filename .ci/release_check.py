"""The release job's consistency check: every place that names the version agrees with the tag.

Run from the checkout of the tag: ``python .ci/release_check.py vX.Y.Z [DIST]``. Prints the
version (for the next jobs) and exits 1 naming what disagrees. tests/release runs it too.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def problems(tag: str, dist: Path | None) -> tuple[str, list[str]]:
    init = (ROOT / "secscan" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', init, re.M)
    version = found.group(1) if found else "?"
    out: list[str] = []
    if tag != f"v{version}":
        out.append(f"tag {tag} is not v{version} (secscan/__init__.py)")
    if not re.search(rf"^## \[{re.escape(version)}\] - \d{{4}}-\d\d-\d\d$", _read("CHANGELOG.md"), re.M):
        out.append(f"CHANGELOG.md has no section [{version}] with a date")
    if f'SECSCAN_VERSION: "{version}"' not in _read("templates/gitlab/secscan.gitlab-ci.yml"):
        out.append(f"templates/gitlab/secscan.gitlab-ci.yml does not pin SECSCAN_VERSION {version}")
    for path in ("templates/gitlab/secscan.gitlab-ci.yml", "templates/secscan/template.yml"):
        if f"/secscan:{version}" not in _read(path):
            out.append(f"{path}: the default image is not secscan:{version}")
    component = _read("templates/secscan/template.yml")
    if not re.search(rf'version:\n\s+type: string\n\s+default: "{re.escape(version)}"', component):
        out.append(f"templates/secscan/template.yml: the version input's default is not {version}")
    if dist is not None:
        for name in (f"secscan-{version}-py3-none-any.whl", f"secscan-{version}.tar.gz"):
            if not (dist / name).is_file():
                out.append(f"{dist}/{name} was not built")
    return version, out


def _read(rel: str) -> str:
    return (ROOT / rel).read_text(encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print("usage: release_check.py vX.Y.Z [DIST]", file=sys.stderr)
        return 2
    version, out = problems(argv[1], Path(argv[2]) if len(argv) == 3 else None)
    for line in out:
        print(f"release check: {line}", file=sys.stderr)
    if out:
        return 1
    print(version)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
