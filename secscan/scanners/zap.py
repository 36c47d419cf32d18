"""The ZAP backend: one of ZAP's packaged scans against ``cfg.zap_target``: the passive
baseline, an API scan from a definition, or a full (active) scan (see secscan.zap.job).

Order matters for fast, clear failures: validate the URL, the mode, the API definition, the
authentication settings, the pass-through options and the rule config; check that the target
answers; only then start ZAP (in a container, or directly when the script is on PATH). The
scripts' exit codes 0 (pass), 1 (FAIL rules hit) and 2 (WARN rules hit) are all a successful
scan with findings: secscan's own policy gates them. 3 (or anything else) is a scanner failure
reported with the tail of ZAP's log.

Nothing is left behind: a watchdog (secscan.zap.reaper) started before anything is created
removes the container and the scratch folder if secscan dies; an auth header's value is
masked in the log, the findings and every message.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

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
from secscan.zap import api_definition, auth, baseline_conf
from secscan.zap import settings as zap_settings
from secscan.zap.baseline_conf import BaselineConfig
from secscan.zap.job import SCRIPTS, ZapJob, split_options
from secscan.zap.reaper import Reaper
from secscan.zap.runner import ZapRun, ZapRunner
from secscan.zap.target import check_reachable, host_port

if TYPE_CHECKING:
    from secscan.config import ScanConfig  # an annotation only: the configuration is above the plugins

SUCCESS_CODES = (0, 1, 2)
LEVEL_TAG = "zap-level:"
"""Findings carry ``zap-level:FAIL|WARN|INFO`` from the rule config (what zap-baseline said)."""


RUNNER_ENV = "SECSCAN_ZAP_RUNNER"
"""``docker`` or ``local`` forces how ZAP runs (SECSCAN_ZAP_MODE is the scan mode setting)."""
CONTEXT_NAME = "secscan-zap.context"


def select_runner(cfg: ScanConfig, env: Mapping[str, str]) -> ZapRunner:
    """Local mode when the mode's script is on PATH, else Docker. SECSCAN_ZAP_RUNNER=docker|local forces one."""
    from secscan.zap.docker_runner import DockerRunner
    from secscan.zap.local_runner import LocalRunner

    script = SCRIPTS[zap_settings.mode_of(cfg)]
    forced = (env.get(RUNNER_ENV) or "").strip().lower()
    if forced not in ("", "auto", "docker", "local"):
        raise SecscanError(f"{RUNNER_ENV}={forced!r}: expected docker, local or auto")
    local = shutil.which(script, path=env.get("PATH"))
    if forced == "local" and local is None:
        raise ToolMissing(f"{RUNNER_ENV}=local but {script} is not on PATH")
    if local is not None and forced != "docker":
        return LocalRunner(executable=local, env=env)
    return DockerRunner(image=cfg.zap_image, pull=cfg.zap_pull, env=env)


def build_job(cfg: ScanConfig, target: str) -> ZapJob:
    host_port(target)  # ConfigError for a URL the scripts would refuse
    mode = zap_settings.mode_of(cfg)
    definition = (
        api_definition.resolve(cfg.zap_api_definition, explicit_format=cfg.zap_api_format)
        if mode == "api" and cfg.zap_api_definition
        else None
    )
    return ZapJob(
        target=target,
        mode=mode,
        minutes=zap_settings.minutes_of(cfg),
        api_format=definition.format if definition else None,
        api_definition=definition.argument if definition else None,
        context_name=CONTEXT_NAME if cfg.zap_context else None,
        context_user=cfg.zap_user if cfg.zap_context else None,
        options=split_options(cfg.zap_options, mode),
    )


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


