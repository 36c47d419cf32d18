"""Everything secscan writes or posts, in one place: report files (atomically), the manifest,
the audit trail, and publishing to GitLab. ``scan``, ``report``, ``gate`` and ``publish`` call
these, so a report or an audit entry is written the same way whichever command produced it.

The operator's credentials are masked twice: in the result's texts before any format cuts or
wraps them (a value cut in half is no longer recognisable), and on the final bytes of each file
(``atomic_write``), after the format's escaping.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from secscan import credentials, interrupts, resultio
from secscan.errors import ExitCode, PublishError
from secscan.fsutil import atomic_write, staged_set
from secscan.models import RunResult

if TYPE_CHECKING:  # heavy: imported only when a run really publishes
    from secscan.gitlab.settings import PublishSettings

RESULT_NAME = "secscan.json"


def write_formats(
    result: RunResult,
    names: Sequence[str],
    *,
    out_dir: Path,
    output: Path | None = None,
    report_url: str | None = None,
    skip: Sequence[Path] = (),
) -> list[tuple[str, Path]]:
    """Render each format and write it atomically (``output`` for a single format, else the
    format's file name in ``out_dir``). ``all`` is expanded against the result: it leaves out
    formats that do not apply (no DAST report without ZAP)."""
    from secscan import reporters

    result = masked(result)
    written = []
    for fmt in reporters.expand(names, result):
        target = output if output is not None else out_dir / reporters.default_filename(fmt)
        if target in skip:
            continue
        atomic_write(target, reporters.render(fmt, result, report_url=report_url))
        written.append((fmt, target))
    return written


def write_result(result: RunResult, path: Path) -> Path:

    atomic_write(path, resultio.dumps(masked(result)))
    return path


def masked(result: RunResult, env: Mapping[str, str] | None = None) -> RunResult:
    """``result`` with every operator credential masked in every text it holds (statuses, errors,
    warnings, lists of unaudited lines, findings), before any output cuts or escapes them."""
    return credentials.current(env).structure(result)


def record_verdict(result: RunResult, *, out_dir: Path, env: Mapping[str, str] | None = None) -> None:
    """Every verdict goes on the audit trail, whichever command reached it."""
    from secscan.audit import trail

    environ = os.environ if env is None else env
    trail.record_run(masked(result, environ), out_dir=out_dir, env=environ)


def write_outputs(
    result: RunResult, out_dir: Path, formats: Sequence[str], *, env: Mapping[str, str] | None = None
) -> list[Path]:
    """secscan.json, every requested format and the SHA-256 manifest, as one set; the audit entry.

    The set is written to a fresh folder inside ``out_dir`` and switched in (issue 32): a stop
    while it is written (a signal, a full disk, a kill) leaves the previous run's reports as they
    were, never a new ``secscan.json`` beside old reports that its manifest does not list. The
    verdict goes on the audit trail just before the switch, in the same section held from
    signals: reports a consumer can see always have their audit entry.
    """
    from secscan.audit import manifest

    result = masked(result, env)
    with staged_set(out_dir) as stage:
        main = write_result(result, stage.path / RESULT_NAME)
        staged = [main]
        if formats:
            staged += [path for _fmt, path in write_formats(result, formats, out_dir=stage.path, skip=(main,))]
        staged.append(manifest.write_manifest(stage.path, staged))
        with interrupts.deferred():
            record_verdict(result, out_dir=out_dir, env=env)
            # The manifest last: until it is in place, the previous one still describes the folder.
            return stage.switch([p.name for p in staged])


def publish(
    result: RunResult,
    settings: PublishSettings,
    *,
    audit_dir: Path,
    code: int,
    echo: Callable[[str, bool], None],
    env: Mapping[str, str] | None = None,
) -> int:
    """Post to the merge request and record it on the audit trail.

    Publishing never changes the verdict: it returns ``code`` unchanged, or 4 when it failed and
    was required. ``echo(text, to_stderr)`` prints.
    """
    from secscan.audit import trail
    from secscan.gitlab.publish import PublishFailed, publish_result

    environ = os.environ if env is None else env
    result = masked(result, environ)
    echo = _masking(echo, environ)
    try:
        outcome = publish_result(result, settings)
    except PublishFailed as e:
        trail.record_publish(e.outcome, result=result, out_dir=audit_dir, env=environ)
        for err in e.outcome.errors:
            echo(f"secscan: publish failed: {err}", True)
        echo(e.outcome.describe(), True)
        return _failed(settings.require, code, echo)
    except PublishError as e:
        echo(f"secscan: publish failed: {e.message}", True)
        return _failed(settings.require, code, echo)
    trail.record_publish(outcome, result=result, out_dir=audit_dir, env=environ)
    for item in outcome.planned:
        echo(item, False)
    echo(outcome.describe(), False)
    return code


def _masking(echo: Callable[[str, bool], None], env: Mapping[str, str]) -> Callable[[str, bool], None]:
    """``echo`` with the credentials masked (publish errors quote GitLab's answers)."""

    def masked_echo(text: str, to_stderr: bool) -> None:
        echo(credentials.current(env)(text), to_stderr)

    return masked_echo


def _failed(required: bool, code: int, echo: Callable[[str, bool], None]) -> int:
    if required:
        return ExitCode.PUBLISH_FAILED
    echo("secscan: publishing is not required (--require-publish not given): the exit code is the verdict's", True)
    return code
