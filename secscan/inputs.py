"""Inputs first: everything that decides a verdict, read and validated once, before any scanner
starts.

:func:`read_scan_inputs` turns the command line, the environment and the project's settings into
one frozen :class:`Inputs`: the effective settings, the loaded policy, suppressions, baseline, ZAP
rule config, the diff against the diff base, and a checked output folder. Later stages get these
values and never open those files again, so a malformed file fails in well under a second
(exit 2, one line) instead of after minutes of scanning, and an unwritable ``--out`` is found
before the verdict could be lost.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import tempfile
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from secscan import cache, config, files, testcode
from secscan import trusted as trust
from secscan.config import ScanConfig
from secscan.errors import ConfigError
from secscan.gitutil import merge_base
from secscan.models import (
    JUDGED_WITH_VERSION,
    PENDING_SETTINGS,
    JudgedWith,
    RecordedFile,
    RecordedPolicy,
    RunResult,
    SettingOrigin,
)
from secscan.policy import Policy, digest, from_dict, load_policy, to_dict
from secscan.settings import Effective, Layer
from secscan.settings.defaults import is_remote_semgrep_config
from secscan.settings.layers import SETTINGS_FILES, read_file_settings, settings_table
from secscan.triage import suppressions as sup
from secscan.triage.baseline import Baseline
from secscan.triage.diff import DiffInfo
from secscan.trusted import TrustedBase

if TYPE_CHECKING:
    from secscan.zap.baseline_conf import BaselineConfig  # loaded only by a run with ZAP

DEFAULT_SUPPRESSIONS = Path(".secscan") / "suppressions.toml"


@dataclass(frozen=True, kw_only=True)
class TriageInputs:
    """What triage and the gate need, loaded: shared by ``scan``, ``import`` and ``gate``."""

    policy: Policy
    """The gate policy, with any --fail-closed/--fail-open override applied."""
    suppressions: tuple[sup.Rule, ...] = ()
    """The entries that apply, then (marked ``pending``) the ones the merge request adds: those
    apply once merged, and are said on the findings they would suppress."""
    suppressions_origin: str | None = None
    baseline: Baseline | None = None
    baseline_origin: str | None = None
    diff: DiffInfo | None = None
    """The diff against --diff-base (None: no diff-aware mode)."""
    diff_base: str | None = None
    excludes: tuple[str, ...] = ()
    """The scan's excludes: baseline entries in files no scanner looked at are not "fixed"."""
    today: date
    """Injected so expiry checks are testable."""
    test_paths: tuple[str, ...] = testcode.DEFAULT_TEST_PATHS
    """Globs of test code (findings there are tagged, see secscan.testcode)."""
    production_only_rules: tuple[str, ...] = testcode.DEFAULT_PRODUCTION_ONLY_RULES
    """Rules not reported in test code."""
    judged_with: JudgedWith | None = None
    """What the above were resolved to, with origins and digests: recorded in the result."""


@dataclass(frozen=True, kw_only=True)
class Resolved:
    """What every command that judges findings resolves the same way (:func:`resolve`)."""

    cfg: ScanConfig
    """The effective settings: defaults < settings file (at the merge base) < env < flags."""
    settings: Effective
    """Each setting's value and the layer it came from (``secscan config show``)."""
    pending: Mapping[str, Any]
    """Settings the merge request changes in its settings file: key -> the head's value (None:
    removed). They apply once merged."""
    triage: TriageInputs
    warnings: tuple[str, ...] = ()
    """Unknown SECSCAN_* variables, and the merge request's changes to what decides the verdict
    (pending: they apply once merged)."""


@dataclass(frozen=True, kw_only=True)
class Inputs:
    """Everything one ``secscan scan`` needs, read once."""

    cfg: ScanConfig
    triage: TriageInputs
    scanners: tuple[str, ...]
    """The scanners that will run, in registry order."""
    out_dir: Path
    """The checked, writable output folder (absolute)."""
    formats: tuple[str, ...]
    """Validated report format names (``all`` kept: it is expanded against the result)."""
    zap_config: tuple[str, BaselineConfig] | None = None
    """The ZAP rule config's text and parsed form, when ZAP runs."""
    changed_files: tuple[str, ...] | None = None
    """With --changed-only: the changed paths (scanners keep the ones relevant to them)."""
    warnings: tuple[str, ...] = ()
    """Found while reading inputs (unknown SECSCAN_* variables, suppressions near expiry...)."""


