"""The ZAP backend: OWASP ZAP's passive baseline scan against ``cfg.zap_target``.

Order matters for fast, clear failures: validate the URL, the pass-through options and the
rule config; check that the target answers; only then start ZAP (in a container, or directly
when ``zap-baseline.py`` is on PATH). zap-baseline's exit codes 0 (pass), 1 (FAIL rules hit)
and 2 (WARN rules hit) are all a successful scan with findings: secscan's own policy gates
them. 3 (or anything else) is a scanner failure reported with the tail of ZAP's log.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path

from secscan.config import ScanConfig
from secscan.errors import ConfigError, SecscanError
from secscan.models import Finding, Kind, ScannerState, ScannerStatus
from secscan.scanners import zap_report
from secscan.scanners.base import (
    Parsed,
    RunContext,
    Scanner,
    ScanOutcome,
    ToolMissing,
    ToolTimeout,
    failed_outcome,
    tail,
)
from secscan.sourcefiles import SourceTree
from secscan.zap import baseline_conf
from secscan.zap.baseline_conf import BaselineConfig
from secscan.zap.job import SCRIPT, ZapJob, split_options
from secscan.zap.runner import ZapRun, ZapRunner
from secscan.zap.target import check_reachable, host_port

SUCCESS_CODES = (0, 1, 2)
LEVEL_TAG = "zap-level:"
"""Findings carry ``zap-level:FAIL|WARN|INFO`` from the rule config (what zap-baseline said)."""


def select_runner(cfg: ScanConfig, env: Mapping[str, str]) -> ZapRunner:
    """Local mode when zap-baseline.py is on PATH, else Docker. SECSCAN_ZAP_MODE=docker|local forces one."""
    from secscan.zap.docker_runner import DockerRunner
    from secscan.zap.local_runner import LocalRunner

    forced = (env.get("SECSCAN_ZAP_MODE") or "").strip().lower()
    if forced not in ("", "auto", "docker", "local"):
        raise SecscanError(f"SECSCAN_ZAP_MODE={forced!r}: expected docker, local or auto")
    local = shutil.which(SCRIPT, path=env.get("PATH"))
    if forced == "local" and local is None:
        raise ToolMissing(f"SECSCAN_ZAP_MODE=local but {SCRIPT} is not on PATH")
    if local is not None and forced != "docker":
        return LocalRunner(executable=local, env=env)
    return DockerRunner(image=cfg.zap_image, pull=cfg.zap_pull, env=env)


def build_job(cfg: ScanConfig, target: str) -> ZapJob:
    host_port(target)  # ConfigError for a URL zap-baseline would refuse
    return ZapJob(target=target, minutes=max(1, cfg.zap_minutes), options=split_options(cfg.zap_options))


def apply_levels(findings: list[Finding], conf: BaselineConfig) -> tuple[list[Finding], tuple[str, ...]]:
    """Tag findings with their configured level; leave out rules set to IGNORE (with a warning).

    ZAP's reports contain every alert whatever the rule config says; IGNORE in the config means
    "not relevant for this application", the same as not enabling a semgrep rule.
    """
    ignored = conf.ignored()
    kept: list[Finding] = []
    dropped: dict[str, int] = {}
    for f in findings:
        plugin = next((i.value for i in f.identifiers if i.type == "zap_plugin"), f.rule_id.split("-")[0])
        if plugin in ignored:
            dropped[plugin] = dropped.get(plugin, 0) + 1
            continue
        kept.append(replace(f, tags=(*f.tags, LEVEL_TAG + conf.level_of(plugin))))
    warnings: tuple[str, ...] = ()
    if dropped:
        rules = ", ".join(f"{pid} ({n})" for pid, n in sorted(dropped.items()))
        warnings = (f"zap: left out alerts of rules set to IGNORE in the ZAP rule config: {rules}",)
    return kept, warnings


def read_report(wrk: Path, job: ZapJob) -> tuple[list[Finding], str | None]:
    """Findings from the JSON report (the XML one if the JSON is missing) and ZAP's version."""
    for name, parse in ((job.json_report, zap_report.parse_json), (job.xml_report, zap_report.parse_xml)):
        path = wrk / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SecscanError(f"cannot read ZAP report {name}: {e}") from e
        return parse(text), zap_report.report_version(text)
    raise SecscanError("ZAP wrote no report")


def _state_for(e: SecscanError) -> ScannerState:
    if isinstance(e, ToolTimeout):
        return ScannerState.TIMEOUT
    if isinstance(e, ToolMissing):
        return ScannerState.NOT_INSTALLED
    return ScannerState.FAILED