def read_report(
    wrk: Path, job: ZapJob, *, operations: tuple[str, ...] | None = None
) -> tuple[list[Finding], str | None]:
    """Findings from the JSON report (the XML one if the JSON is missing) and ZAP's version.

    API scans (``operations`` not None) get one finding per operation and parameter, the
    operation's path taken from the definition's templates where they match."""
    for name in (job.json_report, job.xml_report):
        path = wrk / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise SecscanError(f"cannot read ZAP report {name}: {e}") from e
        if operations is not None:
            return zap_report.parse(text, per_operation=True, templates=operations), zap_report.report_version(text)
        return zap_report.parse(text), zap_report.report_version(text)
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
    description = "OWASP ZAP baseline, API or full scan of a running deployment"
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
        secrets: tuple[str, ...] = ()
        try:
            job = build_job(cfg, cfg.zap_target)
            host, _ = host_port(cfg.zap_target)
            header = auth.auth_header(cfg.zap_auth_header, cfg.zap_auth_header_env, self.env, site=host)
            secrets = (header.value,) if header is not None else ()
            conf_text, conf = ctx.zap_config or baseline_conf.load(cfg.zap_config or baseline_conf.default_path())
            inputs = self._inputs(cfg, job)
            check_reachable(cfg.zap_target)
            runner = select_runner(cfg, self.env)
            limit = zap_settings.timeout_of(cfg)
            wrk = runner.workdir(ctx.workdir)
            # The watchdog comes first: from here on something may be left behind.
            reaper = Reaper.start(
                env=self.env,
                scratch=self._scratch(ctx),
                secrets_env=(cfg.zap_auth_header_env,) if cfg.zap_auth_header_env else (),
            )
            if runner.mode == "local":
                for name in job.files():  # outside the scratch folder: named one by one
                    reaper.send(f"file {(wrk / name).resolve()}")
            try:
                self._prepare(wrk, job, conf_text, inputs)
                remaining = limit - (time.monotonic() - started)
                try:
                    zrun = runner.run(
                        job,
                        wrk=wrk,
                        timeout=max(remaining, 0.0),
                        cancel=ctx.cancel,
                        progress=lambda msg: ctx.events(self.name, msg),
                        reaper=reaper,
                        env=header.container_env() if header is not None else None,
                    )
                except ToolTimeout as e:
                    # Name the configured limit, not what was left of it when ZAP started.
                    how = "its container was removed" if runner.mode == "docker" else f"{job.script} was killed"
                    raise ToolTimeout(f"ZAP exceeded its time limit of {limit:g}s; {how}") from e
                zrun = auth.mask(zrun, secrets)
                return auth.mask(self._outcome(zrun, wrk, job, conf, started=started, cfg=cfg), secrets)
            finally:
                if runner.mode == "local":
                    self._cleanup(wrk, job)
                # Reports read, container gone: the watchdog can go (a no-op after a handoff).
                reaper.done()
        except SecscanError as e:
            return ScanOutcome(
                status=ScannerStatus(
                    name=self.name,
                    state=_state_for(e),
                    error=auth.mask(e.message, secrets),
                    duration_s=time.monotonic() - started,
                    command=job.display_argv() if job is not None else (),
                )
            )

    @staticmethod
    def _scratch(ctx: RunContext) -> Path:
        """What the watchdog removes if secscan dies: the CLI's private ``secscan-*`` folder in
        the temp folder (made for this run only: the scanners' work folder or its parent), else
        just ZAP's own work folder in it (a caller's folder is never deleted)."""

        temp = Path(tempfile.gettempdir()).resolve()
        work = ctx.workdir.resolve()
        for candidate in (work, work.parent):
            if candidate.name.startswith("secscan-") and candidate.parent == temp:
                return candidate
        return ctx.workdir / "zap-wrk"

    @staticmethod
    def _inputs(cfg: ScanConfig, job: ZapJob) -> dict[str, bytes]:
        """Files the job reads from the work directory, by their name there."""
        files: dict[str, bytes] = {}
        if job.context_name and cfg.zap_context is not None:
            files[job.context_name] = auth.load_context(cfg.zap_context, cfg.zap_user)
        if job.mode == "api" and cfg.zap_api_definition and not api_definition.is_url(cfg.zap_api_definition):
            definition = api_definition.resolve(cfg.zap_api_definition, explicit_format=cfg.zap_api_format)
            assert definition.path is not None and definition.work_name is not None
            try:
                files[definition.work_name] = definition.path.read_bytes()
            except OSError as e:
                raise SecscanError(f"cannot read ZAP API definition {definition.path}: {e.strerror or e}") from e
        return files

    @staticmethod
    def _prepare(wrk: Path, job: ZapJob, conf_text: str, inputs: Mapping[str, bytes]) -> None:
        # Stale reports from an earlier run in the same directory must never be read back.
        for name in (job.json_report, job.xml_report):
            (wrk / name).unlink(missing_ok=True)
        try:
            (wrk / job.config_name).write_text(conf_text, encoding="utf-8")
            for name, data in inputs.items():
                path = wrk / name
                path.unlink(missing_ok=True)  # never write through a planted symlink
                # Readable by ZAP's user (uid 1000) only through the private work directory.
                path.write_bytes(data)
                path.chmod(0o644)
        except OSError as e:
            raise SecscanError(f"cannot write ZAP's input files into {wrk}: {e.strerror or e}") from e

    @staticmethod
    def _operations(cfg: ScanConfig, job: ZapJob) -> tuple[str, ...] | None:
        if job.mode != "api":
            return None
        if cfg.zap_api_definition and not api_definition.is_url(cfg.zap_api_definition):
            return api_definition.operation_paths(Path(cfg.zap_api_definition))
        return ()

    @staticmethod
    def _cleanup(wrk: Path, job: ZapJob) -> None:
        """Local mode shares /zap/wrk with the user's own files: remove only ours."""
        for name in job.files():
            with contextlib.suppress(OSError):
                (wrk / name).unlink(missing_ok=True)

    def _outcome(
        self, zrun: ZapRun, wrk: Path, job: ZapJob, conf: BaselineConfig, *, started: float, cfg: ScanConfig
    ) -> ScanOutcome:
        duration = time.monotonic() - started
        if zrun.exit_code not in SUCCESS_CODES:
            last = tail(zrun.log, lines=3) or "no output"
            return failed_outcome(
                self.name,
                ScannerState.FAILED,
                f"ZAP {job.mode} failed (exit {zrun.exit_code}): {last}",
                duration_s=duration,
            )
        try:
            findings, version = read_report(wrk, job, operations=self._operations(cfg, job))
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