def _existing_file(path: Path | None, label: str) -> None:
    if path is not None and not path.is_file():
        raise ConfigError(f"{label} file {path} does not exist")


def read_triage_inputs(
    *,
    root: Path | None,
    policy: Path | None = None,
    fail_closed: bool | None = None,
    suppressions: Path | None = None,
    baseline: Path | None = None,
    diff_base: str | None = None,
    today: date | None = None,
    default_suppressions: bool = True,
    test_paths: tuple[str, ...] = testcode.DEFAULT_TEST_PATHS,
    production_only_rules: tuple[str, ...] = testcode.DEFAULT_PRODUCTION_ONLY_RULES,
    excludes: tuple[str, ...] = (),
    origins: Mapping[str, str] | None = None,
    settings_origin: tuple[SettingOrigin, ...] = (),
) -> TriageInputs:
    """Load the policy, suppressions, baseline and diff (each ConfigError/InputError is exit 2).

    ``default_suppressions``: look for ``.secscan/suppressions.toml`` in ``root`` when no file is
    named (off when the trusted side has already said which file applies). ``origins``: how to
    name the policy, suppressions and baseline files in the record (their merge-base path
    rather than the private copy read)."""
    from secscan.triage import baseline as baseline_mod

    for label, path in (("policy", policy), ("baseline", baseline), ("suppressions", suppressions)):
        _existing_file(path, label)
    pol = load_policy(policy)
    if fail_closed is not None:
        pol = replace(pol, fail_closed=fail_closed)
    sup_path = suppressions
    if sup_path is None and default_suppressions and root is not None and (root / DEFAULT_SUPPRESSIONS).is_file():
        sup_path = root / DEFAULT_SUPPRESSIONS
    rules = sup.load_rules(sup_path) if sup_path is not None else ()
    base = baseline_mod.load(baseline) if baseline is not None else None
    diff = None
    if diff_base:
        if root is None:
            raise ConfigError("--diff-base needs the scanned source tree (--root)")
        from secscan.triage.diff import diff_info

        diff = diff_info(root, diff_base)
    named = _Origins(root=root, given=origins or {})
    record = JudgedWith(
        policy=RecordedPolicy(
            name=pol.name, origin=named.of("policy", policy), sha256=digest(pol), definition=to_dict(pol)
        ),
        suppressions=_recorded(sup_path, named.of("suppressions", sup_path)),
        baseline=_recorded(baseline, named.of("baseline", baseline)),
        test_paths=test_paths,
        production_only_rules=production_only_rules,
        excludes=excludes,
        diff_base=diff_base or None,
        settings_origin=settings_origin,
    )
    return TriageInputs(
        policy=pol,
        suppressions=rules,
        suppressions_origin=record.suppressions.origin if record.suppressions else None,
        baseline=base,
        baseline_origin=record.baseline.origin if record.baseline else None,
        diff=diff,
        diff_base=diff_base,
        excludes=excludes,
        today=today or datetime.now(UTC).date(),
        test_paths=test_paths,
        production_only_rules=production_only_rules,
        judged_with=record,
    )


@dataclass(frozen=True, kw_only=True)
class _Origins:
    """How a verdict-deciding file is named in the record: what the trusted resolver said (its
    merge-base path), else its path relative to the tree, else as given."""

    root: Path | None
    given: Mapping[str, str]

    def of(self, key: str, path: Path | None) -> str:
        if key in self.given:
            return self.given[key]
        if path is None:
            return "builtin"
        rel = trust.inside(path, self.root) if self.root is not None else None
        return rel if rel else str(path)


def _recorded(path: Path | None, origin: str) -> RecordedFile | None:
    """The file's digest, read after it loaded (so it exists and is a file)."""
    if path is None:
        return None
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{origin}: cannot read: {e.strerror or e}") from None
    return RecordedFile(origin=origin, sha256=hashlib.sha256(data).hexdigest())


@dataclass(frozen=True, kw_only=True)
class GatePolicy:
    """The policy ``gate`` judges a result with, and where it came from."""

    policy: Policy
    origin: str
    """``recorded in the result``, ``set by the operator`` (...), or ``the shipped default``."""
    recorded: RecordedPolicy
    """The policy as the gated result records it (it is what judged the verdict)."""