class ZapScanner(Scanner):
    name = "zap"
    kinds = frozenset({Kind.DAST})
    default_timeout = 1800.0
    description = "OWASP ZAP baseline scan of a running deployment"
    scans_files = False
    needs_deployment = True

    @classmethod
    def enabled_by_default(cls, cfg: ScanConfig) -> bool:
        return bool(cfg.zap_target)

    @classmethod
    def check_selected(cls, cfg: ScanConfig) -> None:
        if not cfg.zap_target:
            raise ConfigError("--only zap needs --zap-target URL")

    @classmethod
    def relevant(cls, path: str) -> bool:
        return False  # a deployment, not files: a diff says nothing about it

    @classmethod
    def parse_report(cls, text: str, *, tree: SourceTree, origin: str, manifest: str | None = None) -> Parsed:
        return Parsed(findings=tuple(zap_report.parse(text)), version=zap_report.report_version(text))

    def __init__(self, *, env: Mapping[str, str] | None = None) -> None:
        self.env = dict(os.environ if env is None else env)

    def run(self, cfg: ScanConfig, ctx: RunContext) -> ScanOutcome:
        started = time.monotonic()
        if not cfg.zap_target:
            return ScanOutcome(
                status=ScannerStatus(name=self.name, state=ScannerState.SKIPPED, error="no ZAP target URL")
            )
        job: ZapJob | None = None
        try:
            job = build_job(cfg, cfg.zap_target)
            conf_text, conf = ctx.zap_config or baseline_conf.load(cfg.zap_config or baseline_conf.default_path())
            check_reachable(cfg.zap_target)
            runner = select_runner(cfg, self.env)
            wrk = runner.workdir(ctx.workdir)
            self._prepare(wrk, job, conf_text)
            try:
                remaining = cfg.timeout_for("zap") - (time.monotonic() - started)
                try:
                    zrun = runner.run(
                        job,
                        wrk=wrk,
                        timeout=max(remaining, 0.0),
                        cancel=ctx.cancel,
                        progress=lambda msg: ctx.events(self.name, msg),
                    )
                except ToolTimeout as e:
                    # Name the configured limit, not what was left of it when ZAP started.
                    how = "its container was removed" if runner.mode == "docker" else "zap-baseline.py was killed"
                    raise ToolTimeout(f"ZAP exceeded its time limit of {cfg.timeout_for('zap'):g}s; {how}") from e
                return self._outcome(zrun, wrk, job, conf, started)
            finally:
                if runner.mode == "local":
                    self._cleanup(wrk, job)
        except SecscanError as e:
            return ScanOutcome(
                status=ScannerStatus(
                    name=self.name,
                    state=_state_for(e),
                    error=e.message,
                    duration_s=time.monotonic() - started,
                    command=job.display_argv() if job is not None else (),
                )
            )

    @staticmethod
    def _prepare(wrk: Path, job: ZapJob, conf_text: str) -> None:
        # Stale reports from an earlier run in the same directory must never be read back.
        for name in (job.json_report, job.xml_report):
            (wrk / name).unlink(missing_ok=True)
        try:
            (wrk / job.config_name).write_text(conf_text, encoding="utf-8")
        except OSError as e:
            raise SecscanError(f"cannot write the ZAP rule config into {wrk}: {e.strerror or e}") from e

    @staticmethod
    def _cleanup(wrk: Path, job: ZapJob) -> None:
        """Local mode shares /zap/wrk with the user's own files: remove only ours."""
        for name in job.files():
            with contextlib.suppress(OSError):
                (wrk / name).unlink(missing_ok=True)

    def _outcome(self, zrun: ZapRun, wrk: Path, job: ZapJob, conf: BaselineConfig, started: float) -> ScanOutcome:
        duration = time.monotonic() - started
        if zrun.exit_code not in SUCCESS_CODES:
            last = tail(zrun.log, lines=3) or "no output"
            return failed_outcome(
                self.name,
                ScannerState.FAILED,
                f"ZAP baseline failed (exit {zrun.exit_code}): {last}",
                duration_s=duration,
            )
        try:
            findings, version = read_report(wrk, job)
        except SecscanError as e:
            last = tail(zrun.log, lines=2) or "no output"
            return failed_outcome(
                self.name,
                ScannerState.FAILED,
                f"ZAP exited {zrun.exit_code} but its report is unusable: {e.message} ({last})",
                duration_s=duration,
            )
        kept, warnings = apply_levels(findings, conf)
        return ScanOutcome(
            status=ScannerStatus(
                name=self.name,
                state=ScannerState.OK,
                version=version,
                duration_s=duration,
                findings=len(kept),
                command=job.display_argv(),
            ),
            findings=tuple(kept),
            warnings=warnings,
        )
