"""Shared helpers of the [import] tests: the real CLI, the real SARIF files, the Multitool."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import ROOT, require

DATA = Path(__file__).resolve().parent.parent / "data" / "importers"
SARIF = DATA / "sarif"
MULTITOOL_DEFAULT = ROOT / ".tools/sarif-multitool/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool"


def load(path: Path) -> dict[str, Any]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def multitool() -> str:
    """The SARIF Multitool binary (npm @microsoft/sarif-multitool); skip locally, fail in CI."""
    path = Path(os.environ.get("SECSCAN_SARIF_MULTITOOL") or MULTITOOL_DEFAULT)
    require(path.is_file() and os.access(path, os.X_OK), f"SARIF Multitool at {path} (see .ci/run)")
    return str(path)


def multitool_problems(files: list[Path], workdir: Path) -> list[str]:
    """Every error and warning the Multitool reports on ``files`` (notes are advice, not faults).

    ``validate --level "Error;Warning;Note"`` as the issue asks; the report is itself SARIF,
    one result per problem, with ``level`` absent meaning SARIF's default, ``warning``.
    """
    out = workdir / "multitool-report.sarif"
    out.unlink(missing_ok=True)
    env = {**os.environ, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1", "DOTNET_CLI_TELEMETRY_OPTOUT": "1"}
    proc = subprocess.run(
        [multitool(), "validate", "--level", "Error;Warning;Note", "--output", str(out), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert out.is_file(), f"the Multitool wrote no report (exit {proc.returncode}): {proc.stdout[-2000:]}"
    report = load(out)
    problems = []
    for run in report["runs"]:
        for r in run.get("results", []):
            if r.get("level", "warning") in ("error", "warning"):
                where = r.get("locations", [{}])[0].get("physicalLocation", {}).get("artifactLocation", {}).get("uri")
                problems.append(f"{r['ruleId']} {r.get('level', 'warning')} {r['message'].get('arguments')} in {where}")
    # It also reports files it could not read or parse as tool notifications.
    for run in report["runs"]:
        for inv in run.get("invocations", []):
            for note in inv.get("toolExecutionNotifications", []):
                if note.get("level", "warning") in ("error", "warning"):
                    problems.append(f"notification: {note.get('message', {}).get('text')}")
    return problems