def _with_fail_closed(pol: Policy, fail_closed: bool | None) -> Policy:
    return pol if fail_closed is None else replace(pol, fail_closed=fail_closed)


def _record_policy(pol: Policy, origin: str) -> RecordedPolicy:
    return RecordedPolicy(name=pol.name, origin=origin, sha256=digest(pol), definition=to_dict(pol))


def _recorded_policy(recorded: RecordedPolicy, version: int) -> Policy:
    """The policy a result records, checked: a record this secscan does not understand, or whose
    definition does not match its digest, is refused rather than half-applied (exit 2)."""

    if version != JUDGED_WITH_VERSION:
        raise ConfigError(
            f"the result's judged_with version {version} is not understood by this secscan "
            f"(version {JUDGED_WITH_VERSION}); gate it with the secscan that wrote it, or name a policy with --policy"
        )
    pol = from_dict(recorded.definition, origin=f"{recorded.origin} (recorded in the result)")
    if digest(pol) != recorded.sha256:
        raise ConfigError(f"the recorded policy {recorded.name!r} does not match its sha256 digest; refusing it")
    return pol


def operator_policy(path: Path | None) -> Policy | None:
    """The policy file the operator named (``--policy``, a non-empty ``SECSCAN_POLICY``), loaded
    first: a bad one is exit 2 before a (possibly large) result is read."""
    if path is None:
        return None
    _existing_file(path, "policy")
    return load_policy(path)


def gate_policy(result: RunResult, *, operator: Policy | None, fail_closed: bool | None) -> GatePolicy:
    """The operator's policy when given, else the one the result was resolved with (the
    project's, read at the merge base by the scan jobs), else the shipped default.
    ``fail_closed`` overrides any of them."""
    recorded = result.judged_with
    if operator is not None:
        pol = _with_fail_closed(operator, fail_closed)
        origin = "set by the operator"
        if recorded is not None and recorded.policy.sha256 != digest(pol):
            origin += f", not the recorded {recorded.policy.name}"
        return GatePolicy(policy=pol, origin=origin, recorded=_record_policy(pol, f"{operator.source} (operator)"))
    if recorded is None:
        pol = _with_fail_closed(load_policy(None), fail_closed)
        return GatePolicy(policy=pol, origin="the shipped default", recorded=_record_policy(pol, "builtin"))
    pol = _with_fail_closed(_recorded_policy(recorded.policy, recorded.version), fail_closed)
    return GatePolicy(policy=pol, origin="recorded in the result", recorded=_record_policy(pol, recorded.policy.origin))


def check_out_dir(out_dir: Path, *, tree: Path | None = None) -> Path:
    """Prove ``out_dir`` writable (it is created when the first file is written), before any
    work starts.

    A folder of the scanned tree that is a symlink is refused: a merge request could commit
    ``secscan-out -> /somewhere`` and make secscan write outside the tree.
    """
    out = out_dir if out_dir.is_absolute() else Path.cwd() / out_dir
    out = Path(os.path.normpath(out))
    root = tree.resolve() if tree is not None else None
    _refuse_links_in_tree(out_dir, out, root)
    if out.exists() and not out.is_dir():
        raise ConfigError(f"output folder {out_dir} is not a directory")
    _prove_writable(out_dir, out)
    return out


def _refuse_links_in_tree(out_dir: Path, out: Path, root: Path | None) -> None:
    """A symlink inside the scanned tree on the way to ``out``, or in it, is refused."""
    for probe in (out, *out.parents):
        if probe.is_symlink() and root is not None and Path(os.path.normpath(probe)).is_relative_to(root):
            raise ConfigError(f"output folder {out_dir}: {probe} is a symlink inside the scanned tree; refusing")
    if root is not None and out.is_dir() and out.is_relative_to(root):
        # Reports, the manifest and the audit log are written into it: a committed
        # secscan-out/secscan-audit.jsonl -> ~/.ssh/authorized_keys must not be followed.
        links = sorted(p.name for p in out.iterdir() if p.is_symlink())
        if links:
            raise ConfigError(f"output folder {out_dir}: {links[0]} is a symlink inside the scanned tree; refusing")


def _prove_writable(out_dir: Path, out: Path) -> None:
    """Prove it writable without leaving anything behind when a later check fails: probe the
    folder itself, or the nearest existing folder it will be created in."""
    existing = out
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"output folder {out_dir}: {existing} is not a directory")
    try:
        fd, name = tempfile.mkstemp(prefix=".secscan-probe-", dir=existing)
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)
    except OSError as e:
        raise ConfigError(f"output folder {out_dir} is not writable: {e.strerror or e}") from None


# Settings naming files or folders whose content decides the verdict.
_FILE_SETTINGS = ("policy", "suppressions", "baseline", "zap_config", "advisory_db", "zap_context")


@dataclass(frozen=True, kw_only=True)
class _FileLayer:
    """The settings file that applies, and the merge request's changes to it."""

    table: Mapping[str, Any]
    origin: str | None
    pending: tuple[str, ...] = ()
    changes: Mapping[str, Any] | None = None


def _trusted_file_layer(trusted: TrustedBase, target: Path) -> _FileLayer:
    """The settings table at the merge base, and what the head changes in it."""
    base_raw: dict[str, Any] = {}
    base_origin = None
    for name in SETTINGS_FILES:
        text = trusted.text(name)
        if text is None:
            continue
        try:
            table = settings_table(tomllib.loads(text), name)
        except tomllib.TOMLDecodeError:
            table = None  # a broken file at the base: nothing there applies
        if table is not None:
            base_raw, base_origin = table, f"{name} at {trusted.sha[:12]} (merge base)"
            break
    try:
        head_raw, head_origin = read_file_settings(target)
    except ConfigError as e:
        # The head's file does not decide anything here: broken, it is only a pending change.
        return _FileLayer(table=base_raw, origin=base_origin, pending=(f"{PENDING_SETTINGS}{e.message}",))
    changed = sorted(k for k in set(base_raw) | set(head_raw) if base_raw.get(k) != head_raw.get(k))
    if not changed:
        return _FileLayer(table=base_raw, origin=base_origin)
    where = head_origin or base_origin or "settings"
    said = f"{PENDING_SETTINGS}{Path(where.split(' at ')[0]).name}: {', '.join(changed)}"
    return _FileLayer(
        table=base_raw, origin=base_origin, pending=(said,), changes={k: head_raw.get(k) for k in changed}
    )


_PENDING_WHY = {
    "suppressions": (
        ": its entries added here suppress nothing in this merge request; the target branch's file"
        " decides. Land the entry through review (the .secscan/ code owners approve it) and the next"
        " pipeline applies it (README: Suppressing a finding)"
    ),
}
"""Why a pending change does not apply yet, for the files a developer changes to get past the gate."""


def _trusted_paths(cfg: ScanConfig, trusted: TrustedBase) -> tuple[ScanConfig, list[str], dict[str, str]]:
    """Every verdict-deciding file inside the tree, replaced by its merge-base copy; the
    pending changes, and the name each copy goes by in the record (its path at the base)."""
    root = trusted.root
    changes: dict[str, Any] = {}
    pending: list[str] = []
    origins: dict[str, str] = {}

    def swap(value: Path | str, label: str) -> Path | None:
        rel = trust.inside(Path(value), root)
        if rel is None:
            return Path(value)  # the operator's own file, outside the tree
        if trust.differs(trusted, rel):
            pending.append(f"{PENDING_SETTINGS}{label} {rel}{_PENDING_WHY.get(label, '')}")
        origins[label] = f"{rel} at {trusted.sha[:12]} (merge base)"
        return trusted.materialize(rel)

    for key in _FILE_SETTINGS:
        value = getattr(cfg, key)
        if value is not None:
            changes[key] = swap(value, key.replace("_", " "))
    if cfg.suppressions is None:
        changes["suppressions"] = swap(root / DEFAULT_SUPPRESSIONS, "suppressions")
    rules = (r if is_remote_semgrep_config(r) else swap(r, "semgrep rules") for r in cfg.semgrep_rules)
    changes["semgrep_rules"] = tuple(str(r) for r in rules if r is not None)
    # zap-2 (issue 22): an API definition in the tree decides which operations ZAP attacks.
    definition = cfg.zap_api_definition
    if definition and not definition.startswith(("http://", "https://")):
        copy = swap(definition, "ZAP API definition")
        if copy is None:
            raise ConfigError(f"ZAP API definition {definition} does not exist at the merge base")
        changes["zap_api_definition"] = str(copy)
    return replace(cfg, **changes), pending, origins


def _check_cache_dir(cfg: ScanConfig) -> None:
    """A result cache committed in the tree would be poisoning: entries saying "no findings" for
    the merge request's files. A cache folder inside the tree must not hold tracked files."""

    where = cfg.cache_dir or cache.default_dir()
    rel = trust.inside(where, cfg.target)
    if rel is None:
        return
    out = subprocess.run(
        ["git", "-C", str(cfg.target), "ls-files", "--", f"./{rel}" if rel else "."],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    if out.returncode == 0 and out.stdout.strip():
        raise ConfigError(f"cache folder {rel or '.'} holds files committed to the repository; refusing to use it")


def _ci_diff_base(flags: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """In a merge request pipeline the diff base is GitLab's, unless the operator named one."""
    out = dict(flags)
    if "diff_base" not in out and not env.get("SECSCAN_DIFF_BASE") and env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA"):
        out["diff_base"] = env["CI_MERGE_REQUEST_DIFF_BASE_SHA"]
    return out


def resolve(
    target: Path,
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    today: date | None = None,
    scratch: Path | None = None,
) -> Resolved:
    """The one trusted resolver: settings, policy, suppressions, baseline, test paths,
    production-only rules, excludes and the diff, for every command that judges findings
    (``scan``, ``import``), so they cannot differ in what decides a verdict.

    With a diff base (a merge request, ``--diff-base``, the pre-push hook) and a ``scratch``
    folder, what decides the verdict comes from the merge-base commit (:mod:`secscan.trusted`);
    the head's changes to it are reported as pending. Operator settings (environment, flags)
    still win over both. The copies in ``scratch`` are read before this returns, except the
    files later stages read themselves (rules, ZAP config): keep it for the run."""
    flags = _ci_diff_base(flags, env)
    target = Path(target)
    if not target.is_dir():
        raise ConfigError(f"scan target {target} is not a directory")
    diff_base = flags.get("diff_base") or env.get("SECSCAN_DIFF_BASE", "").strip()
    trusted = None
    if diff_base and scratch is not None:
        trusted = TrustedBase(root=target.resolve(), sha=merge_base(target, str(diff_base)), store=scratch)
        file = _trusted_file_layer(trusted, target)
    else:
        table, origin = read_file_settings(target)
        file = _FileLayer(table=table, origin=origin)
    layers = config.Layers(
        file=file.table,
        file_origin=file.origin,
        file_layer=Layer.FILE if trusted is None else Layer.FILE_BASE,
        env=env,
        flags=flags,
    )
    cfg, effective = config.resolve(target, layers)
    pending = list(file.pending)
    origins: dict[str, str] = {}
    head_suppressions = None
    if trusted is not None:
        head_suppressions = trust.inside(Path(cfg.suppressions or trusted.root / DEFAULT_SUPPRESSIONS), trusted.root)
        cfg, changed_files, origins = _trusted_paths(cfg, trusted)
        pending += changed_files
    triage = read_triage_inputs(
        root=cfg.target,
        policy=cfg.policy,
        fail_closed=cfg.fail_closed,
        suppressions=cfg.suppressions,
        baseline=cfg.baseline,
        diff_base=cfg.diff_base,
        today=today,
        default_suppressions=trusted is None,
        test_paths=cfg.test_paths,
        production_only_rules=cfg.production_only_rules,
        excludes=cfg.exclude,
        origins=origins,
        settings_origin=settings_origin(effective),
    )
    if trusted is not None and head_suppressions:
        added = sup.added_rules(_head_rules(trusted.root, head_suppressions), triage.suppressions)
        triage = replace(triage, suppressions=(*triage.suppressions, *added))
    return Resolved(
        cfg=cfg,
        settings=effective,
        pending=file.changes or {},
        triage=triage,
        warnings=config.env_warnings(env) + tuple(pending),
    )


_HEAD_SUPPRESSIONS_MAX_BYTES = 256 * 1024
_HEAD_SUPPRESSIONS_MAX_ENTRIES = 200
"""The merge request's own suppressions file is only said on findings: past these (a file written
to slow the gate down: each entry is matched against every finding), it says nothing."""


def _head_rules(root: Path, rel: str) -> tuple[sup.Rule, ...]:
    """The merge request's own suppressions file (untrusted: read inside the tree only, never
    applied). Broken, absent or too big, it has no entry to say pending: its change is listed anyway."""
    text = files.text_of(root, rel)
    if text is None or len(text.encode("utf-8", errors="replace")) > _HEAD_SUPPRESSIONS_MAX_BYTES:
        return ()
    try:
        data = tomllib.loads(text)
        entries = data.get("suppression")
        if isinstance(entries, list) and len(entries) > _HEAD_SUPPRESSIONS_MAX_ENTRIES:
            return ()
        return sup.parse_rules(data, origin=rel)
    except (tomllib.TOMLDecodeError, ConfigError, RecursionError):
        return ()  # RecursionError: nesting deep enough to exhaust the parser's stack


def settings_origin(effective: Effective) -> tuple[SettingOrigin, ...]:
    """What the result records: each setting some layer set, with that layer (values stay out:
    a URL may carry credentials; what decides the verdict is recorded with its digest above)."""
    tables = {k for k, s in config.SPECS.items() if s.is_table}  # recorded item by item: timeouts.zap
    return tuple(
        SettingOrigin(key=key, layer=got.layer.value, where=got.where)
        for key, got in effective.values.items()
        if got.layer is not Layer.DEFAULT and key not in tables
    )


def _check_scan_files(cfg: ScanConfig, scanners: tuple[str, ...]) -> tuple[str, BaselineConfig] | None:
    """Inputs the user named must exist now, not after minutes of scanning (exit 2, not 3); the
    ZAP rule config, loaded, when ZAP runs."""
    for req in cfg.requirements:
        if not (cfg.target / req).is_file():
            raise ConfigError(f"requirements file {req!r} not found under {cfg.target}")
    for rules in cfg.semgrep_rules:
        if not is_remote_semgrep_config(rules) and not Path(rules).exists():
            raise ConfigError(f"semgrep rule file {rules!r} does not exist")
    zap_conf = None
    if "zap" in scanners or cfg.zap_config is not None:
        from secscan.zap import baseline_conf

        _existing_file(cfg.zap_config, "ZAP rule config")
        zap_conf = baseline_conf.load(cfg.zap_config or baseline_conf.default_path())
    if cfg.advisory_db is not None and "pip-audit" in scanners and not cfg.advisory_db.exists():
        raise ConfigError(f"advisory database {cfg.advisory_db} does not exist")
    if cfg.secrets_history and "detect-secrets" in scanners:
        merge_base(cfg.target, cfg.secrets_history)  # a bad --secrets-history REF is exit 2 now
    return zap_conf


def read_scan_inputs(
    target: Path,
    flags: Mapping[str, Any],
    *,
    env: Mapping[str, str],
    today: date | None = None,
    scratch: Path | None = None,
) -> Inputs:
    """Settings, policy, suppressions, baseline, rules, ZAP config, requirements, diff and the
    output folder: all read and checked here, in well under a second on any tree.

    What decides the verdict is :func:`resolve`'s (the same for ``import``); the rest is what only
    a live scan needs."""
    from secscan import reporters
    from secscan.scanners import registry

    resolved = resolve(target, flags, env=env, today=today, scratch=scratch)
    cfg = resolved.cfg
    scanners = cfg.selected_scanners()
    if not scanners:
        raise ConfigError("no scanner selected (check --only/--skip)")
    formats = cfg.formats
    if formats:
        reporters.expand(formats)  # an unknown --format is a usage error now
    zap_conf = _check_scan_files(cfg, scanners)
    out_dir = check_out_dir(cfg.out_dir, tree=cfg.target)
    if cfg.cache:
        _check_cache_dir(cfg)
    triage = resolved.triage
    changed = triage.diff.changed_paths() if triage.diff is not None and cfg.changed_only else None
    registry.names()  # the registry is loaded here, not in a scanner thread
    return Inputs(
        cfg=cfg,
        triage=triage,
        scanners=scanners,
        out_dir=out_dir,
        formats=formats,
        zap_config=zap_conf,
        changed_files=changed,
        warnings=resolved.warnings,
    )
